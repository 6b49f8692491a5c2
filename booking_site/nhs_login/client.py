"""The authorisation code flow against NHS login, as its interface specification describes it.

``begin`` makes the authorisation request: ``state`` (ties the reply to this browser),
``nonce`` (ties the ID token to this request), a PKCE challenge, and ``vtr`` (the vectors of
trust the service accepts). ``finish`` takes the reply: it checks ``state``, exchanges the code at
the token endpoint (the client authenticated by a JWT signed with the service's private key,
``private_key_jwt``, RS512), validates the ID token fully (signature from the provider's JWKS,
``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, and ``vot`` one of those asked for) and reads the
person's claims from the userinfo endpoint (whose ``sub`` must be the ID token's).

The discovery document and JWKS are kept in the cache for an hour; a key id the kept JWKS lacks
(the provider rotated its keys) makes one fresh read.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS512"
TIMEOUT_SECONDS = 10.0
METADATA_TTL_SECONDS = 60 * 60
# Allowed difference between our clock and NHS login's when checking exp and iat.
LEEWAY_SECONDS = 60
# How long a sign-in may take from leaving the site to coming back.
PENDING_TTL_SECONDS = 15 * 60
VERIFIED_LEVEL = "P9"

_override_transport: httpx.AsyncBaseTransport | None = None


class Unavailable(Exception):
    """NHS login could not be reached, or answered with something that is not its interface."""


class SignInRefused(Exception):
    """NHS login ended the sign-in with an OAuth error (``access_denied``, ``login_required``…)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


class SignInFailed(Exception):
    """The reply failed one of our checks: state, code, ID token, nonce, vot, userinfo."""


@dataclass(frozen=True)
class Pending:
    """What the site keeps (in the session) between sending the person and their return."""

    state: str
    nonce: str
    code_verifier: str
    started_at: float

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Pending | None:
        if not isinstance(data, Mapping):
            return None
        try:
            pending = cls(
                str(data["state"]),
                str(data["nonce"]),
                str(data["code_verifier"]),
                float(data["started_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return pending


@dataclass(frozen=True)
class Identity:
    """Who NHS login says signed in, from the validated ID token and the userinfo claims."""

    sub: str
    vot: str
    identity_proofing_level: str
    nhs_number: str
    given_name: str
    family_name: str
    birthdate: datetime.date | None
    email: str
    email_verified: bool
    phone_number: str
    phone_number_verified: bool
    gp_ods_code: str
    id_token: str = ""
    expires_at: int = 0

    @property
    def is_verified(self) -> bool:
        """Proved to the high level (P9): the only level that may book."""
        return self.identity_proofing_level == VERIFIED_LEVEL and self.vot.startswith(
            VERIFIED_LEVEL + "."
        )


@contextlib.contextmanager
def use_transport(transport: httpx.AsyncBaseTransport) -> Iterator[None]:
    """Send every request to NHS login made inside the block through ``transport`` (tests)."""
    global _override_transport
    previous = _override_transport
    _override_transport = transport
    try:
        yield
    finally:
        _override_transport = previous


def issuer() -> str:
    """NHS_LOGIN_ISSUER, or the sandbox's stand-in when that is unset and the sandbox is on."""
    if settings.NHS_LOGIN_ISSUER:
        return settings.NHS_LOGIN_ISSUER.rstrip("/")
    if settings.SANDBOX_ENABLED:
        return settings.SANDBOX_BASE_URL.rstrip("/") + "/nhs-login"
    raise Unavailable("NHS_LOGIN_ISSUER is not set")


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=_override_transport, timeout=TIMEOUT_SECONDS)


def accepted_vectors() -> list[str]:
    try:
        vectors = json.loads(settings.NHS_LOGIN_VTR)
    except ValueError:
        vectors = None
    if not isinstance(vectors, list) or not all(isinstance(v, str) for v in vectors):
        raise ValueError("NHS_LOGIN_VTR must be a JSON list of vectors of trust")
    return vectors


@functools.cache
def _private_key(path: str) -> RSAKey:
    return RSAKey.import_key(Path(path).read_bytes())


def client_assertion(audience: str) -> str:
    """A ``private_key_jwt`` client assertion for the token endpoint at ``audience``."""
    return private_key_jwt_sign(
        _private_key(settings.NHS_LOGIN_PRIVATE_KEY_FILE),
        client_id=settings.NHS_LOGIN_CLIENT_ID,
        token_endpoint=audience,
        alg=ALGORITHM,
    )


def _assertion_for(token_endpoint: str) -> str:
    try:
        return client_assertion(token_endpoint)
    except (OSError, ValueError) as error:
        # NHS_LOGIN_PRIVATE_KEY_FILE missing or unreadable: a fault of ours, told as an outage.
        raise Unavailable(f"The service's NHS login key cannot be read: {error}") from error


# --- Discovery and keys -------------------------------------------------------------------------


async def _get_json(client: httpx.AsyncClient, url: str, **kwargs) -> dict:
    try:
        response = await client.get(url, **kwargs)
    except httpx.HTTPError as error:
        raise Unavailable(f"{url}: {type(error).__name__}") from error
    if response.status_code != 200:
        raise Unavailable(f"{url}: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as error:
        raise Unavailable(f"{url}: not JSON") from error
    if not isinstance(document, dict):
        raise Unavailable(f"{url}: not a JSON object")
    return document


def _metadata_key() -> str:
    return f"nhs-login:metadata:{issuer()}"


async def _metadata(client: httpx.AsyncClient) -> dict:
    key = _metadata_key()
    metadata = await cache.aget(key)
    if isinstance(metadata, dict):
        return metadata
    expected = issuer()
    metadata = await _get_json(client, f"{expected}/.well-known/openid-configuration")
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")
    if not all(isinstance(metadata.get(name), str) for name in needed):
        raise Unavailable("The discovery document lacks a required endpoint")
    if metadata["issuer"].rstrip("/") != expected:
        raise Unavailable("The discovery document names another issuer")
    await cache.aset(key, metadata, METADATA_TTL_SECONDS)
    return metadata


async def _key_set(client: httpx.AsyncClient, metadata: dict, *, fresh: bool) -> KeySet:
    key = f"nhs-login:jwks:{metadata['jwks_uri']}"
    document = None if fresh else await cache.aget(key)
    if not isinstance(document, dict):
        document = await _get_json(client, metadata["jwks_uri"])
        await cache.aset(key, document, METADATA_TTL_SECONDS)
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise Unavailable("The JWKS could not be read") from error


# --- The flow -----------------------------------------------------------------------------------


async def begin(redirect_uri: str) -> tuple[str, Pending]:
    """The URL to send the person to, and what to keep until they come back."""
    pending = Pending(
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        started_at=time.time(),
    )
    async with _client() as client:
        metadata = await _metadata(client)
    query = urlencode(
        {
            "client_id": settings.NHS_LOGIN_CLIENT_ID,
            "response_type": "code",
            "scope": settings.NHS_LOGIN_SCOPES,
            "redirect_uri": redirect_uri,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
            "vtr": json.dumps(accepted_vectors(), separators=(",", ":")),
        }
    )
    return f"{metadata['authorization_endpoint']}?{query}", pending


async def finish(pending: Pending | None, params: Mapping[str, str], redirect_uri: str) -> Identity:
    """Check NHS login's reply to ``begin``'s request and return who signed in."""
    if pending is None or time.time() - pending.started_at > PENDING_TTL_SECONDS:
        raise SignInFailed("No sign-in was started in this browser, or it took too long")
    state = params.get("state", "")
    if not secrets.compare_digest(state.encode(), pending.state.encode()):
        raise SignInFailed("The state does not match the sign-in started here")
    if params.get("error"):
        raise SignInRefused(params["error"][:100], params.get("error_description", "")[:300])
    code = params.get("code", "")
    if not code:
        raise SignInFailed("The reply has neither a code nor an error")

    async with _client() as client:
        metadata = await _metadata(client)
        tokens = await _exchange_code(client, metadata, code, pending, redirect_uri)
        claims = await _validated_id_token(client, metadata, tokens["id_token"], pending.nonce)
        userinfo = await _userinfo(client, metadata, tokens["access_token"])
    if userinfo.get("sub") != claims["sub"]:
        raise SignInFailed("The userinfo claims are for someone else")
    if "nhs_number" in claims and userinfo.get("nhs_number") != claims["nhs_number"]:
        raise SignInFailed("The userinfo NHS number is not the ID token's")
    return _identity(claims, userinfo, tokens["id_token"])


async def _exchange_code(
    client: httpx.AsyncClient, metadata: dict, code: str, pending: Pending, redirect_uri: str
) -> dict:
    token_endpoint = metadata["token_endpoint"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pending.code_verifier,
        "client_id": settings.NHS_LOGIN_CLIENT_ID,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion_for(token_endpoint),
    }
    try:
        response = await client.post(
            token_endpoint, data=form, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as error:
        raise Unavailable(f"token endpoint: {type(error).__name__}") from error
    if response.status_code >= 500:
        raise Unavailable(f"token endpoint: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise Unavailable("The token endpoint's reply is not a JSON object")
    if response.status_code != 200:
        # invalid_grant (a used or expired code), invalid_client (our key is not registered)…
        raise SignInFailed(f"The token endpoint refused the code: {document.get('error')!s:.100}")
    if not all(isinstance(document.get(name), str) for name in ("id_token", "access_token")):
        raise SignInFailed("The token reply lacks an ID token or access token")
    return document


async def _validated_id_token(
    client: httpx.AsyncClient, metadata: dict, id_token: str, nonce: str
) -> CodeIDToken:
    token = None
    # A signature the kept keys cannot check is tried once more with a fresh JWKS, in case NHS
    # login has rotated its keys; a forgery fails both.
    for fresh in (False, True):
        keys = await _key_set(client, metadata, fresh=fresh)
        try:
            token = jwt.decode(id_token, keys, algorithms=[ALGORITHM])
            break
        except (JoseError, ValueError) as error:
            if fresh:
                raise SignInFailed("The ID token's signature is not NHS login's") from error
    assert token is not None
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": settings.NHS_LOGIN_CLIENT_ID},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
            "vot": {"essential": True, "values": accepted_vectors()},
        },
        params={"nonce": nonce, "client_id": settings.NHS_LOGIN_CLIENT_ID},
    )
    try:
        claims.validate(now=int(time.time()), leeway=LEEWAY_SECONDS)
    except JoseError as error:
        raise SignInFailed(f"The ID token failed a check: {error}") from error
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise SignInFailed("The ID token has no subject")
    if isinstance(claims.get("iat"), int | float) and claims["iat"] > time.time() + LEEWAY_SECONDS:
        raise SignInFailed("The ID token was issued in the future")
    return claims


async def _userinfo(client: httpx.AsyncClient, metadata: dict, access_token: str) -> dict:
    url = metadata["userinfo_endpoint"]
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    try:
        response = await client.get(url, headers=headers)
    except httpx.HTTPError as error:
        raise Unavailable(f"userinfo: {type(error).__name__}") from error
    if response.status_code in (401, 403):
        raise SignInFailed("The userinfo endpoint refused the access token")
    if response.status_code != 200:
        raise Unavailable(f"userinfo: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as error:
        raise Unavailable("userinfo: not JSON") from error
    if not isinstance(document, dict):
        raise Unavailable("userinfo: not a JSON object")
    return document


def _text(claims: Mapping, name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _identity(claims: CodeIDToken, userinfo: dict, id_token: str) -> Identity:
    birthdate = None
    with contextlib.suppress(ValueError):
        birthdate = datetime.date.fromisoformat(_text(userinfo, "birthdate"))
    registration = userinfo.get("gp_registration_details")
    gp_ods_code = _text(registration, "gp_ods_code") if isinstance(registration, dict) else ""
    level = _text(claims, "identity_proofing_level") or _text(userinfo, "identity_proofing_level")
    return Identity(
        sub=claims["sub"],
        vot=_text(claims, "vot"),
        identity_proofing_level=level,
        nhs_number=_text(userinfo, "nhs_number"),
        given_name=_text(userinfo, "given_name"),
        family_name=_text(userinfo, "family_name"),
        birthdate=birthdate,
        email=_text(userinfo, "email"),
        email_verified=userinfo.get("email_verified") is True,
        phone_number=_text(userinfo, "phone_number"),
        phone_number_verified=userinfo.get("phone_number_verified") is True,
        gp_ods_code=gp_ods_code,
        id_token=id_token,
        expires_at=int(claims["exp"]),
    )
