"""The sandbox's short-lived signed access tokens (CONFORMANCE D8).

A patient token carries the patient's NHS number; a service token carries none and may only
search for slots. The site gets a patient token only by token exchange of the patient's NHS login
ID token at the API platform's token endpoint (``api_platform``); a service token by client
credentials.
"""

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

_SALT = "gp_sandbox.access-token"

PATIENT_SCOPE = "patient"
SERVICE_SCOPE = "service"


class InvalidToken(Exception):
    """The token is missing, malformed, forged or expired (401)."""


@dataclass(frozen=True)
class TokenClaims:
    scope: str
    nhs_number: str | None
    expires_at: int

    @property
    def is_service(self) -> bool:
        return self.scope == SERVICE_SCOPE


def issue_token(nhs_number: str | None = None, *, ttl_seconds: int | None = None) -> str:
    """A patient token for ``nhs_number``, or a service token when it is None."""
    ttl = settings.SANDBOX_TOKEN_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    claims = {
        "scope": PATIENT_SCOPE if nhs_number else SERVICE_SCOPE,
        "sub": nhs_number,
        "exp": int(time.time()) + ttl,
        "jti": secrets.token_hex(8),
    }
    return signing.dumps(claims, key=settings.SANDBOX_SIGNING_KEY, salt=_SALT, compress=True)


def verify_token(token: str) -> TokenClaims:
    try:
        claims = signing.loads(token, key=settings.SANDBOX_SIGNING_KEY, salt=_SALT)
    except signing.BadSignature:
        raise InvalidToken("The access token is not valid") from None
    try:
        scope, nhs_number, expires_at = claims["scope"], claims["sub"], int(claims["exp"])
    except (KeyError, TypeError, ValueError):
        raise InvalidToken("The access token is not valid") from None
    if scope not in {PATIENT_SCOPE, SERVICE_SCOPE} or (scope == PATIENT_SCOPE) != bool(nhs_number):
        raise InvalidToken("The access token is not valid")
    if expires_at <= time.time():
        raise InvalidToken("The access token has expired")
    return TokenClaims(scope=scope, nhs_number=nhs_number, expires_at=expires_at)
