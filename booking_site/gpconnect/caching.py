"""Slot search replies kept in the Django cache (locmem, or Redis shared by every site instance).

A practice's reply for one window is kept for ``SLOT_CACHE_TTL_SECONDS`` under
``gpconnect:slots:v1:<ODS>:<generation>:<first day>:<last day>:<query hash>``. The generation is
a random token stored per practice: a booking or cancellation at the practice replaces it, so
every earlier entry of that practice stops being found at once, on every instance. If the token
itself is evicted a new one is made, which also only ever causes misses, never stale hits.

Entries are compact: the reply's schedules once, then one plain tuple per slot, earliest first
(about a fifth smaller and a third quicker to load than pickled ``FreeSlot`` objects), and an
entry in an older format is simply a miss.

The cache is an optimisation: if it is down, searches go to the practices and say so in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from booking_site.gpconnect.types import DateRange, FreeSlot, PracticeEndpoint

logger = logging.getLogger("booking_site.gpconnect")

_PREFIX = "gpconnect:"
# 2: a window's slots are stored earliest first.
_SLOTS_FORMAT = 2


async def get(key: str) -> Any:
    try:
        return await cache.aget(key)
    except Exception as error:  # the cache is optional: never fail a search because of it
        logger.warning("cache unavailable op=get error=%s", type(error).__name__)
        return None


async def get_many(keys: Sequence[str]) -> dict[str, Any]:
    """The entries found among ``keys``, in one cache round trip and one hop to a thread (a
    backend without its own get_many, like locmem, would make ``aget_many`` hop per key)."""
    if not keys:
        return {}
    try:
        return await sync_to_async(cache.get_many, thread_sensitive=True)(keys)
    except Exception as error:
        logger.warning("cache unavailable op=get_many error=%s", type(error).__name__)
        return {}


async def put(key: str, value: Any, ttl: int | None) -> None:
    if ttl is not None and ttl <= 0:
        return
    try:
        await cache.aset(key, value, ttl)
    except Exception as error:
        logger.warning("cache unavailable op=set error=%s", type(error).__name__)


async def delete(key: str) -> None:
    try:
        await cache.adelete(key)
    except Exception as error:
        logger.warning("cache unavailable op=delete error=%s", type(error).__name__)


def _generation_key(ods: str) -> str:
    return f"{_PREFIX}slots:gen:{ods}"


async def generation(ods: str) -> str:
    key = _generation_key(ods)
    current = await get(key)
    if current is None:
        fresh = secrets.token_hex(6)
        try:
            await cache.aadd(key, fresh, None)
        except Exception as error:
            logger.warning("cache unavailable op=add error=%s", type(error).__name__)
            return fresh
        current = await get(key) or fresh
    return current


async def generations(ods_codes: Iterable[str]) -> dict[str, str]:
    """Each practice's current generation, read for all of them in one cache round trip."""
    keys = {ods: _generation_key(ods) for ods in ods_codes}
    found = await get_many(list(keys.values()))
    current = {ods: found.get(key) for ods, key in keys.items()}
    missing = [ods for ods, value in current.items() if not (isinstance(value, str) and value)]
    # A practice never searched (or evicted) gets one made, the missing ones at the same time.
    for ods, made in zip(missing, await asyncio.gather(*map(generation, missing)), strict=True):
        current[ods] = made
    return current


async def invalidate_practice(ods: str) -> None:
    """Forget every cached slot search reply of this practice."""
    await put(_generation_key(ods), secrets.token_hex(6), None)


def slot_key(ods: str, generation: str, window: DateRange, query: str) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    return (
        f"{_PREFIX}slots:v1:{ods}:{generation}:"
        f"{window.start.isoformat()}:{window.end.isoformat()}:{digest}"
    )


def pack_slots(slots: tuple[FreeSlot, ...]) -> tuple:
    schedules: list = []
    positions: dict[int, int] = {}
    rows = []
    for slot in slots:
        position = positions.get(id(slot.schedule))
        if position is None:
            position = positions[id(slot.schedule)] = len(schedules)
            schedules.append(slot.schedule)
        rows.append(
            (
                slot.slot_ids,
                slot.start,
                slot.end,
                slot.start_raw,
                slot.end_raw,
                slot.slot_type,
                slot.delivery_channel,
                position,
            )
        )
    return (_SLOTS_FORMAT, tuple(schedules), tuple(rows))


def unpack_slots(packed: Any, practice: PracticeEndpoint) -> tuple[FreeSlot, ...] | None:
    """The slots ``pack_slots`` kept, or None if ``packed`` is not an entry of this format."""
    if not (isinstance(packed, tuple) and len(packed) == 3 and packed[0] == _SLOTS_FORMAT):
        return None
    _, schedules, rows = packed
    new_slot = FreeSlot._trusted
    ods, name = practice.ods_code, practice.name
    return tuple(
        new_slot(ods, name, ids, start, end, start_raw, end_raw, slot_type, channel, schedules[i])
        for ids, start, end, start_raw, end_raw, slot_type, channel, i in rows
    )


def token_key(client_id: str, nhs_number: str | None) -> str:
    """Keyed by a keyed hash, never the NHS number itself (a plain hash of a 10-digit number
    with a check digit is trivially reversed)."""
    subject = f"patient:{nhs_number}" if nhs_number else "service"
    digest = salted_hmac(
        "booking_site.gpconnect.token", f"{client_id}:{subject}", algorithm="sha256"
    ).hexdigest()
    return f"{_PREFIX}token:{digest[:40]}"
