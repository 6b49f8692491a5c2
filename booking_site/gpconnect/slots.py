"""Searching several practices for free slots at once (CONFORMANCE §1, §2, §8).

Every ≤14-day window of every practice is requested at the same time (bounded per provider
host). Each practice has its own time limit, so a slow or dead practice only ever costs its own
result; the whole search also stops at the overall deadline.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import inspect
import itertools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime

from django.utils import timezone

from booking_site.gpconnect import build, caching, config, fhir, transport
from booking_site.gpconnect.config import ClientConfig
from booking_site.gpconnect.errors import SEARCH, ProviderError, Unavailable
from booking_site.gpconnect.types import (
    DateRange,
    FreeSlot,
    Patient,
    PracticeEndpoint,
    PracticeResult,
    ResultStatus,
    SlotFilters,
    instant,
)

logger = logging.getLogger("booking_site.gpconnect")

OnResult = Callable[[PracticeResult], Awaitable[None] | None]


async def search_free_slots(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    filters: SlotFilters | None = None,
    *,
    correlation_id: str,
    on_result: OnResult | None = None,
) -> list[PracticeResult]:
    """One ``PracticeResult`` per practice, in the order given.

    ``on_result`` (plain or async) is called with each result as soon as its practice has
    answered, failed or run out of time. ``patient`` None searches with a service token (staff
    previews).
    """
    practices = list(practices)
    results: list[PracticeResult | None] = [None] * len(practices)
    async with contextlib.aclosing(
        _search(practices, date_range, patient, filters, correlation_id)
    ) as answers:
        async for index, result in answers:
            results[index] = result
            if on_result is not None:
                called = on_result(result)
                if inspect.isawaitable(called):
                    await called
    return [r for r in results if r is not None]


async def iter_free_slots(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    filters: SlotFilters | None = None,
    *,
    correlation_id: str,
) -> AsyncIterator[PracticeResult]:
    """Each practice's ``PracticeResult`` as soon as it is known, fastest first.

    Use it inside ``contextlib.aclosing(...)``: leaving the loop early then stops the
    practices still being asked at once.
    """
    async with contextlib.aclosing(
        _search(list(practices), date_range, patient, filters, correlation_id)
    ) as answers:
        async for _, result in answers:
            yield result


async def _search(
    practices: list[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    filters: SlotFilters | None,
    correlation_id: str,
) -> AsyncIterator[tuple[int, PracticeResult]]:
    cfg = config.current()
    filters = filters or SlotFilters()
    windows = date_range.windows()
    overall = asyncio.get_running_loop().time() + cfg.deadline
    queries = {window: build.slot_search_query(window, cfg) for window in windows}
    cached = await _cached_replies(practices, queries, overall)
    writes = caching.SlotWrites(cfg.slot_cache_ttl)

    async def indexed(index: int, practice: PracticeEndpoint) -> tuple[int, PracticeResult]:
        result = await _search_practice(
            practice, queries, cached, writes, patient, filters, correlation_id, overall, cfg
        )
        return index, result

    tasks = [asyncio.ensure_future(indexed(i, p)) for i, p in enumerate(practices)]
    try:
        for answer in asyncio.as_completed(tasks):
            yield await answer
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # Only now, with every practice answered: pickling the entries for the shared cache would
    # otherwise hold up the replies still to be read.
    await writes.send()


async def _cached_replies(
    practices: list[PracticeEndpoint], queries: dict[DateRange, str], deadline: float
) -> dict[tuple[str, DateRange], tuple[str, caching.Slots | None]]:
    """Every (practice, window)'s cache key and the slots cached under it (None if none), read
    for the whole search in at most two cache round trips, not two per practice: generations,
    then the entries this process does not have already."""
    by_ods = {practice.ods_code: practice for practice in practices}
    try:
        async with asyncio.timeout_at(deadline):
            generations = await caching.generations(by_ods)
            keys = {
                (ods, window): caching.slot_key(ods, generation, window, query)
                for ods, generation in generations.items()
                for window, query in queries.items()
            }
            found = await caching.read_slots({key: by_ods[ods] for (ods, _), key in keys.items()})
    except TimeoutError:
        return {}
    return {place: (key, found.get(key)) for place, key in keys.items()}


async def _search_practice(
    practice: PracticeEndpoint,
    queries: dict[DateRange, str],
    cached: dict[tuple[str, DateRange], tuple[str, caching.Slots | None]],
    writes: caching.SlotWrites,
    patient: Patient | None,
    filters: SlotFilters,
    correlation_id: str,
    overall_deadline: float,
    cfg: ClientConfig,
) -> PracticeResult:
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = min(started + cfg.practice_timeout, overall_deadline)
    failure: ProviderError | None = None
    answers: list[tuple[tuple[FreeSlot, ...], bool]] = []
    try:
        async with asyncio.timeout_at(deadline):
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        _search_window(
                            practice,
                            query,
                            cached.get((practice.ods_code, window)),
                            writes,
                            patient,
                            correlation_id,
                            deadline,
                        )
                    )
                    for window, query in queries.items()
                ]
        answers = [task.result() for task in tasks]
    except* ProviderError as errors:
        failure = errors.exceptions[0]
    except* TimeoutError:
        failure = Unavailable(timed_out=True)
    except* Exception:
        # A defect on the site's side must cost one practice's result, not the whole page.
        logger.exception("slot search failed ods=%s", practice.ods_code)
        failure = ProviderError()
    elapsed_ms = round((loop.time() - started) * 1000)
    if failure is not None:
        return PracticeResult(
            practice, ResultStatus.FAILED, (), failure.with_traceback(None), elapsed_ms
        )
    now = timezone.now()
    accepts = filters.accepts if filters.narrows else None
    # Each window's slots come earliest first (``_search_window``), so the past ones are found
    # by bisection and one window needs no sorting here. A slot that two windows both returned
    # (or one reply repeated) is kept once, as first seen.
    seen: set[str] = set()
    kept = []
    for slots, _ in answers:
        # Aware datetimes in different zones compare in real time, so no UTC copies are made.
        for slot in itertools.islice(slots, bisect.bisect_right(slots, now, key=_start), None):
            slot_id = slot.slot_ids[0]
            if slot_id in seen:
                continue
            seen.add(slot_id)
            if accepts is None or accepts(slot):
                kept.append(slot)
    if len(answers) > 1:
        kept.sort(key=_earliest)
    chosen = tuple(kept)
    return PracticeResult(
        practice,
        ResultStatus.SLOTS if chosen else ResultStatus.NONE,
        chosen,
        None,
        elapsed_ms,
        from_cache=all(cached for _, cached in answers),
    )


async def _search_window(
    practice: PracticeEndpoint,
    query: str,
    cached: tuple[str, caching.Slots | None] | None,
    writes: caching.SlotWrites,
    patient: Patient | None,
    correlation_id: str,
    deadline: float,
) -> tuple[caching.Slots, bool]:
    """One window of one practice, earliest first: from the cache, else from the practice (the
    parser orders them; then kept in ``writes``). ``cached`` is (key, the slots cached under it
    or None), or None when the cache could not be read."""
    key, slots = cached or (None, None)
    if slots is not None:
        return slots, True
    reply = await transport.exchange(
        practice_ods=practice.ods_code,
        operation=SEARCH,
        method="GET",
        url=f"{practice.url('Slot')}?{query}",
        host=practice.host,
        request_id=str(uuid.uuid4()),
        correlation_id=correlation_id,
        deadline=deadline,
        patient=patient,
    )
    slots = fhir.parse_slot_reply(reply.content, practice)
    if key is not None:
        writes.keep(key, slots)
    return slots, False


def _start(slot: FreeSlot) -> datetime:
    return slot.start


def _earliest(slot: FreeSlot) -> tuple:
    """Earliest first: the order ``fhir.parse_slot_reply`` gives each reply (start, end, surgery
    name, slot id, in real time), for slots from several windows or replies."""
    return (
        instant(slot.start),
        instant(slot.end),
        slot.schedule.location.name or "",
        slot.slot_ids[0],
    )


# --- Booking several slots as one appointment (CONFORMANCE §2.4) -------------------------------


def are_adjacent(first: FreeSlot, then: FreeSlot) -> bool:
    """Whether ``then`` directly follows ``first`` so both can be booked as one appointment:
    B.start == A.end, same schedule, same delivery channel, same slot type."""
    return (
        instant(then.start) == instant(first.end)
        and first.practice_ods == then.practice_ods
        and first.schedule.id == then.schedule.id
        and first.delivery_channel == then.delivery_channel
        and first.slot_type == then.slot_type
    )


def join_adjacent(slots: Sequence[FreeSlot]) -> FreeSlot:
    """One ``FreeSlot`` covering a chain of adjacent slots (ValueError if they are not one)."""
    if not slots:
        raise ValueError("No slots to join")
    for first, then in itertools.pairwise(slots):
        if not are_adjacent(first, then):
            raise ValueError("These slots are not adjacent")
    head, tail = slots[0], slots[-1]
    return FreeSlot(
        head.practice_ods,
        head.practice_name,
        tuple(slot_id for slot in slots for slot_id in slot.slot_ids),
        head.start,
        tail.end,
        head.start_raw,
        tail.end_raw,
        head.slot_type,
        head.delivery_channel,
        head.schedule,
    )


def adjacent_runs(slots: Iterable[FreeSlot]) -> list[tuple[FreeSlot, ...]]:
    """The slots grouped into maximal chains of adjacent slots, earliest first."""
    runs: list[list[FreeSlot]] = []
    open_runs: dict[tuple, list[FreeSlot]] = {}
    for slot in sorted(slots, key=_earliest):
        group = (slot.practice_ods, slot.schedule.id, slot.delivery_channel, slot.slot_type)
        run = open_runs.get(group)
        if run is not None and are_adjacent(run[-1], slot):
            run.append(slot)
        else:
            run = [slot]
            runs.append(run)
            open_runs[group] = run
    return [tuple(run) for run in runs]
