"""Two small TCP proxies on 127.0.0.1 for the chaos run, each on an asyncio loop in a thread:

* ``PipeProxy`` passes bytes both ways (the site's PostgreSQL connections) until ``cut()``: every
  open connection is closed and new ones are closed as soon as they arrive, until ``restore()``.
* ``PracticeProxy`` stands between the site and the sandbox's practices. It reads one HTTP/1.1
  request at a time, sends it upstream on a connection of its own and reads the whole reply, so
  the practice has done its work, and then passes the reply on, or per ``fault`` (decided for
  each booking request, ``POST .../Appointment``):
  ``drop`` closes the site's connection without a byte of the reply; ``cut`` passes the
  headers and half of a 201's body, then closes; ``garble`` changes bytes inside a 201's body
  (its length unchanged), so it is no longer JSON. A fault named in ``actions`` runs that
  function (in a thread) once the practice has replied, then passes the reply on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from collections.abc import Callable

Fault = str  # "pass", "drop", "cut" or "garble"


class _LoopThread:
    """An asyncio server on a free 127.0.0.1 port, served from a daemon thread."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def start(self) -> _LoopThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("The proxy did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await writer.wait_closed()


class PipeProxy(_LoopThread):
    """Bytes both ways, until ``cut()``."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.is_cut = False
        self.refused = 0
        self._open: set[asyncio.StreamWriter] = set()

    def cut(self) -> None:
        self.is_cut = True

        async def close_all() -> None:
            for writer in list(self._open):
                await _close(writer)

        asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(5)

    def restore(self) -> None:
        self.is_cut = False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            self.refused += 1
            await _close(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            await _close(writer)
            return
        self._open.update((writer, up_writer))

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            await _close(sink)

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._open.difference_update((writer, up_writer))
        await _close(writer)


class PracticeProxy(_LoopThread):
    """HTTP/1.1 between the site and the sandbox, with faults in booking replies.

    ``fault`` is called for each booking request and returns what to do with its reply;
    ``counts`` records what was done, by (fault, upstream status).
    """

    def __init__(
        self,
        upstream_port: int,
        fault: Callable[[], Fault],
        actions: dict[str, Callable[[], None]] | None = None,
    ) -> None:
        super().__init__(upstream_port)
        self.fault = fault
        self.actions = actions or {}
        self.counts: Counter[tuple[Fault, int]] = Counter()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await _read_request(reader):
                keep_open = await self._exchange(request, writer)
                if not keep_open:
                    break
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await _close(writer)

    async def _exchange(self, request: bytes, writer: asyncio.StreamWriter) -> bool:
        first_line = request.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = first_line.split(" ")[:2]
        is_booking = method == "POST" and target.rstrip("/").endswith("/Appointment")
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            up_writer.write(_with_connection_close(request))
            await up_writer.drain()
            reply = await up_reader.read(-1)  # the upstream closes after its reply
        finally:
            await _close(up_writer)
        head, _, body = reply.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        fault = self.fault() if is_booking else "pass"
        if fault in ("cut", "garble") and status != 201:
            fault = "pass"
        if is_booking:
            self.counts[(fault, status)] += 1
        if fault in self.actions:
            await asyncio.get_running_loop().run_in_executor(None, self.actions[fault])
        if fault == "drop":
            return False
        if fault == "cut":
            writer.write(head + b"\r\n\r\n" + body[: len(body) // 2])
            await writer.drain()
            return False
        if fault == "garble":
            reply = head + b"\r\n\r\n" + _garbled(body)
        writer.write(reply)
        await writer.drain()
        return False  # the reply says "Connection: close", as the upstream's did


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One whole request (head and Content-Length body), or None at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as partial:
        if partial.partial:
            raise
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked requests are not expected from the site")
    return head + (await reader.readexactly(length) if length else b"")


def _with_connection_close(request: bytes) -> bytes:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [
        line
        for line in head.split(b"\r\n")
        if line.partition(b":")[0].strip().lower() != b"connection"
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


_GARBLING = random.Random(5)


def _garbled(body: bytes) -> bytes:
    """The same length, no longer JSON: the opening brace and a few bytes inside changed."""
    changed = bytearray(body)
    if changed:
        changed[0:1] = b"#"
        for _ in range(min(8, len(changed))):
            changed[_GARBLING.randrange(len(changed))] = _GARBLING.choice(b"\x00\xff#~")
    return bytes(changed)
