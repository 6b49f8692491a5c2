"""A relying party of the sandbox's NHS login stand-in, as the tests play it: its own key
(registered with the stand-in by overriding settings), and the requests it and its patients'
browsers make."""

import json
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

BASE_URL = "https://testserver/sandbox"
ISSUER = f"{BASE_URL}/nhs-login"
AUTHORIZE_PATH = "/sandbox/nhs-login/authorize"
TOKEN_PATH = "/sandbox/nhs-login/token"
USERINFO_PATH = "/sandbox/nhs-login/userinfo"
TOKEN_URL = f"{ISSUER}/token"
API_PLATFORM_TOKEN_PATH = "/sandbox/oauth2/token"
API_PLATFORM_TOKEN_URL = f"{BASE_URL}/oauth2/token"
CLIENT_ID = "booking-site-tests"
REDIRECT_URI = "https://testserver/account/nhs-login/callback/"
SCOPE = "openid profile email phone gp_registration_details"
FORM = "application/x-www-form-urlencoded"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class RelyingParty:
    """The client registered with the stand-in: its id, its private key, and where it lives."""

    def __init__(self, key: RSAKey, client_id: str = CLIENT_ID) -> None:
        self.key = key
        self.client_id = client_id

    def register(self, settings, directory: Path) -> None:
        jwks = directory / "client.jwks.json"
        public = self.key.as_dict(private=False) | {"use": "sig", "alg": "RS512"}
        jwks.write_text(json.dumps({"keys": [public]}))
        settings.SANDBOX_BASE_URL = BASE_URL
        settings.SANDBOX_NHS_LOGIN_CLIENT_ID = self.client_id
        settings.SANDBOX_NHS_LOGIN_CLIENT_JWKS_FILE = str(jwks)

    def assertion(self, audience: str = TOKEN_URL, *, key: RSAKey | None = None, **claims) -> str:
        """A client assertion (RFC 7523) signed RS512; any claim can be overridden."""
        now = int(time.time())
        payload = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        } | claims
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode({"alg": "RS512"}, payload, key or self.key, algorithms=["RS512"])


class Authorisation:
    """One authorisation request's parameters, with its PKCE verifier."""

    def __init__(self, **overrides: str | None) -> None:
        self.code_verifier = "v" * 20 + uuid.uuid4().hex + "x" * 11
        self.params = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPE,
            "state": uuid.uuid4().hex,
            "nonce": uuid.uuid4().hex,
            "code_challenge": create_s256_code_challenge(self.code_verifier),
            "code_challenge_method": "S256",
        } | overrides
        self.params = {name: value for name, value in self.params.items() if value is not None}

    @property
    def url(self) -> str:
        return f"{AUTHORIZE_PATH}?{urlencode(self.params)}"


def sign_in(browser: Client, authorisation: Authorisation, choice: str):
    """The tester's choice on the stand-in's sign-in page, posted as the browser would."""
    return browser.post(authorisation.url, {"choice": choice})


def redirect_params(response) -> dict[str, str]:
    """The query of a redirect back to the relying party (which must be the registered URI)."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def code_for(browser: Client, authorisation: Authorisation, sub: object) -> str:
    params = redirect_params(sign_in(browser, authorisation, str(sub)))
    assert params["state"] == authorisation.params["state"]
    return params["code"]


def redeem(
    client: Client,
    relying_party: RelyingParty,
    issued_code: str,
    authorisation: Authorisation,
    **fields: str | None,
):
    """The relying party's token request for ``issued_code`` (private_key_jwt, PKCE); any
    field can be overridden, or left out with None."""
    form = {
        "grant_type": "authorization_code",
        "code": issued_code,
        "redirect_uri": authorisation.params["redirect_uri"],
        "code_verifier": authorisation.code_verifier,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": relying_party.assertion(),
    } | fields
    form = {name: value for name, value in form.items() if value is not None}
    return client.post(TOKEN_PATH, urlencode(form), content_type=FORM)
