"""The ASGI lifespan: a serving process opens what it shares at start-up and closes it at the
end."""

import asyncio

from booking_site import asgi
from booking_site.gpconnect import sessions


def run_lifespan(between=None):
    """Start up and shut down ``asgi.application`` as a server would; what it sent back, and
    what ``between`` returned while it was up."""
    sent = []
    seen = {}

    async def serve():
        inbox: asyncio.Queue = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})

        async def receive():
            message = await inbox.get()
            if message["type"] == "lifespan.shutdown" and between is not None:
                seen["up"] = between()
            return message

        async def send(message):
            sent.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                await inbox.put({"type": "lifespan.shutdown"})

        await asgi.application({"type": "lifespan"}, receive, send)
        seen["after"] = sessions._per_loop.get(asyncio.get_running_loop())

    asyncio.run(serve())
    return sent, seen


def test_start_up_opens_the_loops_client_and_shutdown_closes_it():
    def shared_session():
        return sessions._per_loop.get(asyncio.get_event_loop())

    sent, seen = run_lifespan(shared_session)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    opened = seen["up"]
    assert opened is not None
    assert opened.closed
    assert seen["after"] is None


def test_a_failed_start_up_is_reported_to_the_server(monkeypatch):
    async def broken():
        raise RuntimeError("no client today")

    monkeypatch.setattr(asgi, "start_up", broken)

    sent, _ = run_lifespan()

    assert sent == ["lifespan.startup.failed"]
