"""Where the NHS login stand-in lives, the key it signs with and the relying party registered
with it, all from settings (read when asked, so that tests can override them)."""

import functools
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list
from django.conf import settings
from joserfc.jwk import KeySet, RSAKey

ID_TOKEN_ALG = "RS512"  # noqa: S105 (an algorithm name)
SCOPES = ("openid", "profile", "email", "phone", "gp_registration_details")
PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 (a method name)
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN)


def issuer() -> str:
    """The stand-in's issuer identifier: an absolute URL, also the base of its endpoints."""
    return f"{settings.SANDBOX_BASE_URL.rstrip('/')}/nhs-login"


def endpoint(name: str) -> str:
    """An absolute URL of one of the stand-in's endpoints, e.g. endpoint("token")."""
    return f"{issuer()}/{name}"


def api_platform_token_url() -> str:
    """The API platform token endpoint (client credentials and token exchange)."""
    return f"{settings.SANDBOX_BASE_URL.rstrip('/')}/oauth2/token"


def origin(url: str) -> str:
    """scheme://host[:port] of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def signing_key() -> RSAKey:
    """The stand-in's private signing key, with its RFC 7638 thumbprint as ``kid``."""
    return _signing_key(*_version(settings.SANDBOX_NHS_LOGIN_SIGNING_KEY_FILE))


def _version(path: str) -> tuple[str, int]:
    # Keyed on the file's modification time too, so that a key made afresh is read afresh.
    return path, Path(path).stat().st_mtime_ns


@functools.cache
def _signing_key(path: str, mtime_ns: int) -> RSAKey:
    key = RSAKey.import_key(Path(path).read_bytes())
    return RSAKey.import_key(
        key.as_dict(private=True) | {"kid": key.thumbprint(), "use": "sig", "alg": ID_TOKEN_ALG}
    )


def public_jwks() -> dict:
    """The signing key's public half, as the JWKS the stand-in publishes."""
    return {"keys": [signing_key().as_dict(private=False)]}


def verification_key() -> RSAKey:
    """The public key the stand-in's ID tokens verify with."""
    return RSAKey.import_key(signing_key().as_dict(private=False))


def _client_keys() -> KeySet:
    return _key_set(*_version(settings.SANDBOX_NHS_LOGIN_CLIENT_JWKS_FILE))


@functools.cache
def _key_set(path: str, mtime_ns: int) -> KeySet:
    return KeySet.import_key_set(json.loads(Path(path).read_text()))


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):
    """A relying party registered with the stand-in or the API platform, built from settings."""

    client_id: str
    auth_methods: frozenset[str]
    grant_types: frozenset[str]
    response_types: frozenset[str] = frozenset()
    scopes: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    public_keys: KeySet | None = None
    client_secret: str | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # NHS login needs redirect_uri on every authorisation request.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in scope_to_list(scope or "") or [] if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret is None:
            return False
        # Constant-time, and bytes so that a non-ASCII guess cannot raise.
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


def nhs_login_client(client_id: str) -> RegisteredClient | None:
    """The one relying party registered with the stand-in, if ``client_id`` is its id."""
    if client_id != settings.SANDBOX_NHS_LOGIN_CLIENT_ID:
        return None
    callback = f"{origin(settings.SANDBOX_BASE_URL)}/account/nhs-login/callback/"
    extra = getattr(settings, "SANDBOX_NHS_LOGIN_REDIRECT_URIS", [])
    return RegisteredClient(
        client_id=client_id,
        auth_methods=frozenset({PRIVATE_KEY_JWT}),
        grant_types=frozenset({"authorization_code"}),
        response_types=frozenset({"code"}),
        scopes=SCOPES,
        redirect_uris=(callback, *extra),
        public_keys=_client_keys(),
    )


def api_platform_client(client_id: str) -> RegisteredClient | None:
    """The client at the API platform's token endpoint: client credentials (a secret) for a
    service token, token exchange (a signed JWT, with the NHS login client's key) for a
    patient's. The two may share one client id."""
    auth_methods: set[str] = set()
    grant_types: set[str] = set()
    public_keys = secret = None
    if client_id == settings.SANDBOX_CLIENT_ID:
        auth_methods.add(CLIENT_SECRET_POST)
        grant_types.add("client_credentials")
        secret = settings.SANDBOX_CLIENT_SECRET
    if client_id == settings.SANDBOX_NHS_LOGIN_CLIENT_ID:
        auth_methods.add(PRIVATE_KEY_JWT)
        grant_types.add(TOKEN_EXCHANGE)
        public_keys = _client_keys()
    if not auth_methods:
        return None
    return RegisteredClient(
        client_id=client_id,
        auth_methods=frozenset(auth_methods),
        grant_types=frozenset(grant_types),
        public_keys=public_keys,
        client_secret=secret,
    )
