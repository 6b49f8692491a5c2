"""The one place the site talks HTTP to practices (STYLE rule 3).

``Session.exchange`` sends one logical request: it adds the headers (CONFORMANCE D8, D9), bounds
the requests in flight to each provider host, enforces the time limits, retries transient
failures with the SAME ``X-Request-ID``, logs one line per round trip, and turns every failure
into a ``ProviderError``.

A ``Session`` is the pooled ``httpx.AsyncClient``s for one event loop, with the credential source
it was opened with: the transport never picks where tokens come from. Which session a call uses,
and the credentials a session is opened with, are ``sessions.py``'s business.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import httpx

from booking_site.gpconnect import config
from booking_site.gpconnect.errors import (
    ProviderError,
    Unavailable,
    error_for,
)
from booking_site.gpconnect.parsing.outcomes import parse_outcome
from booking_site.gpconnect.values import Patient

logger = logging.getLogger("booking_site.gpconnect")

# The first retry waits 0.1–0.2 s, the second 0.2–0.4 s: small, because a patient is waiting.
BACKOFF_SECONDS = 0.1

FHIR_JSON = "application/fhir+json"
FHIR_JSON_UTF8 = "application/fhir+json;charset=utf-8"

# Gateway failures are worth another go; a 500 is the provider's own bug and is not.
_RETRY_STATUSES = frozenset({502, 503, 504})
_LOGGABLE_CODE = re.compile(r"^[A-Z_]{1,40}$")

T = TypeVar("T")


class _WithoutRequestLines(logging.Filter):
    """httpx logs every request's full URL at INFO, and a patient's appointments URL holds their
    NHS number: drop those lines (this package logs its own, without URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request")


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _WithoutRequestLines) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_WithoutRequestLines())


@runtime_checkable
class CredentialSource(Protocol):
    """Where a session's bearer tokens come from (CONFORMANCE D8)."""

    async def token_for(self, patient: Patient | None, session: Session) -> str:
        """A bearer token for ``patient``, or a service token (slot search only) for None.
        ``session`` is the one asking: a source that must fetch a token sends through it."""
        ...

    async def forget(self, patient: Patient | None) -> None:
        """Drop any kept token for ``patient``: a provider has just refused it."""
        ...


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful (2xx) reply."""

    status: int
    content: bytes
    etag: str | None


class Session:
    """Pooled ``AsyncClient``s (one per practice) with per-host bounds and the credential source
    it was opened with, for use on one event loop."""

    def __init__(
        self,
        *,
        credentials: CredentialSource,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        cfg = config.current()
        self.max_per_host = cfg.max_per_host
        self._timeout = httpx.Timeout(cfg.practice_timeout)
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closed = False
        self.credentials = credentials
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._inflight: dict[str, asyncio.Task] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    def client_for(self, practice_ods: str) -> httpx.AsyncClient:
        """The pooled client for one practice (``"-"``: the token endpoint).

        A pool per practice, not one for all: httpcore checks every connection in a pool each
        time a request starts or ends, so one pool of twenty practices' connections cost twenty
        times twenty checks a search (about 1.2 s of CPU for 100 practices, docs/performance.md),
        and in production every practice is reached through the same Spine proxy host.
        Connections are bounded per host by the semaphores below, not by the pools.
        """
        client = self._clients.get(practice_ods)
        if client is None:
            client = self._clients[practice_ods] = httpx.AsyncClient(
                transport=self._transport,
                verify=_tls_context(),
                timeout=self._timeout,
                limits=httpx.Limits(
                    max_connections=None, max_keepalive_connections=10, keepalive_expiry=30
                ),
                follow_redirects=False,
            )
        return client

    def semaphore(self, host: str) -> asyncio.Semaphore:
        if host not in self._semaphores:
            self._semaphores[host] = asyncio.Semaphore(self.max_per_host)
        return self._semaphores[host]

    async def single_flight(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        """Run ``factory`` once for everyone asking for ``key`` at the same time."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finish_flight(key, done))
        return await asyncio.shield(task)

    def _finish_flight(self, key: str, task: asyncio.Task) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported as lost

    async def exchange(
        self,
        *,
        practice_ods: str,
        operation: str,
        method: str,
        url: str,
        host: str,
        request_id: str,
        correlation_id: str | None,
        deadline: float,
        patient: Patient | None = None,
        authorise: bool = True,
        content: bytes | None = None,
        content_type: str = FHIR_JSON_UTF8,
        accept: str = FHIR_JSON,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one logical request and return its 2xx reply, or raise a ``ProviderError``.

        ``deadline`` is on the running loop's clock; each attempt is also limited to the
        per-practice timeout. Transient failures (no connection, 502/503/504, no reply in time)
        are retried a bounded number of times, re-sending the same ``X-Request-ID`` so a provider
        can recognise a repeated booking or cancellation (CONFORMANCE D9). 4xx never is.
        """
        cfg = config.current()
        loop = asyncio.get_running_loop()
        headers = {"Accept": accept, "X-Request-ID": request_id}
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        if content is not None:
            headers["Content-Type"] = content_type
        if extra_headers:
            headers.update(extra_headers)
        attempts = 1 + cfg.retries
        for attempt in range(1, attempts + 1):
            started = loop.time()
            retryable = True
            code = None
            try:
                async with asyncio.timeout_at(min(deadline, started + cfg.practice_timeout)):
                    if authorise:
                        # Before taking a slot of the host's bound: fetching a token may itself need
                        # one (the sandbox's token endpoint is on the same host).
                        token = await self.credentials.token_for(patient, self)
                        headers["Authorization"] = f"Bearer {token}"
                    async with self.semaphore(host):
                        response = await self.client_for(practice_ods).request(
                            method, url, content=content, headers=headers
                        )
            except (TimeoutError, httpx.TimeoutException):
                error: ProviderError = Unavailable(timed_out=True)
                outcome = "timeout"
            except (httpx.NetworkError, httpx.RemoteProtocolError):
                error = Unavailable()
                outcome = "network_error"
            except httpx.HTTPError:
                error, outcome, retryable = Unavailable(), "http_error", False
            else:
                status = response.status_code
                if 200 <= status < 300:
                    _log(
                        logging.INFO, practice_ods, operation, str(status), started, loop,
                        attempt, request_id, correlation_id, None,
                    )  # fmt: skip
                    return Reply(status, response.content, response.headers.get("ETag"))
                parsed = parse_outcome(response.content)
                error = error_for(status, parsed, operation)
                code = error.code
                outcome = str(status)
                retryable = status in _RETRY_STATUSES
                if status == 401 and authorise:
                    await self.credentials.forget(patient)
            _log(
                logging.WARNING, practice_ods, operation, outcome, started, loop,
                attempt, request_id, correlation_id, code,
            )  # fmt: skip
            if not retryable or attempt == attempts:
                raise error
            delay = BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random())
            if loop.time() + delay >= deadline:
                raise error
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CA bundle, unless SSL_CERT_FILE or
    SSL_CERT_DIR says otherwise), built once per process: building it loads the whole CA bundle
    (about 20 ms), and every event loop and ``session()`` opens a client. A configured context
    is safely shared by clients, threads and event loops."""
    return httpx.create_ssl_context()


def _log(
    level: int,
    ods: str,
    operation: str,
    outcome: str,
    started: float,
    loop: asyncio.AbstractEventLoop,
    attempt: int,
    request_id: str,
    correlation_id: str | None,
    code: str | None,
) -> None:
    """One line per round trip. Never a URL (patient paths hold the NHS number), body or text."""
    elapsed_ms = round((loop.time() - started) * 1000)
    safe_code = code if code and _LOGGABLE_CODE.match(code) else "-"
    fields = {
        "ods": ods,
        "operation": operation,
        "outcome": outcome,
        "elapsed_ms": elapsed_ms,
        "attempt": attempt,
        "request_id": request_id,
        "correlation_id": correlation_id or "-",
        "code": safe_code,
    }
    logger.log(
        level,
        "provider call ods=%s op=%s outcome=%s ms=%d attempt=%d request_id=%s "
        "correlation_id=%s code=%s",
        *fields.values(),
        extra={"gpconnect": fields},
    )
