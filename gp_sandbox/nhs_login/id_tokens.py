"""The stand-in's ID tokens: signed here (for the token endpoint and for tests of the site),
verified here (for the API platform's token exchange). joserfc does the JWT work."""

import secrets
import time
from dataclasses import dataclass

from authlib.oidc.core.util import create_half_hash
from django.conf import settings
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)

from gp_sandbox.models import LoginIdentity
from gp_sandbox.nhs_login import config
from gp_sandbox.nhs_login.identities import has_nhs_number
from gp_sandbox.validation import is_nhs_number

# Clock skew allowed when checking an ID token's times.
LEEWAY_SECONDS = 60


class InvalidIdToken(Exception):
    """The ID token cannot be accepted; the message says why, in words fit for an OAuth error
    description (printable ASCII, no quotes or backslashes)."""


@dataclass(frozen=True)
class IdTokenClaims:
    sub: str
    nhs_number: str
    vot: str
    expires_at: int


def issue_id_token(
    identity: LoginIdentity,
    *,
    audience: str,
    nonce: str | None = None,
    vot: str = "P9.Cp.Cd",
    ttl_seconds: int | None = None,
    issued_at: int | None = None,
    auth_time: int | None = None,
    access_token: str | None = None,
) -> str:
    """An ID token for ``identity``, signed RS512 with the stand-in's key, exactly as its token
    endpoint issues them. ``audience`` is the relying party's client id."""
    now = int(time.time()) if issued_at is None else issued_at
    ttl = settings.SANDBOX_ID_TOKEN_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    issuer = config.issuer()
    claims = {
        "iss": issuer,
        "sub": str(identity.sub),
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "auth_time": now if auth_time is None else auth_time,
        "jti": secrets.token_urlsafe(16),
        "vot": vot,
        "vtm": f"{issuer}/trustmark",
        "identity_proofing_level": identity.identity_proofing_level,
    }
    if has_nhs_number(identity):
        claims["nhs_number"] = identity.nhs_number
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = create_half_hash(access_token, config.ID_TOKEN_ALG).decode()
    key = config.signing_key()
    header = {"alg": config.ID_TOKEN_ALG, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[config.ID_TOKEN_ALG])


def verify_id_token(token: str, *, audience: str) -> IdTokenClaims:
    """The claims of a P9 NHS login ID token issued by the stand-in to ``audience``.

    Raises InvalidIdToken, saying why, when the token is not a JWT, its signature does not
    verify with the stand-in's key, it was issued by someone else or to someone else, it has
    expired, or it is not for a person proved to P9 with a valid NHS number.
    """
    try:
        decoded = jwt.decode(token, config.verification_key(), algorithms=[config.ID_TOKEN_ALG])
    except BadSignatureError:
        raise InvalidIdToken("The ID token signature does not verify with NHS login keys") from None
    except (JoseError, ValueError, TypeError):
        raise InvalidIdToken("The ID token is not a JWT signed RS512 by NHS login") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": config.issuer()},
        sub={"essential": True},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
    )
    claims = decoded.claims
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise InvalidIdToken("The ID token has expired") from None
    except MissingClaimError as error:
        raise InvalidIdToken(f"The ID token has no {_claim(error)} claim") from None
    except ClaimError as error:
        raise InvalidIdToken(_wrong_claim(_claim(error))) from None
    if claims.get("identity_proofing_level") != "P9" or not str(claims.get("vot", "")).startswith(
        "P9."
    ):
        raise InvalidIdToken(
            "The ID token is below P9: the person has not proved who they are to the level "
            "needed to see or book appointments"
        )
    number = claims.get("nhs_number")
    if not (isinstance(number, str) and is_nhs_number(number)):
        raise InvalidIdToken("The ID token has no valid nhs_number claim")
    return IdTokenClaims(
        sub=claims["sub"], nhs_number=number, vot=claims["vot"], expires_at=int(claims["exp"])
    )


def _claim(error: ClaimError) -> str:
    return error.claim if error.claim in {"iss", "sub", "aud", "exp", "iat", "nbf"} else "a"


def _wrong_claim(claim: str) -> str:
    if claim == "iss":
        return "The ID token was not issued by this NHS login (iss)"
    if claim == "aud":
        return "The ID token was issued to another client (aud)"
    return f"The ID token has an invalid {claim} claim"
