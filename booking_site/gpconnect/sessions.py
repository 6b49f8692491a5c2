"""Which client session a call uses, and the credentials each session is opened with.

The client is async only: views that wait on practices are async and await it on the server's
own event loop, so no thread is held while a practice is slow.

An ``httpx.AsyncClient``'s pooled connections (and an ``asyncio.Semaphore``) belong to the event
loop they were first used on. So there is one shared ``Session`` (pooled client, per-host
bounds) per event loop (``current``), and ``session()`` opens a private one for a block. A
server process has one loop: the ASGI lifespan handler (``booking_site.asgi``) opens its session
at start-up (``open_shared``) and closes it at shutdown (``close_shared``), and every page
request reuses its connections. Elsewhere (the test client, a management command) a loop's
shared session is made on first use.

A session opened without credentials gets ``credentials.default_source()``, the one place the
credential source is chosen from settings. Shared sessions are rebuilt when a GPCONNECT_* or
SANDBOX_* setting changes (tests do that). Tests inject a transport with
``session(transport=...)`` or ``use_transport(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar

import httpx
from django.core.signals import setting_changed

from booking_site.gpconnect import credentials as credential_sources
from booking_site.gpconnect.transport import CredentialSource, Session

_current: ContextVar[Session | None] = ContextVar("gpconnect_session", default=None)
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Session] = (
    weakref.WeakKeyDictionary()
)
_override_transport: httpx.AsyncBaseTransport | None = None


def _open(
    transport: httpx.AsyncBaseTransport | None, credentials: CredentialSource | None
) -> Session:
    return Session(
        transport=transport or _override_transport,
        credentials=credentials or credential_sources.default_source(),
    )


def current() -> Session:
    """The session opened by ``session()`` around this call, else this loop's shared one."""
    active = _current.get()
    if active is not None:
        return active
    loop = asyncio.get_running_loop()
    shared = _per_loop.get(loop)
    if shared is None or shared.closed:
        shared = _per_loop[loop] = _open(None, None)
    return shared


async def open_shared() -> None:
    """Make this loop's shared session now (a server process's start-up)."""
    current()


async def close_shared() -> None:
    """Close this loop's shared session and its pooled connections (a server's shutdown)."""
    shared = _per_loop.pop(asyncio.get_running_loop(), None)
    if shared is not None:
        await shared.aclose()


def reset() -> None:
    """Forget the shared sessions, so the next call on each loop builds one from the current
    settings (a forgotten session's client is left to the garbage collector)."""
    _per_loop.clear()


def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("GPCONNECT_", "SANDBOX_")):
        reset()


setting_changed.connect(_settings_changed)


@contextlib.asynccontextmanager
async def session(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: CredentialSource | None = None,
) -> AsyncIterator[Session]:
    """A client for the calls made inside the block (and tasks they start), closed at the end."""
    opened = _open(transport, credentials)
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)
        await opened.aclose()


@contextlib.contextmanager
def use_transport(transport: httpx.AsyncBaseTransport) -> Iterator[None]:
    """Send every request made inside the block through ``transport`` (for tests)."""
    global _override_transport
    previous = _override_transport
    _override_transport = transport
    reset()
    try:
        yield
    finally:
        _override_transport = previous
        reset()
