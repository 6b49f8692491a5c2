"""Practices are reached over TLS with the client's own verifying context: a practice whose
certificate is not trusted is never sent a request, and a trusted one is read and reused."""

import asyncio
import ssl
import uuid
from pathlib import Path

import pytest

from booking_site import gpconnect
from booking_site.gpconnect import transport

from .conftest import StaticCredentials

TLS = Path(__file__).parent / "tls"
REPLY = b'{"resourceType": "Bundle", "type": "searchset"}'


async def serve_over_tls(requests: list[bytes], connections: list[object] | None = None):
    """A server on 127.0.0.1 with the test certificate, answering every request with REPLY;
    each request's head goes in ``requests``, each connection in ``connections``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "server.pem")

    async def handle(reader, writer):
        if connections is not None:
            connections.append(writer)
        while head := await reader.readuntil(b"\r\n\r\n"):
            requests.append(head)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                + f"Content-Length: {len(REPLY)}\r\n\r\n".encode()
                + REPLY
            )
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1]


async def ask(session: transport.Session, port: int):
    loop = asyncio.get_running_loop()
    return await session.exchange(
        practice_ods="A20047",
        operation="slot_search",
        method="GET",
        url=f"https://127.0.0.1:{port}/A20047/Slot",
        host=f"127.0.0.1:{port}",
        request_id=str(uuid.uuid4()),
        correlation_id="page-1",
        deadline=loop.time() + 1,
    )


def test_a_practice_whose_certificate_is_not_trusted_is_never_sent_a_request(settings):
    settings.GPCONNECT_RETRIES = 0
    requests: list[bytes] = []

    async def main():
        server, port = await serve_over_tls(requests)
        async with server, gpconnect.session(credentials=StaticCredentials()) as session:
            await ask(session, port)

    with pytest.raises(gpconnect.Unavailable):
        asyncio.run(main())

    assert requests == []


def test_a_trusted_practice_is_read_and_its_connection_reused(monkeypatch):
    trusted = ssl.create_default_context(cafile=TLS / "ca.pem")
    monkeypatch.setattr(transport, "_tls_context", lambda: trusted)
    requests: list[bytes] = []
    connections: list[object] = []

    async def main():
        server, port = await serve_over_tls(requests, connections)
        async with server, gpconnect.session(credentials=StaticCredentials()) as session:
            return [await ask(session, port), await ask(session, port)]

    first, second = asyncio.run(main())

    assert first.content == second.content == REPLY
    assert len(requests) == 2
    assert len(connections) == 1
