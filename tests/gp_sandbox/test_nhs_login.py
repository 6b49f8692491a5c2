"""The sandbox's NHS login stand-in, as a relying party and a patient's browser meet it."""

import base64
import json
import time
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from gp_sandbox import factories
from gp_sandbox.models import LoginIdentity, NHSLoginAccessToken, NHSLoginAuthorizationCode
from gp_sandbox.nhs_login import identity_for, issue_id_token
from tests.gp_sandbox.nhs_login_support import (
    AUTHORIZE_PATH,
    CLIENT_ID,
    FORM,
    ISSUER,
    JWT_BEARER,
    REDIRECT_URI,
    SCOPE,
    TOKEN_PATH,
    USERINFO_PATH,
    Authorisation,
    code_for,
    redeem,
    redirect_params,
    sign_in,
)

pytestmark = pytest.mark.django_db

DISCOVERY_PATH = "/sandbox/nhs-login/.well-known/openid-configuration"
JWKS_PATH = "/sandbox/nhs-login/.well-known/jwks.json"
# OpenID Connect Discovery 1.0 §3: the fields a provider's metadata must have.
REQUIRED_METADATA = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
}


@pytest.fixture
def browser() -> Client:
    return Client()


def decode_id_token(id_token: str) -> jwt.Token:
    jwks = KeySet.import_key_set(Client().get(JWKS_PATH).json())
    return jwt.decode(id_token, jwks, algorithms=["RS512"])


def oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert "access_token" not in body
    assert "id_token" not in body
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


# --- Discovery and keys --------------------------------------------------------------------------


def test_discovery_has_every_required_field_with_urls_under_the_issuer(client, relying_party):
    metadata = client.get(DISCOVERY_PATH).json()

    assert set(metadata) >= REQUIRED_METADATA
    checked = OpenIDProviderMetadata(metadata)
    for key in checked.REGISTRY_KEYS:
        # Discovery 1.0 asks for RS256 in the list; NHS login signs RS512 only, and says so.
        if key != "id_token_signing_alg_values_supported":
            getattr(checked, f"validate_{key}")()
    assert metadata["issuer"] == ISSUER
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert metadata[name].startswith(f"{ISSUER}/"), name
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["subject_types_supported"] == ["public"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS512"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["RS512"]
    assert metadata["grant_types_supported"] == ["authorization_code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["scopes_supported"]) == set(SCOPE.split())
    assert {"vot", "identity_proofing_level", "nhs_number"} <= set(metadata["claims_supported"])


def test_the_advertised_endpoints_are_where_the_stand_in_answers(client, relying_party):
    metadata = client.get(DISCOVERY_PATH).json()

    for name, path in [
        ("jwks_uri", JWKS_PATH),
        ("token_endpoint", TOKEN_PATH),
        ("userinfo_endpoint", USERINFO_PATH),
        ("authorization_endpoint", AUTHORIZE_PATH),
    ]:
        assert urlsplit(metadata[name]).path == path


def test_the_jwks_holds_only_the_public_key_and_it_verifies_an_id_token(client, identity):
    jwks = client.get(JWKS_PATH).json()

    [key] = jwks["keys"]
    assert {"d", "p", "q", "dp", "dq", "qi"}.isdisjoint(key)
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS512")
    assert key["kid"] == RSAKey.import_key(key).thumbprint()
    token = jwt.decode(
        issue_id_token(identity, audience=CLIENT_ID),
        KeySet.import_key_set(jwks),
        algorithms=["RS512"],
    )
    assert token.header["kid"] == key["kid"]
    assert token.claims["sub"] == str(identity.sub)


# --- A partner's OpenID Connect client, end to end -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_partner_oidc_client_signs_a_patient_in_with_authlib(relying_party, identity):
    transport = httpx.WSGITransport(app=WSGIHandler())
    with OAuth2Client(
        client_id=CLIENT_ID,
        client_secret=relying_party.key,
        token_endpoint_auth_method="private_key_jwt",
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        transport=transport,
    ) as oauth:
        metadata = oauth.request(
            "GET", f"{ISSUER}/.well-known/openid-configuration", withhold_token=True
        ).json()
        oauth.register_client_auth_method(PrivateKeyJWT(metadata["token_endpoint"], alg="RS512"))
        verifier, nonce = generate_token(64), generate_token(24)
        url, state = oauth.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            vtr=json.dumps(["P9.Cp.Cd", "P9.Cp.Ck"]),
        )

        # The patient's browser: the stand-in's page, then the tester's choice.
        browser = Client()
        target = urlsplit(url)
        page = browser.get(f"{target.path}?{target.query}")
        assert page.status_code == 200
        assert "Ada Lovelace, P9 (high)" in page.content.decode()
        back = browser.post(f"{target.path}?{target.query}", {"choice": str(identity.sub)})
        assert back["Location"].startswith(f"{REDIRECT_URI}?")

        token = oauth.fetch_token(
            metadata["token_endpoint"],
            authorization_response=back["Location"],
            state=state,
            code_verifier=verifier,
        )
        jwks = oauth.request("GET", metadata["jwks_uri"], withhold_token=True).json()
        decoded = jwt.decode(
            token["id_token"],
            KeySet.import_key_set(jwks),
            algorithms=metadata["id_token_signing_alg_values_supported"],
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={"iss": {"essential": True, "value": metadata["issuer"]}},
            params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
        )
        claims.validate(leeway=5)
        userinfo = oauth.get(metadata["userinfo_endpoint"]).json()

    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == str(identity.sub)
    assert claims["vot"] == "P9.Cp.Cd"
    assert claims["nhs_number"] == "9000000009"
    assert "at_hash" in claims
    assert userinfo == {
        "sub": str(identity.sub),
        "nhs_number": "9000000009",
        "family_name": "Lovelace",
        "given_name": "Ada",
        "birthdate": "1980-05-17",
        "identity_proofing_level": "P9",
        "email": "ada.lovelace@example.com",
        "email_verified": True,
        "phone_number": identity.phone_number,
        "phone_number_verified": True,
        "gp_registration_details": {"gp_ods_code": "A20047"},
    }


# --- The sign-in page ----------------------------------------------------------------------------


def test_the_sign_in_page_offers_every_identity_and_each_error(browser, relying_party, identity):
    factories.make_p5_identity(identity.patient.registered_practice)
    p0 = factories.make_p0_identity("sam.okafor@example.com")

    response = browser.get(Authorisation().url)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "<title>Choose who signs in - Sandbox NHS login</title>" in html
    assert html.count("<h1") == 1
    assert "Sandbox NHS login: choose who signs in" in html
    assert "<fieldset" in html
    assert "<legend" in html
    for text in (
        "Ada Lovelace, P9 (high), Sandbox Surgery",
        "Sophie Green, P5 (medium), Sandbox Surgery",
        "sam.okafor@example.com, P0 (low), no NHS number or GP practice",
        "End with an error: access_denied",
        "End with an error: login_required",
    ):
        assert text in html
    assert f'value="{p0.sub}"' in html
    assert html.count('type="radio"') == 5
    assert html.count("<label") == 5
    assert "csrfmiddlewaretoken" in html
    assert "<script" not in html


def test_choosing_nobody_shows_the_page_again_with_an_error(browser, relying_party, identity):
    authorisation = Authorisation()

    for choice in ("", "not-a-uuid", "7a3d0cf6-0a43-4e0d-bb0d-7f6b1b2a9c11"):
        response = sign_in(browser, authorisation, choice)

        assert response.status_code == 200
        html = response.content.decode()
        assert "<title>Error: Choose who signs in" in html
        assert 'href="#choice"' in html
    assert not NHSLoginAuthorizationCode.objects.exists()


def test_the_choice_is_protected_from_cross_site_posts(relying_party, identity):
    browser = Client(enforce_csrf_checks=True)

    response = sign_in(browser, Authorisation(), str(identity.sub))

    assert response.status_code == 403
    assert not NHSLoginAuthorizationCode.objects.exists()


# --- Authorisation refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/callback/"},
        {"redirect_uri": REDIRECT_URI + "extra"},
        {"redirect_uri": "https://testserver/account/nhs-login/callback"},
        {"redirect_uri": None},
        {"redirect_uri": 'https://evil.example/"quoted"\\'},
    ],
    ids=[
        "unknown client",
        "no client",
        "unregistered redirect",
        "longer redirect",
        "redirect without slash",
        "no redirect",
        "redirect with quotes",
    ],
)
def test_a_request_with_nowhere_safe_to_answer_gets_an_error_page(
    browser, relying_party, identity, overrides
):
    for method in (browser.get, browser.post):
        response = method(Authorisation(**overrides).url)

        assert response.status_code == 400
        assert "Location" not in response
        assert "sign-in request refused" in response.content.decode()
    assert not NHSLoginAuthorizationCode.objects.exists()


def test_a_redirect_uri_registered_in_settings_is_accepted(
    browser, relying_party, identity, settings
):
    settings.SANDBOX_NHS_LOGIN_REDIRECT_URIS = ["http://localhost:9000/callback"]

    response = sign_in(
        browser,
        Authorisation(redirect_uri="http://localhost:9000/callback"),
        str(identity.sub),
    )

    assert response["Location"].startswith("http://localhost:9000/callback?code=")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"nonce": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"vtr": "P9.Cp.Cd"}, "invalid_request"),
        ({"vtr": "[]"}, "invalid_request"),
        ({"vtr": '["P7.Cp.Cd"]'}, "invalid_request"),
        ({"vtr": '[["P9.Cp.Cd"]]'}, "invalid_request"),
        ({"vtr": '{"P9": 1}'}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
    ids=[
        "no nonce",
        "no PKCE",
        "no challenge method",
        "plain PKCE",
        "malformed challenge",
        "no openid scope",
        "unknown scope",
        "implicit flow",
        "vtr not JSON",
        "empty vtr",
        "unknown level",
        "nested vtr",
        "vtr object",
        "prompt none",
    ],
)
def test_a_refused_request_goes_back_to_the_client_with_the_error_and_state(
    browser, relying_party, identity, overrides, error
):
    authorisation = Authorisation(**overrides)

    for response in (
        browser.get(authorisation.url),
        sign_in(browser, authorisation, str(identity.sub)),
    ):
        params = redirect_params(response)
        assert params["error"] == error
        assert params["state"] == authorisation.params["state"]
        assert "code" not in params
    assert not NHSLoginAuthorizationCode.objects.exists()


def test_a_request_without_state_is_refused(browser, relying_party, identity):
    params = redirect_params(browser.get(Authorisation(state=None).url))

    assert params["error"] == "invalid_request"
    assert "state" in params["error_description"]


@pytest.mark.parametrize("error", ["access_denied", "login_required"])
def test_the_tester_can_end_the_sign_in_with_an_error(browser, relying_party, identity, error):
    authorisation = Authorisation()

    params = redirect_params(sign_in(browser, authorisation, f"error:{error}"))

    assert params["error"] == error
    assert params["state"] == authorisation.params["state"]
    assert "code" not in params


def test_a_p5_identity_is_refused_when_p9_is_asked_for(browser, relying_party, practice):
    p5 = factories.make_p5_identity(practice)
    authorisation = Authorisation(vtr='["P9.Cp.Cd", "P9.Cm"]')

    params = redirect_params(sign_in(browser, authorisation, str(p5.sub)))

    assert params["error"] == "access_denied"
    assert "has not proved their identity to the level asked" in params["error_description"]
    assert params["state"] == authorisation.params["state"]
    assert not NHSLoginAuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    ("level", "vtr", "vot"),
    [
        ("P9", None, "P9.Cp.Cd"),
        ("P9", '["P9.Cm", "P9.Cp.Cd"]', "P9.Cm"),
        ("P9", '["P5.Cp.Ck"]', "P5.Cp.Ck"),
        ("P5", '["P9.Cp.Cd", "P5.Cp.Cd", "P0.Cp.Cd"]', "P5.Cp.Cd"),
        ("P0", '["P9.Cp.Cd", "P5.Cp.Cd", "P0.Cm"]', "P0.Cm"),
    ],
)
def test_the_vector_of_trust_is_the_first_asked_for_that_the_person_meets(
    browser, client, relying_party, practice, level, vtr, vot
):
    if level == "P0":
        person = factories.make_p0_identity()
    elif level == "P5":
        person = factories.make_p5_identity(practice)
    else:
        person = factories.make_identity(factories.make_patient(practice))
    authorisation = Authorisation(vtr=vtr)

    code = code_for(browser, authorisation, person.sub)
    body = redeem(client, relying_party, code, authorisation).json()

    claims = decode_id_token(body["id_token"]).claims
    assert claims["vot"] == vot
    assert claims["identity_proofing_level"] == level
    assert ("nhs_number" in claims) == (level != "P0")


# --- The token endpoint --------------------------------------------------------------------------


def test_a_code_is_redeemed_for_an_id_token_and_an_access_token(
    browser, client, relying_party, identity, settings
):
    settings.SANDBOX_ID_TOKEN_TTL_SECONDS = 1800
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)

    response = redeem(client, relying_party, code, authorisation)

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "id_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == SCOPE
    token = decode_id_token(body["id_token"])
    claims = token.claims
    assert token.header["alg"] == "RS512"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == str(identity.sub)
    assert claims["nonce"] == authorisation.params["nonce"]
    assert claims["vot"] == "P9.Cp.Cd"
    assert claims["vtm"] == f"{ISSUER}/trustmark"
    assert claims["identity_proofing_level"] == "P9"
    assert claims["nhs_number"] == "9000000009"
    assert claims["exp"] - claims["iat"] == 1800
    assert abs(claims["auth_time"] - time.time()) < 60
    assert claims["jti"]


def test_a_code_works_once(browser, client, relying_party, identity):
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)

    first = redeem(client, relying_party, code, authorisation)
    replayed = redeem(client, relying_party, code, authorisation)

    assert first.status_code == 200
    oauth_error(replayed, 400, "invalid_grant")


def test_an_expired_code_is_refused(browser, client, relying_party, identity):
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)
    stored = NHSLoginAuthorizationCode.objects.get(code=code)
    assert stored.expires_at <= timezone.now() + timedelta(seconds=60)
    NHSLoginAuthorizationCode.objects.filter(code=code).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    oauth_error(redeem(client, relying_party, code, authorisation), 400, "invalid_grant")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"code_verifier": "w" * 64}, "invalid_grant"),
        ({"code_verifier": None}, "invalid_request"),
        ({"redirect_uri": "http://localhost:9000/callback"}, "invalid_grant"),
        ({"code": "not-a-code"}, "invalid_grant"),
        ({"code": None}, "invalid_request"),
    ],
    ids=["wrong verifier", "no verifier", "other redirect", "unknown code", "no code"],
)
def test_a_redemption_that_does_not_match_the_request_is_refused(
    browser, client, relying_party, identity, fields, error
):
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)

    oauth_error(redeem(client, relying_party, code, authorisation, **fields), 400, error)


def test_a_client_secret_is_not_enough(browser, client, relying_party, identity, settings):
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)
    fields = {"client_assertion_type": None, "client_assertion": None}
    basic = base64.b64encode(f"{CLIENT_ID}:{settings.SANDBOX_CLIENT_SECRET}".encode()).decode()

    as_post = redeem(
        client,
        relying_party,
        code,
        authorisation,
        client_id=CLIENT_ID,
        client_secret=settings.SANDBOX_CLIENT_SECRET,
        **fields,
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": authorisation.code_verifier,
    }
    as_basic = client.post(
        TOKEN_PATH,
        urlencode(form),
        content_type=FORM,
        headers={"Authorization": f"Basic {basic}"},
    )

    oauth_error(as_post, 401, "invalid_client")
    oauth_error(as_basic, 401, "invalid_client")
    # Neither burned the code: the real client still redeems it.
    assert redeem(client, relying_party, code, authorisation).status_code == 200


@pytest.mark.parametrize(
    "assertion",
    [
        lambda party, stranger: party.assertion(key=stranger),
        lambda party, stranger: party.assertion("https://testserver/sandbox/oauth2/token"),
        lambda party, stranger: party.assertion(aud=None),
        lambda party, stranger: party.assertion(exp=int(time.time()) - 120),
        lambda party, stranger: party.assertion(exp=None),
        lambda party, stranger: party.assertion(jti=None),
        lambda party, stranger: party.assertion(jti=7),
        lambda party, stranger: party.assertion(iss="someone-else"),
        lambda party, stranger: party.assertion(sub="someone-else", iss="someone-else"),
        lambda party, stranger: party.assertion(sub=["a", "list"]),
        lambda party, stranger: party.assertion()[:-4] + "AAAA",
        lambda party, stranger: "not.a.jwt",
        lambda party, stranger: "e30.e30.",
        lambda party, stranger: jwt.encode(
            {"alg": "RS256"},
            {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": ISSUER + "/token", "jti": "x"},
            party.key,
        ),
        lambda party, stranger: _forged_header(party.assertion()),
    ],
    ids=[
        "other key",
        "other audience",
        "no audience",
        "expired",
        "no expiry",
        "no jti",
        "jti not a string",
        "iss not sub",
        "unknown client",
        "sub not a string",
        "tampered signature",
        "not a JWT",
        "empty claims",
        "RS256",
        "quotes in header",
    ],
)
def test_a_bad_client_assertion_is_refused(
    browser, client, relying_party, stranger_key, identity, assertion
):
    authorisation = Authorisation()
    code = code_for(browser, authorisation, identity.sub)

    response = redeem(
        client,
        relying_party,
        code,
        authorisation,
        client_assertion=assertion(relying_party, stranger_key),
    )

    oauth_error(response, 401, "invalid_client")


def _forged_header(assertion: str) -> str:
    """The assertion with a header naming an algorithm and key id full of quotes."""
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": 'RS"512', "kid": '"quoted"\\'}).encode()
    ).rstrip(b"=")
    return header.decode() + assertion[assertion.index(".") :]


def test_a_client_assertion_works_once(browser, client, relying_party, identity):
    assertion = relying_party.assertion()
    first, second = Authorisation(), Authorisation()
    first_code = code_for(browser, first, identity.sub)
    second_code = code_for(browser, second, identity.sub)

    used = redeem(client, relying_party, first_code, first, client_assertion=assertion)
    reused = redeem(client, relying_party, second_code, second, client_assertion=assertion)

    assert used.status_code == 200
    oauth_error(reused, 401, "invalid_client")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"grant_type": "authorization_code"}', "application/json"),
        ("grant_type=authorization_code", "text/plain"),
        ("", FORM),
        ("grant_type=password&username=a&password=b", FORM),
        ("grant_type=%22%5C&code=x", FORM),
        ("\x00\xff", FORM),
        (f"grant_type=authorization_code&client_assertion_type={JWT_BEARER}", FORM),
        (
            f"grant_type=authorization_code&client_assertion_type={JWT_BEARER}"
            "&client_assertion=%22%5C",
            FORM,
        ),
    ],
)
def test_malformed_token_requests_get_oauth_errors_never_a_server_error(
    client, relying_party, body, content_type
):
    response = client.post(TOKEN_PATH, body, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
    }
    assert response["Cache-Control"] == "no-store"


def test_the_token_endpoint_takes_only_post(client, relying_party):
    assert client.get(TOKEN_PATH).status_code == 405


# --- userinfo ------------------------------------------------------------------------------------


def access_token_for(browser, client, relying_party, identity, scope: str = SCOPE) -> str:
    authorisation = Authorisation(scope=scope)
    code = code_for(browser, authorisation, identity.sub)
    response = redeem(client, relying_party, code, authorisation)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.mark.parametrize(
    ("scope", "claims"),
    [
        ("openid", {"sub"}),
        ("openid email", {"sub", "email", "email_verified"}),
        ("openid phone", {"sub", "phone_number", "phone_number_verified"}),
        (
            "openid profile",
            {
                "sub",
                "nhs_number",
                "family_name",
                "given_name",
                "birthdate",
                "identity_proofing_level",
            },
        ),
        ("openid gp_registration_details", {"sub", "gp_registration_details"}),
    ],
)
def test_userinfo_releases_only_what_the_scope_allows(
    browser, client, relying_party, identity, scope, claims
):
    access_token = access_token_for(browser, client, relying_party, identity, scope)

    response = client.get(USERINFO_PATH, headers=bearer(access_token))

    assert response.status_code == 200
    assert set(response.json()) == claims


def test_userinfo_for_someone_with_no_nhs_number(browser, client, relying_party):
    p0 = factories.make_p0_identity("sam.okafor@example.com")
    authorisation = Authorisation(vtr='["P0.Cp.Cd"]')
    code = code_for(browser, authorisation, p0.sub)
    access_token = redeem(client, relying_party, code, authorisation).json()["access_token"]

    userinfo = client.get(USERINFO_PATH, headers=bearer(access_token)).json()

    assert userinfo == {
        "sub": str(p0.sub),
        "identity_proofing_level": "P0",
        "email": "sam.okafor@example.com",
        "email_verified": True,
        "phone_number": p0.phone_number,
        "phone_number_verified": True,
    }


def test_userinfo_refuses_a_missing_unknown_or_expired_token(
    browser, client, relying_party, identity
):
    access_token = access_token_for(browser, client, relying_party, identity)
    NHSLoginAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    for headers in ({}, bearer("not-a-token"), bearer(access_token), {"Authorization": "Basic x"}):
        response = client.get(USERINFO_PATH, headers=headers)

        assert response.status_code == 401, headers
        assert response.json()["error"] in {
            "missing_authorization",
            "invalid_token",
            "unsupported_token_type",
        }
        assert "WWW-Authenticate" in response or not headers


def test_access_tokens_are_kept_only_as_digests(browser, client, relying_party, identity):
    access_token = access_token_for(browser, client, relying_party, identity)

    stored = NHSLoginAccessToken.objects.get()
    assert access_token not in stored.digest
    assert len(stored.digest) == 64


# --- Helpers for tests of the site ---------------------------------------------------------------


def test_identity_for_a_patient_is_stable_and_p9(patient):
    first = identity_for(patient)
    again = identity_for(patient)

    assert first.pk == again.pk
    assert first.identity_proofing_level == LoginIdentity.Level.P9
    assert first.phone_number.startswith("+447700900")
    assert len(first.phone_number) == 13


def test_issue_id_token_signs_as_the_token_endpoint_does(identity, relying_party):
    issued_at = int(time.time()) - 100

    token = decode_id_token(
        issue_id_token(
            identity,
            audience="site",
            nonce="n-1",
            vot="P9.Cm",
            ttl_seconds=600,
            issued_at=issued_at,
        )
    )

    assert token.claims | {"jti": "-"} == {
        "iss": ISSUER,
        "sub": str(identity.sub),
        "aud": "site",
        "iat": issued_at,
        "exp": issued_at + 600,
        "auth_time": issued_at,
        "jti": "-",
        "nonce": "n-1",
        "vot": "P9.Cm",
        "vtm": f"{ISSUER}/trustmark",
        "identity_proofing_level": "P9",
        "nhs_number": "9000000009",
    }
