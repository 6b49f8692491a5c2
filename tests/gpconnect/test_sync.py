"""Sync views call the same client through async_to_sync, each call on a loop of its own."""

import asyncio
import threading
import uuid
from datetime import date

import httpx

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
