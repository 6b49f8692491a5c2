"""The client against the real provider sandbox, in process (the site's ASGI application behind
httpx.ASGITransport, on a server thread of its own), with the sandbox's own seeded practices,
faults and all.

The sandbox's views run in Django's worker threads, so the data must be committed: each test
is transactional and seeds the sandbox afresh (about three seconds, hence few, broad tests).
"""

import asyncio
import gc
import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from django.db import connection, connections
from django.utils import timezone

from booking_site import gpconnect
from booking_site.asgi import application
from booking_site.gpconnect.values import LONDON, instant
from gp_sandbox import seed as sandbox_seed
from tests.factories import id_token_for

from .conftest import CORRELATION_ID

# Seeded behaviour (gp_sandbox/seed.py): healthy, hanging, cut-off JSON, JSON that is
# not a Bundle, never any slots, no online cancelling, a 24-hour cancellation cut-off.
HEALTHY = ("B82617", "C88057", "C84016", "C84062")
HANGS, MALFORMED, NOT_FHIR, EMPTY = "C88091", "C88114", "C84085", "C84103"
NO_CANCELLING, CUT_OFF = "B86019", "C88032"
# Registered at A20047 and B82617, signed in with NHS login (their stand-in ID tokens).
AMELIA = gpconnect.Patient("9000000009", id_token_for("9000000009"))
OLIVER = gpconnect.Patient("9449305552", id_token_for("9449305552"))


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(transactional_db, settings, monkeypatch):
    """The seeded sandbox's practices as the site's directory would hand them in."""
    # Never seed (and so replace) a developer's own database.
    assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
    # Django's worker threads must close their connections at the end of each request, or
    # PostgreSQL still has sessions open on the test database when it is dropped.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 3.0
    settings.GPCONNECT_DEADLINE_SECONDS = 6.0
    summary = sandbox_seed.seed(1, timezone.localdate())
    return {
        p.ods_code: gpconnect.PracticeEndpoint(p.ods_code, p.name, p.base_url, p.phone)
        for p in summary.practices
    }


class ServerThread(httpx.AsyncBaseTransport):
    """The site's ASGI application on an event loop of its own in another thread, as a server
    would run it: a request the client gives up on is abandoned there, not waited for.

    (With a plain ASGITransport the application runs inside the client's own task, and Django
    finishes a cancelled request only when its worker thread does, so a hanging practice would
    hold the client past its time limit: an artefact of sharing a task, not of the client.)
    """

    def __init__(self) -> None:
        self._app = httpx.ASGITransport(app=application)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        answer = asyncio.run_coroutine_threadsafe(self._serve(copy), self._loop)
        return await asyncio.wrap_future(answer)

    async def _serve(self, request: httpx.Request) -> httpx.Response:
        response = await self._app.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def stop(self) -> None:
        async def drain():
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(drain(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@pytest.fixture
def call(sandbox):
    """Run a coroutine factory against the sandbox through a fresh client session."""
    server = ServerThread()

    def run(make_call):
        async def main():
            async with gpconnect.session(transport=server):
                return await make_call()

        return asyncio.run(main())

    yield run
    server.stop()
    # A request the client gave up on (the hanging practice) never reaches request_finished:
    # its worker thread has ended, and the database connection it opened is only closed once
    # the cycle holding it is collected. Collect now, or PostgreSQL may still have the session
    # open when the test database is dropped at the end of the run.
    gc.collect()


def _fortnight() -> gpconnect.DateRange:
    tomorrow = timezone.localdate() + timedelta(days=1)
    return gpconnect.DateRange(tomorrow, tomorrow + timedelta(days=13))


def _search(practices, patient=AMELIA, date_range=None):
    return gpconnect.search_free_slots(
        practices, date_range or _fortnight(), patient, correlation_id=CORRELATION_ID
    )


def _book(practice, slot, patient=AMELIA, request_id=None, created=None):
    return gpconnect.book(
        practice,
        slot,
        patient,
        gpconnect.BookingDetails("Sore knee", "Mornings are easier"),
        request_id=request_id or str(uuid.uuid4()),
        correlation_id=CORRELATION_ID,
        created=created,
    )


def _first_slot(practice, patient=AMELIA):
    async def find():
        [result] = await _search([practice], patient)
        assert result.status == gpconnect.ResultStatus.SLOTS, result.reason
        return result.slots[0]

    return find


def test_a_federation_search_keeps_going_past_faulty_practices(sandbox, call, settings):
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 2.0
    settings.SANDBOX_HANG_SECONDS = 2.5
    codes = [*HEALTHY, HANGS, MALFORMED, NOT_FHIR, EMPTY]

    async def search():
        began = time.monotonic()
        results = await gpconnect.search_free_slots(
            [sandbox[code] for code in codes],
            _fortnight(),
            AMELIA,
            correlation_id=CORRELATION_ID,
        )
        return results, time.monotonic() - began

    results, took = call(search)
    by_code = {r.practice.ods_code: r for r in results}

    for code in HEALTHY:
        result = by_code[code]
        assert result.status == gpconnect.ResultStatus.SLOTS, (code, result.reason)
        starts = [s.start for s in result.slots]
        assert starts == sorted(starts, key=instant)
        assert all(s.start.tzinfo is LONDON for s in result.slots)
        assert all(s.start > timezone.now() for s in result.slots)
        assert all(s.location.name for s in result.slots)
        assert any(s.practitioner and s.practitioner.name for s in result.slots)
        assert {s.delivery_channel for s in result.slots} <= {"In-person", "Telephone", "Video"}
    hang = by_code[HANGS]
    assert isinstance(hang.failure, gpconnect.Unavailable)
    assert hang.failure.timed_out
    assert 1900 <= hang.elapsed_ms < 2600
    for code in (MALFORMED, NOT_FHIR):
        assert isinstance(by_code[code].failure, gpconnect.InvalidReply), code
        assert by_code[code].reason == "The practice's system sent a reply we could not read."
    assert by_code[EMPTY].status == gpconnect.ResultStatus.NONE
    # The slow practice was the last to be known, and cost only its own time limit.
    assert all(r.elapsed_ms < hang.elapsed_ms for r in results if r is not hang)
    assert took < settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS + 1.0


def test_longer_ranges_merge_and_staff_previews_use_a_service_token(sandbox, call):
    practice = sandbox[HEALTHY[0]]
    tomorrow = timezone.localdate() + timedelta(days=1)
    four_weeks = gpconnect.DateRange(tomorrow, tomorrow + timedelta(days=27))

    async def searches():
        [fortnight] = await _search([practice])
        [month] = await _search([practice], date_range=four_weeks)
        [preview] = await _search([sandbox[HEALTHY[1]]], patient=None)
        return fortnight, month, preview

    fortnight, month, preview = call(searches)

    assert len(month.slots) > len(fortnight.slots)
    assert len({s.slot_id for s in month.slots}) == len(month.slots)
    assert month.slots[-1].start.date() > fortnight.slots[-1].start.date()
    assert preview.status == gpconnect.ResultStatus.SLOTS


def test_book_read_list_and_cancel(sandbox, call):
    practice = sandbox[HEALTHY[2]]

    async def journey():
        slot = await _first_slot(practice)()
        request_id = str(uuid.uuid4())
        # When the booking was first asked for, as a caller stores it with the request id.
        created = timezone.now() - timedelta(minutes=5)
        booked = await _book(practice, slot, request_id=request_id, created=created)
        # A retry of the same booking (same X-Request-ID, same body) answers alike and books
        # nothing new, however much later it comes.
        again = await _book(practice, slot, request_id=request_id, created=created)
        try:
            # The id re-used for a request that is not the same one is refused, not replayed.
            await _book(practice, slot, request_id=request_id, created=timezone.now())
        except gpconnect.ProviderError as error:
            reused_id = error
        [after_booking] = await _search([practice])
        read = await gpconnect.read_appointment(practice, AMELIA, booked.id)
        listed = await gpconnect.patient_appointments(practice, AMELIA, _fortnight())
        cancelled = await gpconnect.cancel(
            practice, AMELIA, read, "Feeling better", request_id=str(uuid.uuid4())
        )
        [after_cancelling] = await _search([practice])
        try:
            # The copy from before the cancellation has an old version.
            await gpconnect.cancel(
                practice, AMELIA, read, "Feeling better", request_id=str(uuid.uuid4())
            )
        except gpconnect.ProviderError as error:
            stale = error
        try:
            await gpconnect.read_appointment(practice, OLIVER, booked.id)
        except gpconnect.ProviderError as error:
            not_theirs = error
        return locals()

    seen = call(journey)
    slot, booked, read, cancelled = seen["slot"], seen["booked"], seen["read"], seen["cancelled"]

    assert booked.status == "booked"
    assert booked.slot_ids == slot.slot_ids
    assert booked.start == slot.start
    assert booked.description == "Sore knee"
    assert booked.comment == "Mornings are easier"
    assert booked.location.name == slot.location.name
    assert booked.version_id
    assert seen["again"].id == booked.id
    assert seen["again"].version_id == booked.version_id
    assert isinstance(seen["reused_id"], gpconnect.InvalidRequest)
    assert slot.slot_id not in {s.slot_id for s in seen["after_booking"].slots}
    assert not seen["after_booking"].from_cache
    assert read.id == booked.id
    assert read.version_id == booked.version_id
    assert booked.id in {a.id for a in seen["listed"]}
    assert cancelled.status == "cancelled"
    assert cancelled.cancellation_reason == "Feeling better"
    assert cancelled.version_id != read.version_id
    assert slot.slot_id in {s.slot_id for s in seen["after_cancelling"].slots}
    assert isinstance(seen["stale"], gpconnect.VersionConflict)
    assert seen["stale"].code == "FHIR_CONSTRAINT_VIOLATION"
    # The sandbox refuses a token for one patient used on another's appointment (D8).
    assert isinstance(seen["not_theirs"], gpconnect.Forbidden)


def test_two_patients_racing_for_one_slot_and_the_practices_cancellation_rules(sandbox, call):
    async def refusal(code, slot):
        booked = await _book(sandbox[code], slot)
        try:
            await gpconnect.cancel(
                sandbox[code], AMELIA, booked, "Feeling better", request_id=str(uuid.uuid4())
            )
        except gpconnect.ProviderError as error:
            return error
        return None

    async def scenario():
        practice = sandbox[HEALTHY[3]]
        slot = await _first_slot(practice)()
        race = await asyncio.gather(
            _book(practice, slot, AMELIA), _book(practice, slot, OLIVER), return_exceptions=True
        )
        disabled = await refusal(NO_CANCELLING, await _first_slot(sandbox[NO_CANCELLING])())
        # The cut-off is 24 hours: only testable when the practice has a slot that soon.
        [result] = await _search([sandbox[CUT_OFF]])
        soon = timezone.now() + timedelta(hours=23)
        slot = next((s for s in result.slots if instant(s.start) < soon), None)
        too_late = await refusal(CUT_OFF, slot) if slot else "no slot within 23 hours"
        return race, disabled, too_late

    race, disabled, too_late = call(scenario)

    booked = [o for o in race if isinstance(o, gpconnect.BookedAppointment)]
    taken = [o for o in race if isinstance(o, gpconnect.SlotTaken)]
    assert (len(booked), len(taken)) == (1, 1), race
    assert taken[0].code == "DUPLICATE_REJECTED"
    assert isinstance(disabled, gpconnect.CancellationDisabled)
    assert disabled.message == (
        "Your practice does not let you cancel appointments online. Contact the practice to cancel."
    )
    if too_late != "no slot within 23 hours":  # e.g. on a Friday afternoon
        assert isinstance(too_late, gpconnect.TooLateToCancel)
        assert too_late.code == "ACCESS_DENIED"
