"""The pooled transport's network backend: a cheap idle-connection check that still notices a
server closing a kept-alive connection (booking_site/gpconnect/pool.py)."""

import asyncio
import select

import httpx

from booking_site.gpconnect import pool, transport

_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


async def _serve(handle):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _wait_until_readable(stream) -> None:
    """Block (at most 5 s) until the peer's close has reached this socket."""
    poller = select.poll()
    poller.register(stream.get_extra_info("socket").fileno(), select.POLLIN)
    assert poller.poll(5000)


def test_an_idle_connection_reads_as_readable_once_the_server_has_closed_it():
    async def scenario():
        closed = asyncio.Event()

        async def handle(reader, writer):
            await closed.wait()
            writer.close()

        server, port = await _serve(handle)
        async with server:
            stream = await pool._Backend().connect_tcp("127.0.0.1", port)
            before = stream.get_extra_info("is_readable")
            closed.set()
            await asyncio.to_thread(_wait_until_readable, stream)
            after = stream.get_extra_info("is_readable")
            await stream.aclose()
            gone = stream.get_extra_info("is_readable")
        return before, after, gone

    before, after, gone = asyncio.run(scenario())

    assert (before, after, gone) == (False, True, True)


def test_the_pool_does_not_reuse_a_connection_the_server_closed():
    async def scenario():
        connections = 0
        close_now = asyncio.Event()

        async def handle(reader, writer):
            nonlocal connections
            connections += 1
            await reader.readuntil(b"\r\n\r\n")
            writer.write(_REPLY)
            await writer.drain()
            await close_now.wait()  # the connection sits idle in the client's pool...
            writer.close()  # ...until the server drops it, as servers do after a while

        server, port = await _serve(handle)
        limits = httpx.Limits(max_keepalive_connections=5)
        async with (
            server,
            httpx.AsyncClient(
                transport=pool.transport(verify=transport._tls_context(), limits=limits)
            ) as client,
        ):
            first = await client.get(f"http://127.0.0.1:{port}/")
            [idle] = client._transport._pool.connections
            close_now.set()
            await asyncio.to_thread(_wait_until_readable, idle._connection._network_stream)
            close_now.clear()
            second = await client.get(f"http://127.0.0.1:{port}/")
            close_now.set()
        return first.text, second.text, connections

    assert asyncio.run(scenario()) == ("ok", "ok", 2)


def test_sessions_use_the_pooled_transport(monkeypatch):
    made = []
    real = pool.transport

    def watched(**kwargs):
        made.append(kwargs["limits"])
        return real(**kwargs)

    monkeypatch.setattr(pool, "transport", watched)

    async def open_session():
        async with transport.session() as session:
            return session.client

    asyncio.run(open_session())

    assert len(made) == 1
