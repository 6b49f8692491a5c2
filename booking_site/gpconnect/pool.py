"""httpx's own transport, on a network backend built straight on asyncio's transports.

httpcore's default backend (anyio) costs the pool more than it should on a federated search:

* Before and after every request the connection pool asks each idle pooled connection whether
  its socket has become readable (a server that closed a kept-alive connection). anyio answers
  by asking the kernel (rebuilding its socket attributes, a ``getpeername``, then a ``poll``),
  and a search starts and ends a request per practice and window while the others'
  connections sit in the pool: the questions grow with the square of the practices.
* Every read stops and restarts the transport's reading (two ``epoll_ctl`` calls) and every
  read and write opens a cancel scope for its timeout.

Here each connection's protocol keeps reading into a buffer (paused only while a megabyte waits
unread), so the pool's question is answered from what the event loop has already seen: data or
an end of stream waiting means the connection cannot be reused. Each read or write that has to
wait does so on one future with one timer.

The pool itself is httpcore's, with its bookkeeping (``_assign_requests_to_connections``, run
whenever a request starts or a reply is closed) done in one pass over the connections: httpcore
1.0.9's lists every connection again for each idle one, about 1,750 checks a request with twenty
connections, some 8% of the client's time in a 20-practice search.

The errors are httpcore's, as its own backends raise them, so httpx maps them as usual.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing
from collections import deque

import httpcore
import httpx

# Stop reading from the socket while this much is buffered and unread; go on below a quarter.
_READ_HIGH_WATER = 1024 * 1024
_READ_LOW_WATER = _READ_HIGH_WATER // 4


class _Protocol(asyncio.Protocol):
    """Buffers what the peer sends and wakes whoever waits for it, or for the write buffer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.at_eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.at_eof = True
        self._wake()
        return False  # nothing more to send on a connection the server has finished with

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
            self.chunks.appendleft(rest)
        self.buffered -= len(chunk)
        if self.reading_paused and self.buffered <= _READ_LOW_WATER and not self.lost:
            self.reading_paused = False
            self.transport.resume_reading()
        return chunk

    async def readable(self, timeout: float | None) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        await _wait(self._waiter, timeout)

    async def drained(self, timeout: float | None) -> None:
        self._drain_waiter = asyncio.get_running_loop().create_future()
        await _wait(self._drain_waiter, timeout)


async def _wait(future: asyncio.Future[None], timeout: float | None) -> None:
    """Wait for ``future``, raising TimeoutError after ``timeout`` seconds (None: no limit)."""
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _time_out, future)
    try:
        await future
    finally:
        timer.cancel()


def _time_out(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks and not protocol.at_eof and not protocol.lost:
            try:
                await protocol.readable(timeout)
            except TimeoutError as error:
                raise httpcore.ReadTimeout(error) from error
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(protocol.error) from protocol.error
        return b""  # the peer has finished sending

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise httpcore.WriteError("The connection is closed")
        self._transport.write(buffer)
        if protocol.writing_paused:
            try:
                await protocol.drained(timeout)
            except TimeoutError as error:
                raise httpcore.WriteTimeout(error) from error
            if protocol.lost:
                raise httpcore.WriteError("The connection was lost while sending")

    async def aclose(self) -> None:
        self._closed = True
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls_transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as error:
            self._transport.abort()
            raise httpcore.ConnectTimeout(error) from error
        except OSError as error:  # ssl.SSLError is one
            self._transport.abort()
            raise httpcore.ConnectError(error) from error
        if tls_transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("The connection closed during the TLS handshake")
        self._protocol.transport = tls_transport
        return _Stream(tls_transport, self._protocol)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            # As httpcore's own check: anything waiting to be read, or the end of the stream,
            # means the pool must not send another request on this connection.
            protocol = self._protocol
            return self._closed or bool(protocol.chunks) or protocol.at_eof or protocol.lost
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


async def _connected(
    connect: typing.Callable[[], typing.Awaitable[tuple[asyncio.BaseTransport, _Protocol]]],
    timeout: float | None,
    socket_options: typing.Iterable[typing.Any] | None,
) -> _Stream:
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await connect()
    except TimeoutError as error:
        raise httpcore.ConnectTimeout(error) from error
    except OSError as error:
        raise httpcore.ConnectError(error) from error
    transport = typing.cast(asyncio.Transport, transport)
    raw: socket.socket | None = transport.get_extra_info("socket")
    for option in socket_options or ():
        if raw is not None:
            raw.setsockopt(*option)
    return _Stream(transport, protocol)


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        # asyncio sets TCP_NODELAY on the sockets it connects, as httpcore expects.
        return await _connected(
            lambda: loop.create_connection(_Protocol, host, port, local_addr=local),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _connected(
            lambda: loop.create_unix_connection(_Protocol, path), timeout, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, assigning requests to connections in linear time."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        # What httpcore 1.0.9 does, in the same order, with the same outcome. Its test for a
        # surplus idle connection counts every connection (idle or not) at that moment, which
        # is len(self._connections) here too.
        closing: list[httpcore.AsyncConnectionInterface] = []
        connections = self._connections
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif connection.has_expired() or (
                connection.is_idle() and len(connections) > self._max_keepalive_connections
            ):
                connections.remove(connection)
                closing.append(connection)

        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            available = next(
                (c for c in connections if c.can_handle_request(origin) and c.is_available()),
                None,
            )
            if available is not None:
                pool_request.assign_to_connection(available)
                continue
            if len(connections) >= self._max_connections:
                idle = next((c for c in connections if c.is_idle()), None)
                if idle is None:
                    continue  # stays queued until a connection is released
                connections.remove(idle)
                closing.append(idle)
            connection = self.create_connection(origin)
            connections.append(connection)
            pool_request.assign_to_connection(connection)
        return closing


def transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """``httpx.AsyncHTTPTransport(verify=..., limits=...)``, on the asyncio backend.

    httpx does not take a network backend, so its pool (``_pool``, the one attribute relied on,
    with httpx pinned) is replaced by one built with the same settings, this backend and the
    linear bookkeeping.
    """
    http = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    http._pool = _Pool(
        ssl_context=verify,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=_Backend(),
    )
    return http
