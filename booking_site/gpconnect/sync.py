"""The client for sync views: the same calls, each run through ``async_to_sync``.

Each call opens its own ``session()`` (one pooled client for every practice and window of the
call) and closes it before returning: ``async_to_sync`` may run the call on a loop made just for
it, and a client kept past that loop would hold connections bound to a dead loop. See
``transport`` for the trade-off.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from asgiref.sync import async_to_sync

from booking_site.gpconnect import appointments, slots, transport


def _in_own_session[**P, R](func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        async def run() -> R:
            if transport.has_session():
                return await func(*args, **kwargs)
            async with transport.session():
                return await func(*args, **kwargs)

        return async_to_sync(run)()

    return call


search_free_slots = _in_own_session(slots.search_free_slots)
book = _in_own_session(appointments.book)
patient_appointments = _in_own_session(appointments.patient_appointments)
read_appointment = _in_own_session(appointments.read_appointment)
cancel = _in_own_session(appointments.cancel)
