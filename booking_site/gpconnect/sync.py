"""The client for sync views: the same calls, each run on the process's client loop.

Every call runs on one event loop shared by the whole process (``transport.run_sync``), so its
pooled connections to practices are reused from one page request to the next. See
``transport`` for client lifetimes and for how tests' in-process providers are run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from booking_site.gpconnect import appointments, slots, transport


def _on_client_loop[**P, R](func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return transport.run_sync(func, *args, **kwargs)

    return call


search_free_slots = _on_client_loop(slots.search_free_slots)
book = _on_client_loop(appointments.book)
patient_appointments = _on_client_loop(appointments.patient_appointments)
read_appointment = _on_client_loop(appointments.read_appointment)
cancel = _on_client_loop(appointments.cancel)
