"""When a request reached this process: stamped by the site's entry point
(``booking_site/asgi.py``), which wraps its application with ``stamped_asgi`` when the sandbox is
enabled.

The sandbox measures a practice's latency from here. Measured from its view instead, a busy
process (middleware, the hop to a worker thread, other requests' threads holding the GIL) added
its own queueing on top: under a 20-practice search on two cores, tens of milliseconds.
"""

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.http import HttpRequest

# In an ASGI scope, as a time.monotonic() reading.
KEY = "gp_sandbox.arrived"

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


def stamped_asgi(application: ASGIApp) -> ASGIApp:
    """``application``, with each HTTP request's scope saying when it arrived."""

    async def stamped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, KEY: time.monotonic()}
        await application(scope, receive, send)

    return stamped


def arrived(request: HttpRequest) -> float | None:
    """When ``request`` reached this process (``time.monotonic``), if its server said."""
    scope = getattr(request, "scope", None) or {}  # an ASGIRequest's (not the test client's)
    value = scope.get(KEY)
    return value if isinstance(value, float) else None
