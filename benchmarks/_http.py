"""A lean HTTP/1.1 client for load: one kept-alive connection per simulated browser.

Load from this process shares the machine's two cores with the site's server, so the client
must cost little: it writes a GET and reads the status line, the headers and the body
(Content-Length or chunked), nothing more. A general client (httpx) spends about a millisecond
of CPU a request, a fair share of what a small page costs the server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float  # from writing the request to the body's last byte


class Connection:
    """A kept-alive connection to 127.0.0.1:``port``, reopened if the server closes it."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.cookie = cookie
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> Reply:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if self.cookie:
            request += f"Cookie: {self.cookie}\r\n"
        started = time.perf_counter()
        self._writer.write((request + "\r\n").encode("latin-1"))
        async with asyncio.timeout(TIMEOUT_SECONDS):
            status, headers = await self._head()
            body = await self._body(headers)
        seconds = time.perf_counter() - started
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, body, seconds)

    async def _head(self) -> tuple[int, dict[str, str]]:
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return int(status_line.split(" ", 2)[1]), headers

    async def _body(self, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await self._reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk[:-2])
        return await self._reader.read()  # no length: the body ends with the connection

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = self._reader = None


async def load(
    port: int, path: str, *, requests: int, connections: int, cookie: str = ""
) -> tuple[float, list[Reply]]:
    """``requests`` GETs of ``path`` over ``connections`` kept-alive connections, each sending
    its next request as soon as its last reply is in: the seconds it took, and the replies."""
    remaining = requests
    replies: list[Reply] = []

    async def browser() -> None:
        nonlocal remaining
        connection = Connection(port, cookie)
        try:
            while remaining > 0:
                remaining -= 1
                replies.append(await connection.get(path))
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(browser() for _ in range(connections)))
    return time.perf_counter() - started, replies
