"""Token exchange (RFC 8693) at the sandbox's API platform token endpoint: a patient's NHS login
ID token for an access token to their GP practice's appointments, and to nobody else's."""

import base64
import json
import time
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from gp_sandbox import factories
from gp_sandbox.nhs_login import issue_id_token
from gp_sandbox.nhs_login.config import verification_key
from gp_sandbox.tokens import verify_token
from tests.gp_sandbox.checks import assert_outcome
from tests.gp_sandbox.nhs_login_support import (
    API_PLATFORM_TOKEN_PATH,
    API_PLATFORM_TOKEN_URL,
    CLIENT_ID,
    FORM,
    ISSUER,
    JWT_BEARER,
    TOKEN_URL,
)
from tests.gp_sandbox.sandbox_api import SandboxApi

pytestmark = pytest.mark.usefixtures("clock")

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
WEEK = "start=ge2027-03-22&start=le2027-03-28"


@pytest.fixture(autouse=True)
def _ttl(settings):
    settings.SANDBOX_TOKEN_TTL_SECONDS = 900


def exchange(client, relying_party, id_token: str, **fields: str | None):
    """The site's token exchange request for ``id_token``; any field can be overridden, or left
    out with None."""
    form = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token_type": ID_TOKEN_TYPE,
        "subject_token": id_token,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": relying_party.assertion(API_PLATFORM_TOKEN_URL),
    } | fields
    form = {name: value for name, value in form.items() if value is not None}
    return client.post(API_PLATFORM_TOKEN_PATH, urlencode(form), content_type=FORM)


def refused(response, status: int, error: str) -> str:
    assert response.status_code == status, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error, body
    assert "access_token" not in body
    return body.get("error_description", "")


def test_a_p9_id_token_is_exchanged_for_the_patients_access_token(client, relying_party, identity):
    response = exchange(client, relying_party, issue_id_token(identity, audience=CLIENT_ID))

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in"}
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    claims = verify_token(body["access_token"])
    assert claims.nhs_number == "9000000009"
    assert not claims.is_service


def test_the_access_token_lasts_no_longer_than_the_id_token(client, relying_party, identity):
    id_token = issue_id_token(identity, audience=CLIENT_ID, ttl_seconds=300)

    body = exchange(client, relying_party, id_token).json()

    assert 295 <= body["expires_in"] <= 300
    assert verify_token(body["access_token"]).expires_at <= int(time.time()) + 300


def test_the_exchanged_token_opens_the_patients_appointments_and_no_one_elses(
    client, relying_party, identity, practice
):
    factories.make_patient(practice, factories.OTHER_NHS_NUMBER)
    access_token = exchange(
        client, relying_party, issue_id_token(identity, audience=CLIENT_ID)
    ).json()["access_token"]
    api = SandboxApi(client, practice.ods_code, None)
    api.token = access_token

    own = api.appointments(identity.nhs_number, WEEK)
    someone_elses = api.appointments(factories.OTHER_NHS_NUMBER, WEEK)

    assert own.status_code == 200, own.content
    assert_outcome(someone_elses, 403, "ACCESS_DENIED", "not the patient of the access token")


def _forge_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{header}.{payload}.{flipped}{signature[1:]}"


def _swap_payload(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(claims | changes).encode()).rstrip(b"=")
    return f"{header}.{forged.decode()}.{signature}"


def _signed_by(key: RSAKey, claims: dict, alg: str = "RS512") -> str:
    return jwt.encode({"alg": alg}, claims, key, algorithms=[alg])


@pytest.mark.parametrize(
    ("make_token", "says"),
    [
        (lambda i, k: _forge_signature(issue_id_token(i, audience=CLIENT_ID)), "signature"),
        (
            lambda i, k: _swap_payload(
                issue_id_token(i, audience=CLIENT_ID), nhs_number=factories.OTHER_NHS_NUMBER
            ),
            "signature",
        ),
        (
            lambda i, k: _signed_by(
                k,
                jwt.decode(
                    issue_id_token(i, audience=CLIENT_ID), verification_key(), algorithms=["RS512"]
                ).claims,
            ),
            "signature",
        ),
        (
            lambda i, k: issue_id_token(
                i, audience=CLIENT_ID, issued_at=int(time.time()) - 7200, ttl_seconds=3600
            ),
            "expired",
        ),
        (lambda i, k: issue_id_token(i, audience="another-client"), "another client"),
        (lambda i, k: issue_id_token(i, audience=CLIENT_ID, vot="P5.Cp.Cd"), "below P9"),
        (lambda i, k: "not-a-jwt", "not a JWT"),
        (lambda i, k: "e30.e30.e30", "not a JWT"),
        (lambda i, k: "a.b.c.d.e", "not a JWT"),
    ],
    ids=[
        "tampered signature",
        "another patient's number",
        "another issuer's key",
        "expired",
        "wrong audience",
        "P5 vector of trust",
        "garbage",
        "empty JWS",
        "JWE shaped",
    ],
)
def test_a_bad_id_token_is_refused_with_invalid_grant(
    client, relying_party, stranger_key, identity, make_token, says
):
    response = exchange(client, relying_party, make_token(identity, stranger_key))

    assert says in refused(response, 400, "invalid_grant")


def test_an_id_token_from_another_issuer_is_refused(client, relying_party, identity, settings):
    id_token = issue_id_token(identity, audience=CLIENT_ID)
    settings.SANDBOX_BASE_URL = "https://elsewhere.test/sandbox"
    assertion = relying_party.assertion("https://elsewhere.test/sandbox/oauth2/token")

    # The key is the stand-in's own, but the issuer it now names is not the token's.
    response = exchange(client, relying_party, id_token, client_assertion=assertion)

    description = refused(response, 400, "invalid_grant")

    assert "not issued by this NHS login" in description


def test_a_p5_identity_cannot_get_a_patient_token(client, relying_party, practice):
    p5 = factories.make_p5_identity(practice)

    response = exchange(client, relying_party, issue_id_token(p5, audience=CLIENT_ID))

    assert "below P9" in refused(response, 400, "invalid_grant")


def test_an_id_token_without_an_nhs_number_is_refused(client, relying_party, db):
    p0 = factories.make_p0_identity()

    # Claims P9, but has no NHS number to give.
    response = exchange(client, relying_party, issue_id_token_claiming_p9(p0))

    assert "nhs_number" in refused(response, 400, "invalid_grant")


def issue_id_token_claiming_p9(identity) -> str:
    identity.identity_proofing_level = "P9"
    return issue_id_token(identity, audience=CLIENT_ID)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject_token_type": ACCESS_TOKEN_TYPE}, "invalid_request"),
        ({"subject_token_type": None}, "invalid_request"),
        ({"subject_token": None}, "invalid_request"),
        (
            {"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
            "invalid_request",
        ),
        ({"actor_token": "x", "actor_token_type": ID_TOKEN_TYPE}, "invalid_request"),
    ],
    ids=["access token offered", "no type", "no token", "refresh token asked", "delegation"],
)
def test_a_malformed_exchange_is_refused_with_invalid_request(
    client, relying_party, identity, fields, error
):
    response = exchange(
        client, relying_party, issue_id_token(identity, audience=CLIENT_ID), **fields
    )

    refused(response, 400, error)


@pytest.mark.parametrize(
    "client_auth",
    [
        lambda party, stranger, settings: {
            "client_assertion_type": None,
            "client_assertion": None,
            "client_id": CLIENT_ID,
            "client_secret": settings.SANDBOX_CLIENT_SECRET,
        },
        lambda party, stranger, settings: {
            "client_assertion_type": None,
            "client_assertion": None,
            "client_id": settings.SANDBOX_CLIENT_ID,
            "client_secret": settings.SANDBOX_CLIENT_SECRET,
        },
        lambda party, stranger, settings: {"client_assertion": party.assertion(TOKEN_URL)},
        lambda party, stranger, settings: {
            "client_assertion": party.assertion(API_PLATFORM_TOKEN_URL, key=stranger)
        },
        lambda party, stranger, settings: {
            "client_assertion": party.assertion(API_PLATFORM_TOKEN_URL, exp=int(time.time()) - 90)
        },
        lambda party, stranger, settings: {"client_assertion": "garbage"},
    ],
    ids=[
        "secret of the JWT client",
        "service client's secret",
        "assertion for NHS login",
        "assertion by another key",
        "expired assertion",
        "garbage assertion",
    ],
)
def test_the_client_must_authenticate_with_a_signed_jwt(
    client, relying_party, stranger_key, identity, settings, client_auth
):
    fields = client_auth(relying_party, stranger_key, settings)

    response = exchange(
        client, relying_party, issue_id_token(identity, audience=CLIENT_ID), **fields
    )

    refused(response, 401, "invalid_client")


def test_a_client_assertion_is_used_once(client, relying_party, identity):
    assertion = relying_party.assertion(API_PLATFORM_TOKEN_URL)
    id_token = issue_id_token(identity, audience=CLIENT_ID)

    first = exchange(client, relying_party, id_token, client_assertion=assertion)
    second = exchange(client, relying_party, id_token, client_assertion=assertion)

    assert first.status_code == 200
    refused(second, 401, "invalid_client")


def test_one_client_id_may_hold_both_the_secret_and_the_key(
    client, relying_party, identity, settings
):
    settings.SANDBOX_CLIENT_ID = CLIENT_ID
    settings.SANDBOX_CLIENT_SECRET = "s3cret-for-tests-only"

    service = client.post(
        API_PLATFORM_TOKEN_PATH,
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": "s3cret-for-tests-only",
            }
        ),
        content_type=FORM,
    )
    patient = exchange(client, relying_party, issue_id_token(identity, audience=CLIENT_ID))
    # The secret alone does not reach token exchange.
    by_secret = exchange(
        client,
        relying_party,
        issue_id_token(identity, audience=CLIENT_ID),
        client_assertion_type=None,
        client_assertion=None,
        client_id=CLIENT_ID,
        client_secret="s3cret-for-tests-only",
    )

    assert verify_token(service.json()["access_token"]).is_service
    assert verify_token(patient.json()["access_token"]).nhs_number == "9000000009"
    refused(by_secret, 401, "invalid_client")


def test_the_id_tokens_issuer_is_the_stand_in(identity, relying_party):
    token = issue_id_token(identity, audience=CLIENT_ID)

    claims = jwt.decode(token, verification_key(), algorithms=["RS512"]).claims

    assert claims["iss"] == ISSUER
