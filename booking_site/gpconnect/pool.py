"""httpx's own transport, on a network backend that keeps the pool's bookkeeping cheap.

Before and after every request httpcore's connection pool asks each idle pooled connection
whether its socket has become readable (a server that closed a kept-alive connection). On the
default anyio backend each question rebuilds anyio's table of socket attributes, which asks the
kernel for the peer's address, and then polls the socket: about 15 µs. A federated search
starts and ends a request per practice and window while the others' connections sit in the
pool, so the questions grow with the square of the practices: at 20 practices they were about a
sixth of the client's CPU per search. Here the stream keeps its socket and a poll object of its
own, and each question is one ``poll`` system call.

Everything else (connecting, TLS, reading, writing, timeouts) is the anyio backend's.
"""

from __future__ import annotations

import select
import ssl
import typing

import httpcore
import httpx


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")
        self._poll: select.poll | None = None
        self._polled_fd = -1

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return self._is_readable()
        return self._inner.get_extra_info(info)

    def _is_readable(self) -> bool:
        # As httpcore's own check: a socket that is gone reads as readable (its next read
        # would return b""), so the pool drops the connection.
        fd = self._socket.fileno() if self._socket is not None else -1
        if fd < 0:
            return True
        if fd != self._polled_fd:
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)
            self._polled_fd = fd
        return bool(self._poll.poll(0))


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(
            await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """``httpx.AsyncHTTPTransport(verify=..., limits=...)``, with the cheap idle check.

    httpx does not take a network backend, so its pool (``_pool``, the one attribute relied on,
    with httpx pinned) is replaced by one built with the same settings and this backend.
    """
    http = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    http._pool = httpcore.AsyncConnectionPool(
        ssl_context=verify,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=_Backend(),
    )
    return http
