"""The server entry points stamp each request with when it reached the process."""

import asyncio

import pytest
from django.test import RequestFactory

from gp_sandbox import arrival


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fixed_clock(monkeypatch):
    clock = FixedClock(500.25)
    monkeypatch.setattr("gp_sandbox.arrival.time", clock)
    return clock


def test_an_asgi_http_request_is_stamped_without_changing_the_servers_scope(fixed_clock):
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope)

    server_scope = {"type": "http", "path": "/"}
    asyncio.run(arrival.stamped_asgi(inner)(server_scope, None, None))

    assert seen[0][arrival.KEY] == 500.25
    assert seen[0]["path"] == "/"
    assert arrival.KEY not in server_scope


def test_other_asgi_scopes_pass_through_as_they_are(fixed_clock):
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope)

    lifespan = {"type": "lifespan"}
    asyncio.run(arrival.stamped_asgi(inner)(lifespan, None, None))

    assert seen == [lifespan]
    assert arrival.KEY not in lifespan


def test_a_request_says_when_it_arrived_from_its_scope():
    asgi_request = RequestFactory().get("/")
    asgi_request.scope = {"type": "http", arrival.KEY: 7.25}

    assert arrival.arrived(asgi_request) == 7.25


@pytest.mark.parametrize("value", [None, "12.5", 3])
def test_a_request_without_a_stamp_has_no_arrival(value):
    request = RequestFactory().get("/")
    request.scope = {"type": "http"} if value is None else {"type": "http", arrival.KEY: value}

    assert arrival.arrived(request) is None


def test_a_request_made_by_the_test_client_has_no_arrival():
    assert arrival.arrived(RequestFactory().get("/")) is None
