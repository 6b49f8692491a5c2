import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from booking_site.gpconnect import sessions, transport
from booking_site.gpconnect.values import Patient, PracticeEndpoint

RIVERSIDE = PracticeEndpoint(
    "A20047", "Riverside Medical Practice", "http://provider-a.test/A20047/FHIR/STU3/", "0113"
)
HILLSIDE = PracticeEndpoint("B82617", "Hillside Surgery", "http://provider-b.test/B82617/FHIR/STU3")
MEANWOOD = PracticeEndpoint("B86044", "Meanwood Group Practice", "http://provider-c.test/B86044/")
# Their NHS login ID tokens: only the client's own tests look at them (the stubbed token
# endpoint there takes them as they are; tests against the sandbox use real ones).
PATIENT = Patient("9000000009", "amelia-id-token")
OTHER_PATIENT = Patient("9449305552", "oliver-id-token")
CORRELATION_ID = "page-7f3a"


class StaticCredentials:
    """Tokens without a token endpoint, so most tests only see the provider's requests."""

    def __init__(self) -> None:
        self.forgotten: list[Patient | None] = []

    async def token_for(self, patient: Patient | None, session: transport.Session) -> str:
        return "patient-token" if patient else "service-token"

    async def forget(self, patient: Patient | None) -> None:
        self.forgotten.append(patient)


class Recorder:
    """A MockTransport handler that keeps every request it was sent."""

    def __init__(self, respond: Callable) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.respond(request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        return answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def fhir_response(status: int, doc: dict | bytes | str, headers: dict | None = None):
    content = doc if isinstance(doc, bytes | str) else json.dumps(doc)
    return httpx.Response(
        status,
        content=content,
        headers={"Content-Type": "application/fhir+json;charset=utf-8", **(headers or {})},
    )


def run(respond: Callable, make_call: Callable, *, credentials=None):
    """Run ``make_call()`` (a coroutine factory) against a MockTransport answering with
    ``respond``; return (result, recorder)."""
    recorder = respond if isinstance(respond, Recorder) else Recorder(respond)

    async def main():
        async with sessions.session(
            transport=recorder.transport(), credentials=credentials or StaticCredentials()
        ):
            return await make_call()

    return asyncio.run(main()), recorder


@pytest.fixture(autouse=True)
def quick_client(settings, monkeypatch):
    """Time limits in tenths of a second and barely any backoff, so tests stay fast."""
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 0.5
    settings.GPCONNECT_DEADLINE_SECONDS = 1.0
    settings.GPCONNECT_RETRIES = 2
    settings.GPCONNECT_MAX_CONNECTIONS_PER_HOST = 20
    settings.SLOT_CACHE_TTL_SECONDS = 60
    settings.BOOKING_ORG_ODS = "X26"
    settings.BOOKING_ORG_NAME = "Book a GP appointment"
    settings.BOOKING_ORG_PHONE = "0300 311 2233"
    monkeypatch.setattr(transport, "BACKOFF_SECONDS", 0.01)
