"""Slot search replies kept in the Django cache (locmem, or Redis shared by every site instance).

A practice's reply for one window is kept for ``SLOT_CACHE_TTL_SECONDS`` under
``gpconnect:slots:v1:<ODS>:<generation>:<first day>:<last day>:<query hash>``. The generation is
a random token stored per practice: a booking or cancellation at the practice replaces it, so
every earlier entry of that practice stops being found at once, on every instance. If the token
itself is evicted a new one is made, which also only ever causes misses, never stale hits.

Entries are compact: the reply's schedules once, then one plain tuple per slot, earliest first
(about a fifth smaller and a third quicker to load than pickled ``FreeSlot`` objects), and an
entry in an older format is simply a miss. Each entry also says when it expires.

Each process also keeps the slots of the windows it has recently stored or read, as the frozen
objects themselves, until the shared entry they came from expires (``SLOT_CACHE_LOCAL_SLOTS``
bounds how many). A search still reads every practice's generation from the shared cache first,
so a booking on any instance is seen at once; only the entries, and turning them back into
objects, are skipped (docs/adr/0006-keeping-recent-slots-in-the-process.md).

A search keeps its copies at once and writes the entries it made to the shared cache in one
write once every practice has answered, so that pickling them never delays a practice's reply.

The cache is an optimisation: if it is down, searches go to the practices and say so in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from booking_site.gpconnect.values import DateRange, FreeSlot, PracticeEndpoint

logger = logging.getLogger("booking_site.gpconnect")

_PREFIX = "gpconnect:"
# 2: a window's slots are stored earliest first. 3: with the time the entry expires.
_SLOTS_FORMAT = 3

Slots = tuple[FreeSlot, ...]


def wall_clock() -> float:
    """Seconds since the epoch: entries say when they expire in a clock every instance shares."""
    return time.time()


_clock = wall_clock


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


async def read_slots(places: Mapping[str, PracticeEndpoint]) -> dict[str, Slots]:
    """The slots cached under each key of ``places`` (key -> the practice it belongs to) that
    are still there: this process's own copies first, the rest in one shared cache round trip."""
    found = {}
    wanted = []
    for key, practice in places.items():
        slots = _recent.get(key)
        # A copy carries the practice's name as the directory gave it then: if that has
        # changed since, rebuild the slots from the shared entry with the new one.
        if slots is None or (slots and slots[0].practice_name != practice.name):
            wanted.append(key)
        else:
            found[key] = slots
    for key, entry in (await get_many(wanted)).items():
        unpacked = unpack_slots(entry, places[key])
        if unpacked is not None:
            found[key], expires_at = unpacked
            _recent.keep(key, found[key], expires_at)
    return found


class SlotWrites:
    """The windows' slots one search keeps: in this process at once, in the shared cache in one
    write when ``send`` is awaited, once the search is over."""

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self._entries: list[tuple[str, Slots, float]] = []

    def keep(self, key: str, slots: Slots) -> None:
        """Keep one window's slots (earliest first) for ``ttl`` seconds from now."""
        if self.ttl <= 0:
            return
        expires_at = _clock() + self.ttl
        _recent.keep(key, slots, expires_at)
        self._entries.append((key, slots, expires_at))

    async def send(self) -> None:
        """Write the entries kept so far to the shared cache, in one write."""
        entries, self._entries = self._entries, []
        if not entries:
            return
        # One timeout for the lot: the soonest expiry, so no entry outlives what it says.
        ttl = int(min(expires_at for _, _, expires_at in entries) - _clock())
        if ttl <= 0:
            return
        packed = {key: pack_slots(slots, at) for key, slots, at in entries}
        try:
            await cache.aset_many(packed, ttl)
        except Exception as error:
            logger.warning("cache unavailable op=set_many error=%s", type(error).__name__)


def forget_recent() -> None:
    """Drop this process's own copies (the shared cache is untouched): as a fresh instance."""
    _recent.clear()


class _RecentSlots:
    """The slots of recently used cache entries, least recently used dropped first.

    Safe to keep: an entry's key names the practice's generation, so a booking makes every
    search look for other keys, and a copy is dropped when its entry expires. Shared by the
    threads of a process (each event loop's, and the test client's), hence the lock.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[Slots, float]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Slots | None:
        with self._lock:
            kept = self._entries.get(key)
            if kept is None:
                return None
            slots, expires_at = kept
            if expires_at <= _clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return slots

    def keep(self, key: str, slots: Slots, expires_at: float) -> None:
        limit = settings.SLOT_CACHE_LOCAL_SLOTS
        # An empty window costs nothing to ask the shared cache for again, but is one entry.
        size = max(1, len(slots))
        if size > limit or expires_at <= _clock():
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (slots, expires_at)
            self._count += size
            while self._count > limit:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._count = 0

    def _drop(self, key: str) -> None:
        slots, _ = self._entries.pop(key)
        self._count -= max(1, len(slots))


_recent = _RecentSlots()


def pack_slots(slots: Slots, expires_at: float) -> tuple:
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
    return (_SLOTS_FORMAT, expires_at, tuple(schedules), tuple(rows))


def unpack_slots(packed: Any, practice: PracticeEndpoint) -> tuple[Slots, float] | None:
    """The slots ``pack_slots`` kept and when their entry expires, or None if ``packed`` is not
    an entry of this format."""
    if not (isinstance(packed, tuple) and len(packed) == 4 and packed[0] == _SLOTS_FORMAT):
        return None
    _, expires_at, schedules, rows = packed
    new_slot = FreeSlot._trusted
    ods, name = practice.ods_code, practice.name
    slots = tuple(
        new_slot(ods, name, ids, start, end, start_raw, end_raw, slot_type, channel, schedules[i])
        for ids, start, end, start_raw, end_raw, slot_type, channel, i in rows
    )
    return slots, expires_at


def token_key(client_id: str, nhs_number: str | None, id_token: str = "") -> str:
    """Keyed by a keyed hash, never the NHS number itself (a plain hash of a 10-digit number
    with a check digit is trivially reversed). A patient's token is also keyed by the ID token it
    was exchanged for: signing in again is a new token."""
    subject = f"patient:{nhs_number}:{id_token}" if nhs_number else "service"
    digest = salted_hmac(
        "booking_site.gpconnect.token", f"{client_id}:{subject}", algorithm="sha256"
    ).hexdigest()
    return f"{_PREFIX}token:{digest[:40]}"
