"""The site's one entry point: ``uvicorn booking_site.asgi:application`` (README, Serving).

Django answers HTTP; the ASGI lifespan is handled here, because what a serving process shares
lives as long as its event loop: at start-up the views are loaded and the GP Connect client's
pooled connections are opened; at shutdown they and the database connection pool are closed.
With the provider sandbox enabled (never in production), each request is first stamped with when
it arrived (``gp_sandbox.arrival``); no other part of the site knows the sandbox.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import import_module
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_site.settings")
django_application = get_asgi_application()

# Imported once Django is set up.
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from booking_site import gpconnect  # noqa: E402

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

if settings.SANDBOX_ENABLED:
    # The sandbox times a practice's latency from when a request reached this process.
    from gp_sandbox.arrival import stamped_asgi

    _http = stamped_asgi(django_application)
else:
    _http = django_application


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    else:
        await _http(scope, receive, send)


async def lifespan(receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol: start-up, then shutdown, each reported to the server."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await start_up()
            except Exception as error:
                await send({"type": "lifespan.startup.failed", "message": repr(error)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await shut_down()
            except Exception as error:
                await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return


async def start_up() -> None:
    # Every view and what it imports, now rather than in the first patient's request.
    import_module(settings.ROOT_URLCONF)
    await gpconnect.open_shared()


async def shut_down() -> None:
    await gpconnect.close_shared()
    await sync_to_async(_close_database_pools)()


def _close_database_pools() -> None:
    for connection in connections.all():
        if connection.settings_dict.get("OPTIONS", {}).get("pool"):
            connection.close_pool()
