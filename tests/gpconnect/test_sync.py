"""Sync views call the same client: on the process's client loop over real HTTP, or, while a
test transport is installed, through async_to_sync on a loop (and session) of the call's own."""

import asyncio
import http.server
import json
import threading
import uuid
from datetime import date

import httpx
import pytest

from booking_site import gpconnect
from booking_site.gpconnect import sync, transport

from . import builders
from .conftest import CORRELATION_ID, PATIENT, RIVERSIDE, Recorder, StaticCredentials, fhir_response

MARCH = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 5))


def _provider():
    def respond(request):
        if request.method == "POST":
            return fhir_response(201, builders.appointment())
        return fhir_response(
            200, builders.slot_bundle([builders.slot("1000", "2027-03-01T09:00:00+00:00")])
        )

    return Recorder(respond)


def test_sync_calls_work_one_after_another_each_on_its_own_loop(monkeypatch):
    monkeypatch.setattr(gpconnect.SandboxCredentials, "from_settings", StaticCredentials)
    recorder = _provider()
    with transport.use_transport(recorder.transport()):
        [first] = sync.search_free_slots([RIVERSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID)
        booked = sync.book(
            RIVERSIDE,
            first.slots[0],
            PATIENT,
            gpconnect.BookingDetails("Sore knee"),
            request_id=str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
        )
        [again] = sync.search_free_slots([RIVERSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID)

    assert first.status == again.status == gpconnect.ResultStatus.SLOTS
    assert booked.id == "501"
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]


def test_sync_calls_close_their_client(monkeypatch):
    monkeypatch.setattr(gpconnect.SandboxCredentials, "from_settings", StaticCredentials)
    opened = []
    real_session = transport.Session

    class Watched(real_session):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            opened.append(self)

    monkeypatch.setattr(transport, "Session", Watched)
    with transport.use_transport(_provider().transport()):
        sync.search_free_slots([RIVERSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID)

    assert len(opened) == 1
    assert opened[0].closed


def test_sync_calls_from_several_threads_at_once(monkeypatch):
    monkeypatch.setattr(gpconnect.SandboxCredentials, "from_settings", StaticCredentials)

    async def slow(request):
        await asyncio.sleep(0.05)
        return fhir_response(200, builders.bundle(entry=False))

    results = []
    with transport.use_transport(httpx.MockTransport(slow)):

        def worker(n):
            days = gpconnect.DateRange(date(2027, 3, n), date(2027, 3, n))
            results.append(
                sync.search_free_slots([RIVERSIDE], days, PATIENT, correlation_id=f"page-{n}")
            )

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(results) == 4
    assert all(r[0].status == gpconnect.ResultStatus.NONE for r in results)


def test_async_callers_without_a_session_share_one_client_per_loop(monkeypatch):
    monkeypatch.setattr(gpconnect.SandboxCredentials, "from_settings", StaticCredentials)

    async def two_searches():
        await gpconnect.search_free_slots(
            [RIVERSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID
        )
        first = transport.current_session()
        await gpconnect.search_free_slots([RIVERSIDE], MARCH, None, correlation_id=CORRELATION_ID)
        second = transport.current_session()
        await first.aclose()
        return first is second

    with transport.use_transport(_provider().transport()):
        assert asyncio.run(two_searches())
        assert asyncio.run(two_searches())


class KeepAliveProvider(http.server.ThreadingHTTPServer):
    """A provider on a real port of 127.0.0.1, answering every slot search with one slot and
    keeping connections open (HTTP/1.1), noting the client port each request came from."""

    daemon_threads = True

    def __init__(self) -> None:
        self.client_ports: list[int] = []
        body = json.dumps(
            builders.slot_bundle([builders.slot("1000", "2027-03-01T09:00:00+00:00")])
        ).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(handler):
                self.client_ports.append(handler.client_address[1])
                handler.send_response(200)
                handler.send_header("Content-Type", "application/fhir+json;charset=utf-8")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def endpoint(self) -> gpconnect.PracticeEndpoint:
        base = f"http://127.0.0.1:{self.server_address[1]}/A20047/FHIR/STU3/"
        return gpconnect.PracticeEndpoint("A20047", "Riverside Medical Practice", base)


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setattr(gpconnect.SandboxCredentials, "from_settings", StaticCredentials)
    transport.reset_sessions()  # a session made before the patch would hold other credentials
    server = KeepAliveProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    transport.reset_sessions()
    server.shutdown()
    server.server_close()


def _day(n: int) -> gpconnect.DateRange:
    # A different day each time: a search of the same window again would come from the cache.
    return gpconnect.DateRange(date(2027, 3, n), date(2027, 3, n))


def test_sync_calls_reuse_the_client_loops_connections_across_calls(provider, settings):
    practice = provider.endpoint()

    first = sync.search_free_slots([practice], _day(1), PATIENT, correlation_id="page-1")
    second = sync.search_free_slots([practice], _day(2), PATIENT, correlation_id="page-2")
    settings.GPCONNECT_RETRIES = 1  # settings changed: the shared client is built again
    third = sync.search_free_slots([practice], _day(3), PATIENT, correlation_id="page-3")

    assert [r[0].status for r in (first, second, third)] == [gpconnect.ResultStatus.SLOTS] * 3
    one, two, three = provider.client_ports
    assert one == two  # the second page request used the first one's pooled connection
    assert three != one


def test_sync_calls_from_several_threads_share_the_client_loop(provider):
    practice = provider.endpoint()
    results = {}

    def worker(n):
        results[n] = sync.search_free_slots([practice], _day(n), PATIENT, correlation_id=f"p{n}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [1, 2, 3, 4, 5, 6]
    assert all(r[0].status == gpconnect.ResultStatus.SLOTS for r in results.values())
    assert len(provider.client_ports) == 6
    [loop_thread] = [t for t in threading.enumerate() if t.name == "gpconnect-client-loop"]
    assert loop_thread.daemon


def test_the_sync_api_refuses_to_block_a_running_event_loop(provider):
    async def misuse():
        sync.search_free_slots([provider.endpoint()], _day(9), PATIENT, correlation_id="p")

    with pytest.raises(RuntimeError, match="sync API"):
        asyncio.run(misuse())


def test_a_sync_caller_gives_up_on_a_call_that_outlives_its_time_limits(monkeypatch, settings):
    settings.GPCONNECT_DEADLINE_SECONDS = 0.1
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 0.1
    monkeypatch.setattr(transport, "STALL_MARGIN_SECONDS", 0.1)
    stopped = threading.Event()

    async def stalled():
        try:
            await asyncio.sleep(30)  # a call that ignores every limit of its own
        finally:
            stopped.set()

    with pytest.raises(gpconnect.Unavailable) as caught:
        transport.run_sync(stalled)

    assert caught.value.timed_out
    assert stopped.wait(timeout=5)  # and it is stopped, not left running on the loop
