"""Where bearer tokens come from (CONFORMANCE D8), and which source a session gets.

A session asks its ``CredentialSource`` (``transport.py`` says what one must do) for a token
before each request. ``default_source()`` is the one place the source is chosen from settings.

``PlatformCredentials`` asks the API platform's token endpoint (``GPCONNECT_TOKEN_URL``; the
sandbox's by default) over HTTP, through the asking session's pooled client:

* for a patient, by OAuth 2.0 token exchange (RFC 8693): the patient's NHS login ID token for a
  GP Connect access token, the client authenticated by a JWT signed with the service's key
  (the "separate authentication and authorisation" pattern). A patient without an ID token
  gets no token: nothing the site was merely told reaches a practice;
* for the service itself (slot searches of the staff preview), by client credentials.

Tokens are kept in the Django cache until shortly before they expire, so every site instance
shares them, keyed by a keyed hash of the client, patient and ID token. It also keeps the tokens
it has used until then: twenty practices searched at once must not make twenty cache reads
(each a hop to a thread) before their requests can go.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from booking_site.gpconnect import caching, config
from booking_site.gpconnect.errors import (
    TOKEN,
    InvalidReply,
    InvalidRequest,
    NotAuthorised,
    TokenRefused,
)
from booking_site.gpconnect.parsing.bundles import load_json
from booking_site.gpconnect.transport import CredentialSource, Session
from booking_site.gpconnect.values import Patient
from booking_site.nhs_login import client_assertion

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a URN
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def default_source() -> CredentialSource:
    """The credential source a session is opened with unless it is given one."""
    return PlatformCredentials.from_settings()


class PlatformCredentials:
    """Tokens from the API platform's token endpoint: token exchange for a patient, client
    credentials for the service."""

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
        assertion: Callable[[str], str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        # Makes the signed client assertion (private_key_jwt) for an audience.
        self._assertion = assertion
        # Wall-clock seconds, as the shared cache's entries say when their token expires.
        self._clock = clock or caching.wall_clock
        self._kept: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_settings(cls) -> PlatformCredentials:
        token_url = settings.GPCONNECT_TOKEN_URL or (
            settings.SANDBOX_BASE_URL.rstrip("/") + "/oauth2/token"
        )
        return cls(
            token_url,
            settings.SANDBOX_CLIENT_ID,
            settings.SANDBOX_CLIENT_SECRET,
            assertion=client_assertion,
        )

    def _key(self, patient: Patient | None) -> str:
        if patient is None:
            return caching.token_key(self.client_id, None)
        return caching.token_key(self.client_id, patient.nhs_number, patient.id_token)

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

    def _form(self, patient: Patient | None) -> dict[str, str]:
        if patient is None:
            return {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        if not patient.id_token or self._assertion is None:
            raise TokenRefused(diagnostics="No NHS login ID token to exchange for the patient")
        return {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token_type": ID_TOKEN_TYPE,
            "subject_token": patient.id_token,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self._assertion(self.token_url),
        }

    async def _fetch(self, patient: Patient | None, key: str, session: Session) -> str:
        form = self._form(patient)
        loop = asyncio.get_running_loop()
        try:
            reply = await self._exchange(form, session, loop)
        except (InvalidRequest, NotAuthorised) as refused:
            if patient is None:
                raise
            # invalid_grant (the ID token expired, revoked, below P9…) or invalid_client.
            raise TokenRefused(diagnostics=refused.diagnostics) from refused
        return await self._kept_token(reply, key)

    async def _exchange(self, form: dict[str, str], session: Session, loop):
        return await session.exchange(
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

    async def _kept_token(self, reply, key: str) -> str:
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
