"""The pooled transport's network backend on asyncio (booking_site/gpconnect/pool.py): plain and
TLS connections, large replies, time limits, and a cheap idle-connection check that still
notices a server closing a kept-alive connection."""

import asyncio
import select
import ssl
from pathlib import Path

import httpcore
import httpx
import pytest

from booking_site.gpconnect import pool, transport

_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
_TLS = Path(__file__).parent / "tls"


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


def _reply_with(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def _client(verify: ssl.SSLContext, timeout: float = 5.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_keepalive_connections=5)
    return httpx.AsyncClient(
        transport=pool.transport(verify=verify, limits=limits), timeout=timeout
    )


def _tls_server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(_TLS / "server.pem")
    return context


async def _serve_replies(body: bytes, *, tls: bool = False):
    async def handle(reader, writer):
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(_reply_with(body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    context = _tls_server_context() if tls else None
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1]


def test_a_reply_over_tls_from_a_trusted_server_is_read_whole_and_the_connection_reused():
    body = bytes(range(256)) * 12_000  # 3 MB: more than the backend buffers before pausing
    trusted = ssl.create_default_context(cafile=_TLS / "ca.pem")

    async def scenario():
        server, port = await _serve_replies(body, tls=True)
        async with server, _client(trusted) as client:
            first = await client.get(f"https://localhost:{port}/")
            second = await client.get(f"https://127.0.0.1:{port}/")
            third = await client.get(f"https://localhost:{port}/")
            connections = len(client._transport._pool.connections)
        return first.content, second.content, third.content, connections

    first, second, third, connections = asyncio.run(scenario())

    assert first == second == third == body
    assert connections == 2  # one per host name, each reused


def test_a_server_whose_certificate_is_not_trusted_is_not_connected_to():
    async def scenario():
        server, port = await _serve_replies(b"secret", tls=True)
        async with server, _client(transport._tls_context()) as client:
            await client.get(f"https://localhost:{port}/")

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(scenario())


def test_a_server_that_never_replies_times_out():
    async def scenario():
        async def handle(reader, writer):
            await reader.read()  # takes the request, never answers, until the client goes
            writer.close()

        server, port = await _serve(handle)
        async with server, _client(transport._tls_context(), timeout=0.2) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(scenario())


def test_nothing_listening_is_a_connect_error():
    async def scenario():
        server, port = await _serve_replies(b"")
        server.close()
        await server.wait_closed()
        async with _client(transport._tls_context()) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(scenario())


def test_a_server_closing_mid_reply_is_a_protocol_error_not_a_short_body():
    async def scenario():
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
            await writer.drain()
            writer.close()

        server, port = await _serve(handle)
        async with server, _client(transport._tls_context()) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(scenario())


def test_a_reader_that_falls_behind_pauses_the_socket_and_still_gets_every_byte():
    body = bytes(range(256)) * 12_000

    async def scenario():
        async def handle(reader, writer):
            writer.write(body)
            await writer.drain()
            writer.close()

        server, port = await _serve(handle)
        async with server:
            stream = await pool._Backend().connect_tcp("127.0.0.1", port)
            protocol = stream._protocol
            for _ in range(500):  # until the buffer passes its mark (at most 5 s)
                if protocol.reading_paused:
                    break
                await asyncio.sleep(0.01)
            paused = protocol.reading_paused
            received = bytearray()
            while chunk := await stream.read(65536, timeout=5):
                received += chunk
            await stream.aclose()
        return paused, bytes(received)

    paused, received = asyncio.run(scenario())

    assert paused
    assert received == body


# --- The pool's bookkeeping --------------------------------------------------------------------


def _request(url: str) -> httpcore.Request:
    return httpcore.Request("GET", url, headers=[(b"Host", httpx.URL(url).host.encode())])


async def _finish(reply: httpcore.Response) -> None:
    """Read the reply whole and close it, leaving its connection idle for the next request."""
    await reply.aread()
    await reply.aclose()


async def _pool_states(pool_class, keep_alive: int) -> list:
    """What a pool of two connections holds after each step of a script: every connection (by
    the order it was made) with whether it is idle, and each connection as it is made."""
    pool = pool_class(
        max_connections=2,
        max_keepalive_connections=keep_alive,
        network_backend=httpcore.AsyncMockBackend([_REPLY] * 20),
    )
    made, states = [], []
    make = pool.create_connection

    def create_connection(origin):
        connection = make(origin)
        made.append(connection)
        states.append(("made for", origin.host))
        return connection

    pool.create_connection = create_connection

    def note(step: str) -> None:
        states.append((step, [(made.index(c), c.is_idle()) for c in pool.connections]))

    async def get(host: str):
        return await pool.handle_async_request(_request(f"http://{host}/"))

    first, second = await get("a.test"), await get("a.test")
    note("two replies open")
    third = asyncio.ensure_future(get("a.test"))
    await asyncio.sleep(0.01)
    note("a third request waits")
    await _finish(first)
    third = await third
    note("the first reply read")
    await _finish(second)
    await _finish(third)
    note("every reply read")
    other = await get("b.test")
    note("another host")
    await _finish(other)
    await pool.aclose()
    return states


@pytest.mark.parametrize("keep_alive", [2, 1])
def test_the_pool_assigns_connections_exactly_as_httpcores_own(keep_alive):
    ours = asyncio.run(_pool_states(pool._Pool, keep_alive))
    theirs = asyncio.run(_pool_states(httpcore.AsyncConnectionPool, keep_alive))

    assert ours == theirs


def test_the_pool_reuses_queues_and_makes_room_for_another_host():
    states = asyncio.run(_pool_states(pool._Pool, keep_alive=2))

    assert states == [
        ("made for", b"a.test"),
        ("made for", b"a.test"),
        ("two replies open", [(0, False), (1, False)]),
        ("a third request waits", [(0, False), (1, False)]),
        ("the first reply read", [(0, False), (1, False)]),
        ("every reply read", [(0, True), (1, True)]),
        ("made for", b"b.test"),  # at the limit: an idle connection to a.test is closed for it
        ("another host", [(1, True), (2, False)]),
    ]


def test_the_pools_bookkeeping_grows_with_the_connections_not_their_square(monkeypatch):
    checks = []
    real_is_idle = httpcore.AsyncHTTPConnection.is_idle

    def is_idle(self):
        checks.append(self)
        return real_is_idle(self)

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "is_idle", is_idle)

    async def one_request_among(idle: int, pool_class) -> int:
        pool = pool_class(
            max_connections=idle,
            network_backend=httpcore.AsyncMockBackend([_REPLY] * 2),
        )
        replies = [
            await pool.handle_async_request(_request(f"http://h{n}.test/")) for n in range(idle)
        ]
        for reply in replies:
            await _finish(reply)
        checks.clear()
        await _finish(await pool.handle_async_request(_request("http://h0.test/")))
        await pool.aclose()
        return len(checks)

    ours = asyncio.run(one_request_among(20, pool._Pool))
    theirs = asyncio.run(one_request_among(20, httpcore.AsyncConnectionPool))

    assert ours <= 3 * 20
    assert theirs > 10 * ours  # what the override is for
