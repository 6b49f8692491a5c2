"""Where bearer tokens come from (CONFORMANCE D8), and which source a session gets.

A session asks its ``CredentialSource`` (``transport.py`` says what one must do) for a token
before each request. ``default_source()`` is the one place the source is chosen from settings:
today always ``SandboxCredentials``; the signed-in patient's NHS login access token is to be
chosen there too.

``SandboxCredentials`` asks the sandbox's token endpoint over HTTP (through the asking session's
pooled client) and keeps tokens in the Django cache until shortly before they expire, so every
site instance shares them. It also keeps the tokens it has used until then: twenty practices
searched at once must not make twenty cache reads (each a hop to a thread) before their
requests can go.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from booking_site.gpconnect import caching, config
from booking_site.gpconnect.errors import TOKEN, InvalidReply
from booking_site.gpconnect.parsing.bundles import load_json
from booking_site.gpconnect.transport import CredentialSource, Session
from booking_site.gpconnect.values import Patient


def default_source() -> CredentialSource:
    """The credential source a session is opened with unless it is given one.

    Only the sandbox's today (``SANDBOX_*`` settings). NHS login, when it comes, is chosen here
    from its own setting, and nowhere else.
    """
    return SandboxCredentials.from_settings()


class SandboxCredentials:
    """Client-credentials tokens from the sandbox: ``POST <SANDBOX_BASE_URL>/oauth2/token``."""

    # Stop using a token this long (at most) before it expires.
    EXPIRY_MARGIN_SECONDS = 60
    # Tokens kept by one session (a service token and each patient's who searched lately).
    KEPT_TOKENS = 256

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        # Wall-clock seconds, as the shared cache's entries say when their token expires.
        self._clock = clock or caching.wall_clock
        self._kept: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_settings(cls) -> SandboxCredentials:
        return cls(
            settings.SANDBOX_BASE_URL.rstrip("/") + "/oauth2/token",
            settings.SANDBOX_CLIENT_ID,
            settings.SANDBOX_CLIENT_SECRET,
        )

    def _key(self, patient: Patient | None) -> str:
        return caching.token_key(self.client_id, patient.nhs_number if patient else None)

    async def token_for(self, patient: Patient | None, session: Session) -> str:
        key = self._key(patient)
        kept = self._kept.get(key)
        if kept is not None and kept[1] > self._clock():
            return kept[0]
        # Many practices and windows ask at once: read the cache (and fetch) once for all.
        return await session.single_flight(
            key, lambda: self._cached_or_fetched(patient, key, session)
        )

    async def forget(self, patient: Patient | None) -> None:
        key = self._key(patient)
        self._kept.pop(key, None)
        await caching.delete(key)

    async def _cached_or_fetched(self, patient: Patient | None, key: str, session: Session) -> str:
        entry = await caching.get(key)
        if (
            isinstance(entry, tuple)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and entry[0]
            and isinstance(entry[1], float)
            and entry[1] > self._clock()
        ):
            self._keep(key, *entry)
            return entry[0]
        return await self._fetch(patient, key, session)

    def _keep(self, key: str, token: str, expires_at: float) -> None:
        if len(self._kept) >= self.KEPT_TOKENS:
            now = self._clock()
            self._kept = {k: kept for k, kept in self._kept.items() if kept[1] > now}
            while len(self._kept) >= self.KEPT_TOKENS:
                del self._kept[next(iter(self._kept))]
        self._kept[key] = (token, expires_at)

    async def _fetch(self, patient: Patient | None, key: str, session: Session) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if patient is not None:
            form["nhs_number"] = patient.nhs_number
        loop = asyncio.get_running_loop()
        reply = await session.exchange(
            practice_ods="-",
            operation=TOKEN,
            method="POST",
            url=self.token_url,
            host=urlsplit(self.token_url).netloc.lower(),
            request_id=str(uuid.uuid4()),
            correlation_id=None,
            deadline=loop.time() + config.current().practice_timeout,
            authorise=False,
            content=urlencode(form).encode(),
            content_type="application/x-www-form-urlencoded",
            accept="application/json",
        )
        doc = load_json(reply.content)
        token = doc.get("access_token") if isinstance(doc, dict) else None
        expires_in = doc.get("expires_in") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise InvalidReply(diagnostics="The token reply has no access_token")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0:
            ttl = expires_in - min(self.EXPIRY_MARGIN_SECONDS, expires_in // 5)
            if ttl > 0:
                expires_at = self._clock() + ttl
                self._keep(key, token, expires_at)
                await caching.put(key, (token, expires_at), ttl)
        return token
