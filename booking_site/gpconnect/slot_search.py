"""Searching several practices for free slots at once (CONFORMANCE §1, §2, §8).

Every ≤14-day window of every practice is requested at the same time (bounded per provider
host). Each practice has its own time limit, so a slow or dead practice only ever costs its own
result; the whole search also stops at the overall deadline. The query is built in
``requests.py``, sent by ``transport.py`` and the reply parsed in ``parsing/slot_replies.py``.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from booking_site.gpconnect import caching, config, requests, sessions
from booking_site.gpconnect.config import ClientConfig
from booking_site.gpconnect.errors import SEARCH, ProviderError, Unavailable
from booking_site.gpconnect.parsing.slot_replies import parse_slot_reply
from booking_site.gpconnect.transport import Session
from booking_site.gpconnect.values import (
    DateRange,
    FreeSlot,
    Patient,
    PracticeEndpoint,
    PracticeResult,
    ResultStatus,
    instant,
)

logger = logging.getLogger("booking_site.gpconnect")


async def search_free_slots(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    *,
    correlation_id: str,
) -> list[PracticeResult]:
    """One ``PracticeResult`` per practice, in the order given, once every practice has answered,
    failed or run out of time. ``patient`` None searches with a service token (staff previews).
    """
    results = await _search(practices, date_range, patient, correlation_id, first_within=None)
    return [result for result in results if result is not None]


async def first_free_slots(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    *,
    correlation_id: str,
    within: float,
) -> list[PracticeResult | None]:
    """As ``search_free_slots``, but back as soon as one practice has free slots (or every
    practice has answered, or ``within`` seconds have passed): the practices that have not
    answered yet come back as None.

    Their requests carry on: a search of the same practice, window and patient made meanwhile in
    this process (a page's per-practice fragment) shares the request in flight instead of sending
    another.
    """
    return await _search(practices, date_range, patient, correlation_id, first_within=within)


async def free_slots_within(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    *,
    correlation_id: str,
    within: float,
) -> list[PracticeResult | None]:
    """As ``search_free_slots``, but back after ``within`` seconds at most: the practices that
    have not answered by then come back as None (a page without JavaScript shows those that did,
    and offers to check the others again). Their requests carry on, as ``first_free_slots``'.
    """
    return await _search(practices, date_range, patient, correlation_id, all_within=within)


async def _search(
    practices: Iterable[PracticeEndpoint],
    date_range: DateRange,
    patient: Patient | None,
    correlation_id: str,
    *,
    first_within: float | None = None,
    all_within: float | None = None,
) -> list[PracticeResult | None]:
    practices = list(practices)
    session = sessions.current()
    cfg = config.current()
    loop = asyncio.get_running_loop()
    overall = loop.time() + cfg.deadline
    queries = {window: requests.slot_search_query(window, cfg) for window in date_range.windows()}
    cached = await _cached_replies(practices, queries, overall)
    writes = caching.SlotWrites(cfg.slot_cache_ttl)
    tasks = [
        asyncio.ensure_future(
            _search_practice(
                session, practice, queries, cached, writes, patient, correlation_id, overall, cfg
            )
        )
        for practice in practices
    ]
    try:
        if all_within is not None:
            try:
                async with asyncio.timeout_at(min(overall, loop.time() + all_within)):
                    await asyncio.wait(tasks)
            except TimeoutError:
                pass
        elif first_within is None:
            await asyncio.gather(*tasks)
        else:
            try:
                async with asyncio.timeout_at(min(overall, loop.time() + first_within)):
                    for answer in asyncio.as_completed(tasks):
                        if (await answer).slots:
                            break
            except TimeoutError:
                pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # Only now, with every practice answered: pickling the entries for the shared cache would
    # otherwise hold up the replies still to be read.
    await writes.send()
    return [task.result() if not task.cancelled() else None for task in tasks]


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
    session: Session,
    practice: PracticeEndpoint,
    queries: dict[DateRange, str],
    cached: dict[tuple[str, DateRange], tuple[str, caching.Slots | None]],
    writes: caching.SlotWrites,
    patient: Patient | None,
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
                            session,
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
    session: Session,
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

    async def fetch() -> caching.Slots:
        reply = await session.exchange(
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
        return parse_slot_reply(reply.content, practice)

    # One request for everyone in this process asking the same practice the same question for
    # the same patient at once; it carries on if the search that started it stops waiting.
    who = patient.nhs_number if patient else "-"
    slots = await session.single_flight(f"slots:{practice.ods_code}:{who}:{query}", fetch)
    if key is not None:
        writes.keep(key, slots)
    return slots, False


def _start(slot: FreeSlot) -> datetime:
    return slot.start


def _earliest(slot: FreeSlot) -> tuple:
    """Earliest first: the order ``parse_slot_reply`` gives each reply (start, end, surgery
    name, slot id, in real time), for slots from several windows or replies."""
    return (
        instant(slot.start),
        instant(slot.end),
        slot.schedule.location.name or "",
        slot.slot_ids[0],
    )
