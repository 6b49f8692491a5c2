"""Searching several practices: windows, concurrency, time limits, merging, caching."""

import asyncio
import contextlib
import dataclasses
import pickle
import time
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
from django.core.cache import cache

from booking_site import gpconnect
from booking_site.gpconnect import caching
from booking_site.gpconnect.parsing.appointment_replies import parse_appointment
from booking_site.gpconnect.parsing.slot_replies import parse_free_slots

from . import builders
from .conftest import (
    CORRELATION_ID,
    HILLSIDE,
    MEANWOOD,
    PATIENT,
    RIVERSIDE,
    Recorder,
    fhir_response,
    run,
)

EMPTY = builders.bundle(entry=False)
MARCH = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 5))


def _search(practices, date_range=MARCH):
    return lambda: gpconnect.search_free_slots(
        practices, date_range, PATIENT, correlation_id=CORRELATION_ID
    )


def _params(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode())


def _window(request: httpx.Request) -> tuple[str, str]:
    params = dict(_params(request))
    return params["start"], params["end"]


def _one_slot_reply(slot_id="1000", start="2027-03-01T09:00:00+00:00"):
    return fhir_response(200, builders.slot_bundle([builders.slot(slot_id, start)]))


# --- Windows (CONFORMANCE D3) ------------------------------------------------------------------


def test_thirty_days_are_three_windows_all_asked_at_once():
    in_flight = {"now": 0, "most": 0}

    async def respond(request):
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.05)
        in_flight["now"] -= 1
        return fhir_response(200, EMPTY)

    days = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 30))
    _, recorder = run(respond, _search([RIVERSIDE], days))

    assert sorted(_window(r) for r in recorder.requests) == [
        ("ge2027-03-01", "le2027-03-14"),
        ("ge2027-03-15", "le2027-03-28"),
        ("ge2027-03-29", "le2027-03-30"),
    ]
    assert in_flight["most"] == 3


def test_fourteen_days_are_one_window():
    days = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 14))
    assert days.windows() == (days,)
    assert len(gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 15)).windows()) == 2


def test_a_date_range_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="end before"):
        gpconnect.DateRange(date(2027, 3, 2), date(2027, 3, 1))


def test_the_request_has_every_search_parameter():
    _, recorder = run(lambda r: fhir_response(200, EMPTY), _search([RIVERSIDE]))

    request = recorder.requests[0]
    assert request.url.path == "/A20047/FHIR/STU3/Slot"
    assert _params(request) == [
        ("start", "ge2027-03-01"),
        ("end", "le2027-03-05"),
        ("status", "free"),
        ("_include", "Slot:schedule"),
        ("_include:recurse", "Schedule:actor:Practitioner"),
        ("_include:recurse", "Schedule:actor:Location"),
        ("_include:recurse", "Location:managingOrganization"),
        ("searchFilter", "https://fhir.nhs.uk/Id/ods-organization-code|X26"),
        (
            "searchFilter",
            "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|gp-practice",
        ),
    ]


@pytest.mark.parametrize("base", ["http://p.test/X/FHIR/STU3", "http://p.test/X/FHIR/STU3/"])
def test_base_urls_with_or_without_a_trailing_slash(base):
    practice = gpconnect.PracticeEndpoint("X", "X", base)
    _, recorder = run(lambda r: fhir_response(200, EMPTY), _search([practice]))

    assert recorder.requests[0].url.path == "/X/FHIR/STU3/Slot"


@pytest.mark.parametrize(
    ("first", "last", "times"),
    [
        (
            date(2027, 3, 22),
            date(2027, 4, 4),
            ["2027-03-27T09:00:00+00:00", "2027-03-29T09:00:00+01:00"],
        ),
        (
            date(2027, 10, 25),
            date(2027, 11, 7),
            ["2027-10-29T09:00:00+01:00", "2027-11-01T09:00:00+00:00"],
        ),
    ],
)
def test_a_window_across_a_clock_change(first, last, times):
    reply = builders.slot_bundle([builders.slot(str(n), t) for n, t in enumerate(reversed(times))])
    [result], recorder = run(
        lambda r: fhir_response(200, reply),
        _search([RIVERSIDE], gpconnect.DateRange(first, last)),
    )

    [request] = recorder.requests
    assert _window(request) == (f"ge{first}", f"le{last}")
    assert "%2B" not in request.url.query.decode()  # whole days: no offsets to mangle
    assert [s.start.isoformat() for s in result.slots] == times
    assert [s.start.hour for s in result.slots] == [9, 9]


# --- Merging -----------------------------------------------------------------------------------


def test_windows_are_merged_deduplicated_and_sorted_earliest_first():
    def respond(request):
        if _window(request)[0] == "ge2027-03-01":
            slots = [
                builders.slot("3", "2027-03-14T16:00:00+00:00"),
                builders.slot("1", "2027-03-02T09:00:00+00:00"),
            ]
        else:
            slots = [
                builders.slot("3", "2027-03-14T16:00:00+00:00"),  # in both replies
                builders.slot("2", "2027-03-10T09:00:00+00:00"),
                builders.slot("4", "2027-03-16T08:00:00+00:00"),
            ]
        return fhir_response(200, builders.slot_bundle(slots))

    days = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 20))
    [result], _ = run(respond, _search([RIVERSIDE], days))

    assert result.status == gpconnect.ResultStatus.SLOTS
    assert [s.slot_id for s in result.slots] == ["1", "2", "3", "4"]


def test_one_windows_slots_come_earliest_first_from_the_practice_and_from_the_cache():
    reply = builders.slot_bundle(
        [
            builders.slot("3", "2027-03-04T16:00:00+00:00"),
            builders.slot("2", "2027-03-02T09:00:00+00:00", end="2027-03-02T09:20:00+00:00"),
            builders.slot("1", "2027-03-02T09:00:00+00:00"),
        ]
    )

    async def twice():
        return await _search([RIVERSIDE])(), await _search([RIVERSIDE])()

    ([fresh], [cached]), _ = run(lambda r: fhir_response(200, reply), twice)

    assert cached.from_cache
    # Earliest start first; of two starting together, the shorter first.
    assert [s.slot_id for s in fresh.slots] == ["1", "2", "3"]
    assert [s.slot_id for s in cached.slots] == ["1", "2", "3"]


def test_slots_that_have_already_started_are_left_out():
    past = builders.slot("1", "2020-03-02T09:00:00+00:00")
    future = builders.slot("2", "2027-03-02T09:00:00+00:00")
    [result], _ = run(
        lambda r: fhir_response(200, builders.slot_bundle([past, future])), _search([RIVERSIDE])
    )

    assert [s.slot_id for s in result.slots] == ["2"]


@pytest.mark.parametrize(
    ("now", "first_kept"),
    [
        ("2027-03-02T07:59:59+00:00", 0),  # all to come
        ("2027-03-02T08:00:00+00:00", 1),  # the first starts now: started
        ("2027-03-02T09:05:00+00:00", 7),  # mid-session
        ("2027-03-02T09:50:00+00:00", 12),  # the last starts now: none left
    ],
)
def test_only_slots_starting_after_now_are_kept_from_every_window(monkeypatch, now, first_kept):
    # The 20 days are two windows, and both answer with the same diary (a repeat of every
    # slot), in a shuffled order, with one slot repeated within the reply as well.
    starts = [datetime(2027, 3, 2, 8, 0) + timedelta(minutes=10 * i) for i in range(12)]
    slots = [
        builders.slot(str(100 + i), f"{start.isoformat()}+00:00") for i, start in enumerate(starts)
    ]
    reply = builders.slot_bundle([*slots[6:], *slots[:6], slots[3]])
    monkeypatch.setattr(
        "booking_site.gpconnect.slot_search.timezone.now", lambda: datetime.fromisoformat(now)
    )
    twenty_days = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 20))

    [result], recorder = run(lambda r: fhir_response(200, reply), _search([RIVERSIDE], twenty_days))

    assert len(recorder.requests) == 2
    assert [s.slot_id for s in result.slots] == [str(100 + i) for i in range(first_kept, 12)]


def test_a_practice_with_no_free_slots_says_none():
    [result], _ = run(lambda r: fhir_response(200, EMPTY), _search([RIVERSIDE]))

    assert result.status == gpconnect.ResultStatus.NONE
    assert result.slots == ()
    assert result.failure is None


# --- One slow or dead practice never delays the others ------------------------------------------


def _practices_where_meanwood_hangs(log):
    async def respond(request):
        if request.url.host == "provider-c.test":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                log.append("meanwood cancelled")
                raise
        await asyncio.sleep(0.02)
        return _one_slot_reply()

    return respond


def test_a_hanging_practice_times_out_alone_at_the_practice_limit(settings):
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 0.3
    settings.GPCONNECT_DEADLINE_SECONDS = 2.0
    log = []
    began = time.monotonic()

    results, _ = run(_practices_where_meanwood_hangs(log), _search([RIVERSIDE, MEANWOOD, HILLSIDE]))
    took = time.monotonic() - began

    assert [r.practice.ods_code for r in results] == ["A20047", "B86044", "B82617"]
    riverside, meanwood, hillside = results
    assert riverside.status == hillside.status == gpconnect.ResultStatus.SLOTS
    assert meanwood.status == gpconnect.ResultStatus.FAILED
    assert isinstance(meanwood.failure, gpconnect.Unavailable)
    assert meanwood.failure.timed_out
    assert meanwood.reason == "The practice's system is not responding. Try again later."
    assert riverside.elapsed_ms < 200
    assert hillside.elapsed_ms < 200
    assert 250 <= meanwood.elapsed_ms < 600
    # Near the practice limit, not the sum of every practice's time.
    assert 0.28 < took < 0.8
    assert log == ["meanwood cancelled"]


def test_the_overall_deadline_caps_every_practice(settings):
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 5.0
    settings.GPCONNECT_DEADLINE_SECONDS = 0.25
    began = time.monotonic()

    results, _ = run(_practices_where_meanwood_hangs([]), _search([RIVERSIDE, MEANWOOD]))

    assert time.monotonic() - began < 0.7
    assert results[0].status == gpconnect.ResultStatus.SLOTS
    assert results[1].failure.timed_out


def test_giving_up_on_a_search_stops_the_practices_still_being_asked(settings):
    settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS = 5.0
    settings.GPCONNECT_DEADLINE_SECONDS = 5.0
    log = []

    async def give_up_soon():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.2):
                await _search([MEANWOOD, RIVERSIDE])()

    began = time.monotonic()
    run(_practices_where_meanwood_hangs(log), give_up_soon)

    assert time.monotonic() - began < 1
    assert log == ["meanwood cancelled"]


# --- Caching -----------------------------------------------------------------------------------


def _booking_reply(request):
    if request.method == "POST":
        return fhir_response(201, builders.appointment(), {"ETag": 'W/"1"'})
    if request.method == "PUT":
        return fhir_response(200, builders.appointment(status="cancelled", version="2"))
    return _one_slot_reply()


def test_a_repeated_search_is_answered_from_the_cache():
    recorder = Recorder(lambda r: _one_slot_reply())

    async def twice():
        first = await _search([RIVERSIDE, HILLSIDE])()
        second = await _search([RIVERSIDE, HILLSIDE])()
        return first, second

    (first, second), _ = run(recorder, twice)

    assert len(recorder.requests) == 2
    assert [r.from_cache for r in first] == [False, False]
    assert [r.from_cache for r in second] == [True, True]
    assert second[0].slots == first[0].slots
    assert second[0].slots[0].schedule.location.name == "Riverside Medical Centre"


class CountedCache:
    """The Django cache, noting which of its methods the client calls."""

    def __init__(self, real):
        self.real = real
        self.calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.real, name)


@pytest.mark.parametrize(
    ("elsewhere", "reads"),
    [
        # One read for every practice's generation; the entries are this process's own copies.
        (False, ["get_many"]),
        # An instance that has not searched yet: the generations, then every practice's entries
        # (not a read per practice).
        (True, ["get_many", "get_many"]),
    ],
    ids=["same instance", "another instance"],
)
def test_a_repeated_search_is_read_from_the_cache_in_as_few_round_trips(
    monkeypatch, elsewhere, reads
):
    counted = CountedCache(cache)
    monkeypatch.setattr(caching, "cache", counted)
    recorder = Recorder(lambda r: _one_slot_reply())
    practices = [RIVERSIDE, HILLSIDE, MEANWOOD]

    async def twice():
        first = await _search(practices)()
        if elsewhere:
            caching.forget_recent()
        counted.calls.clear()
        return first, await _search(practices)()

    (first, warm), _ = run(recorder, twice)

    assert len(recorder.requests) == 3
    assert [r.from_cache for r in warm] == [True, True, True]
    assert [r.slots for r in warm] == [r.slots for r in first]
    assert counted.calls == reads


def test_a_booking_through_another_instance_is_seen_at_once():
    recorder = Recorder(lambda r: _one_slot_reply())

    async def search_invalidate_search():
        await _search([RIVERSIDE, HILLSIDE])()
        # What a booking on another instance leaves behind: only the shared cache knows.
        await caching.invalidate_practice(RIVERSIDE.ods_code)
        return await _search([RIVERSIDE, HILLSIDE])()

    after, _ = run(recorder, search_invalidate_search)

    assert len(recorder.requests) == 3
    assert recorder.requests[2].url.host == "provider-a.test"
    assert [r.from_cache for r in after] == [False, True]


def test_a_copy_read_from_the_shared_cache_expires_with_the_entry(monkeypatch):
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(caching, "_clock", lambda: clock["now"])
    counted = CountedCache(cache)
    monkeypatch.setattr(caching, "cache", counted)
    recorder = Recorder(lambda r: _one_slot_reply())

    async def search_at(moment):
        clock["now"] = moment
        counted.calls.clear()
        [result] = await _search([RIVERSIDE])()
        return result.from_cache, list(counted.calls)

    async def on_another_instance():
        await search_at(1_000_000)  # stored by one instance, to expire 60 s later
        caching.forget_recent()
        return [
            await search_at(1_000_050),  # another instance reads it and keeps a copy
            await search_at(1_000_055),
            await search_at(1_000_061),  # the copy has gone with the entry's 60 s
        ]

    searches, _ = run(recorder, on_another_instance)

    assert searches == [
        (True, ["get_many", "get_many"]),
        (True, ["get_many"]),
        (True, ["get_many", "get_many"]),
    ]


def test_the_process_keeps_at_most_slot_cache_local_slots(settings, monkeypatch):
    settings.SLOT_CACHE_LOCAL_SLOTS = 1
    asked: list[list[str]] = []
    real_get_many = caching.get_many

    async def get_many(keys):
        asked.append(sorted(keys))
        return await real_get_many(keys)

    monkeypatch.setattr(caching, "get_many", get_many)
    slots = _slots(builders.slot("a", "2027-03-01T09:00:00+00:00"))

    async def keep_two_read_both():
        writes = caching.SlotWrites(60)
        writes.keep("first", slots)
        writes.keep("second", slots)
        await writes.send()
        return await caching.read_slots({"first": RIVERSIDE, "second": RIVERSIDE})

    found = asyncio.run(keep_two_read_both())

    # Both are in the shared cache, but only the last one kept fits in the process.
    assert found == {"first": slots, "second": slots}
    assert asked == [["first"]]


def test_no_slots_are_kept_in_the_process_when_turned_off(settings, monkeypatch):
    settings.SLOT_CACHE_LOCAL_SLOTS = 0
    counted = CountedCache(cache)
    monkeypatch.setattr(caching, "cache", counted)
    recorder = Recorder(lambda r: _one_slot_reply())

    async def twice():
        await _search([RIVERSIDE, HILLSIDE])()
        counted.calls.clear()
        return await _search([RIVERSIDE, HILLSIDE])()

    warm, _ = run(recorder, twice)

    assert [r.from_cache for r in warm] == [True, True]
    assert counted.calls == ["get_many", "get_many"]


def _writes(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith(("set", "aset"))]


def test_the_shared_cache_is_written_in_one_go_once_every_practice_has_answered(monkeypatch):
    counted = CountedCache(cache)
    monkeypatch.setattr(caching, "cache", counted)
    written_before_the_last_answer: list[str] = []

    async def respond(request):
        if request.url.host == "provider-c.test":  # Meanwood answers last
            await asyncio.sleep(0.05)
            written_before_the_last_answer.extend(_writes(counted.calls))
        return _one_slot_reply()

    recorder = Recorder(respond)

    async def search_then_again_elsewhere():
        await _search([RIVERSIDE, HILLSIDE, MEANWOOD])()
        writes = _writes(counted.calls)
        caching.forget_recent()  # as another instance: only the shared cache has them
        return writes, await _search([RIVERSIDE, HILLSIDE, MEANWOOD])()

    (writes, again), _ = run(recorder, search_then_again_elsewhere)

    # Nothing was written while a practice was still to answer; then one write held all three.
    assert written_before_the_last_answer == []
    assert writes == ["aset_many"]
    assert len(recorder.requests) == 3
    assert [r.from_cache for r in again] == [True, True, True]


def test_a_cache_that_fails_a_write_is_logged_and_the_search_is_unaffected(monkeypatch, caplog):
    class Broken:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(caching, "cache", Broken())

    [result], _ = run(lambda r: _one_slot_reply(), _search([RIVERSIDE]))

    assert result.status == gpconnect.ResultStatus.SLOTS
    assert "cache unavailable op=set_many error=ConnectionError" in caplog.text


def test_an_entry_that_expired_before_its_write_is_not_written(monkeypatch):
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(caching, "_clock", lambda: clock["now"])
    slots = _slots(builders.slot("a", "2027-03-01T09:00:00+00:00"))
    writes = caching.SlotWrites(60)
    writes.keep("fresh", slots)
    clock["now"] += 61  # the search outlived the entry: it has expired meanwhile

    asyncio.run(writes.send())

    assert cache.get("fresh") is None


def test_a_booking_forgets_the_practices_cached_slots_and_only_that_practices():
    recorder = Recorder(_booking_reply)

    async def search_book_search():
        [riverside, _] = await _search([RIVERSIDE, HILLSIDE])()
        await gpconnect.book(
            RIVERSIDE,
            riverside.slots[0],
            PATIENT,
            gpconnect.BookingDetails("Sore knee"),
            request_id=str(uuid.uuid4()),
            correlation_id=CORRELATION_ID,
        )
        return await _search([RIVERSIDE, HILLSIDE])()

    after, _ = run(recorder, search_book_search)

    assert [r.method for r in recorder.requests] == ["GET", "GET", "POST", "GET"]
    assert recorder.requests[3].url.host == "provider-a.test"
    assert [r.from_cache for r in after] == [False, True]


def test_a_refused_booking_also_forgets_the_practices_cached_slots():
    def respond(request):
        if request.method == "POST":
            return fhir_response(409, builders.outcome("DUPLICATE_REJECTED"))
        return _one_slot_reply()

    recorder = Recorder(respond)

    async def search_book_search():
        [riverside] = await _search([RIVERSIDE])()
        with pytest.raises(gpconnect.SlotTaken):
            await gpconnect.book(
                RIVERSIDE,
                riverside.slots[0],
                PATIENT,
                gpconnect.BookingDetails("Sore knee"),
                request_id=str(uuid.uuid4()),
                correlation_id=CORRELATION_ID,
            )
        return await _search([RIVERSIDE])()

    [after], _ = run(recorder, search_book_search)

    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]
    assert not after.from_cache


def test_a_cancellation_forgets_the_practices_cached_slots():
    recorder = Recorder(_booking_reply)
    appointment = builders.appointment()

    async def search_cancel_search():
        await _search([RIVERSIDE])()
        booked = parse_appointment(appointment, RIVERSIDE, PATIENT)
        await gpconnect.cancel(
            RIVERSIDE, PATIENT, booked, "Feeling better", request_id=str(uuid.uuid4())
        )
        return await _search([RIVERSIDE])()

    [after], _ = run(recorder, search_cancel_search)

    assert [r.method for r in recorder.requests] == ["GET", "PUT", "GET"]
    assert not after.from_cache


def test_failures_are_not_cached():
    recorder = Recorder(lambda r: httpx.Response(500))

    async def twice():
        await _search([RIVERSIDE])()
        return await _search([RIVERSIDE])()

    run(recorder, twice)
    assert len(recorder.requests) == 2


def test_cached_slots_expire_after_the_ttl(settings):
    settings.SLOT_CACHE_TTL_SECONDS = 1
    recorder = Recorder(lambda r: _one_slot_reply())

    async def twice():
        await _search([RIVERSIDE])()
        await asyncio.sleep(1.1)
        return await _search([RIVERSIDE])()

    run(recorder, twice)
    assert len(recorder.requests) == 2


def test_a_broken_cache_does_not_break_the_search(monkeypatch):
    async def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    def broken_sync(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("aget", "aset", "aadd"):
        monkeypatch.setattr(cache, name, broken)
    monkeypatch.setattr(cache, "get_many", broken_sync)

    [result], _ = run(lambda r: _one_slot_reply(), _search([RIVERSIDE]))

    assert result.status == gpconnect.ResultStatus.SLOTS


# --- Cache entries -------------------------------------------------------------------------------


def _slots(*resources):
    """The parsed slots in the order the resources are given (the parser sorts them)."""
    parsed = parse_free_slots(builders.slot_bundle(list(resources), schedules=2), RIVERSIDE)
    by_id = {slot.slot_id: slot for slot in parsed}
    return tuple(by_id[resource["id"]] for resource in resources)


def test_cached_slots_come_back_equal_and_an_unknown_entry_is_a_miss():
    slots = _slots(
        builders.slot("a", "2027-03-01T09:00:00+00:00"),
        builders.slot("b", "2027-10-31T01:30:00+00:00", schedule="2"),
    )

    packed = caching.pack_slots(slots, 1_000_060.5)
    again, expires_at = caching.unpack_slots(pickle.loads(pickle.dumps(packed)), RIVERSIDE)  # noqa: S301

    assert again == slots
    assert again[1].start.fold == 1
    assert expires_at == 1_000_060.5
    # An entry stored before entries said when they expire is a miss.
    assert caching.unpack_slots((2, *packed[2:]), RIVERSIDE) is None
    assert caching.unpack_slots(slots, RIVERSIDE) is None
    assert caching.unpack_slots(None, RIVERSIDE) is None


def test_a_practice_renamed_in_the_directory_is_not_shown_by_its_old_name_from_the_cache():
    recorder = Recorder(lambda r: _one_slot_reply())
    renamed = dataclasses.replace(RIVERSIDE, name="Riverside Health Centre")

    async def before_and_after():
        await _search([RIVERSIDE])()
        return await _search([renamed])()

    [after], _ = run(recorder, before_and_after)

    assert after.from_cache
    assert after.slots[0].practice_name == "Riverside Health Centre"


# --- The first practice with free slots, and requests shared while in flight -------------------


def _slow_for(hosts: dict[str, float]):
    """A provider that answers one slot after the delay given for the request's host."""

    async def respond(request):
        await asyncio.sleep(hosts.get(request.url.host, 0))
        return _one_slot_reply()

    return respond


def test_first_free_slots_comes_back_with_the_first_practice_that_has_slots():
    recorder = Recorder(_slow_for({"provider-b.test": 0.3}))

    async def first():
        return await gpconnect.first_free_slots(
            [RIVERSIDE, HILLSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID, within=2
        )

    (riverside, hillside), _ = run(recorder, first)

    assert riverside.status == gpconnect.ResultStatus.SLOTS
    assert hillside is None


def test_a_search_made_while_a_practices_request_is_in_flight_shares_it():
    recorder = Recorder(_slow_for({"provider-b.test": 0.3}))

    async def first_then_the_slow_one():
        await gpconnect.first_free_slots(
            [RIVERSIDE, HILLSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID, within=2
        )
        # As the page's per-practice fragment would, while Hillside's request is still out.
        return await gpconnect.search_free_slots(
            [HILLSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID
        )

    [hillside], _ = run(recorder, first_then_the_slow_one)

    assert hillside.status == gpconnect.ResultStatus.SLOTS
    assert [request.url.host for request in recorder.requests] == [
        "provider-a.test",
        "provider-b.test",
    ]


def test_first_free_slots_waits_no_longer_than_it_was_told():
    recorder = Recorder(_slow_for({"provider-a.test": 0.4, "provider-b.test": 0.4}))

    async def first():
        return await gpconnect.first_free_slots(
            [RIVERSIDE, HILLSIDE], MARCH, PATIENT, correlation_id=CORRELATION_ID, within=0.05
        )

    results, _ = run(recorder, first)

    assert results == [None, None]
