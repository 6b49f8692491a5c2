from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gp_sandbox.tokens import InvalidToken, issue_token, verify_token

TOKEN_URL = "/sandbox/oauth2/token"
CLIENT_ID = "booking-site-tests"
CLIENT_SECRET = "s3cret-for-tests-only"


@pytest.fixture(autouse=True)
def _credentials(settings):
    settings.SANDBOX_CLIENT_ID = CLIENT_ID
    settings.SANDBOX_CLIENT_SECRET = CLIENT_SECRET
    settings.SANDBOX_TOKEN_TTL_SECONDS = 900


@pytest.fixture
def client() -> Client:
    # As a real caller would be: no CSRF cookie or token.
    return Client(enforce_csrf_checks=True)


def ask_for_token(client: Client, **fields: str):
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    form["client_secret"] = CLIENT_SECRET
    form.update(fields)
    return client.post(TOKEN_URL, urlencode(form), content_type="application/x-www-form-urlencoded")


def test_client_credentials_give_a_service_token(client):
    response = ask_for_token(client)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    claims = verify_token(body["access_token"])
    assert claims.is_service
    assert claims.nhs_number is None


@pytest.mark.parametrize("number", ["9000000009", "9000000001", ""])
def test_client_credentials_never_give_a_patient_token(client, number):
    response = ask_for_token(client, nhs_number=number)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "only from token exchange with their NHS login ID token" in body["error_description"]
    assert "access_token" not in body


def test_every_token_is_different(client):
    first = ask_for_token(client).json()["access_token"]
    second = ask_for_token(client).json()["access_token"]

    assert first != second


@pytest.mark.parametrize(
    "fields",
    [
        {"client_secret": "wrong"},
        {"client_id": "someone-else"},
        {"client_secret": ""},
        {"client_secret": "wröng"},
    ],
    ids=["wrong secret", "wrong client", "empty secret", "non-ascii secret"],
)
def test_a_wrong_client_is_refused_with_401(client, fields):
    response = ask_for_token(client, **fields)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", '"\\', ""])
def test_an_unknown_grant_is_refused(client, grant_type):
    response = ask_for_token(client, grant_type=grant_type)

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "multipart"])
def test_fields_must_be_form_encoded(client, as_json):
    fields = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    fields["client_secret"] = CLIENT_SECRET
    if as_json:
        response = client.post(TOKEN_URL, fields, content_type="application/json")
    else:
        response = client.post(TOKEN_URL, fields)  # the test client's multipart/form-data

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_is_not_allowed(client):
    response = client.get(TOKEN_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_token_past_its_expiry_is_refused():
    token = issue_token("9000000009", ttl_seconds=0)

    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token)


def test_a_token_within_its_lifetime_verifies():
    claims = verify_token(issue_token("9000000009", ttl_seconds=60))

    assert claims.nhs_number == "9000000009"


def test_a_tampered_token_is_refused():
    token = issue_token("9000000009")
    payload, timestamp, signature = token.split(":")
    other_payload = issue_token("9449305552").split(":")[0]

    for forged in (
        f"{other_payload}:{timestamp}:{signature}",
        f"{payload}:{timestamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        token + "x",
        "not-a-token",
    ):
        with pytest.raises(InvalidToken):
            verify_token(forged)


def test_a_token_signed_with_another_key_is_refused(settings):
    token = issue_token("9000000009")
    settings.SANDBOX_SIGNING_KEY = "another-key"

    with pytest.raises(InvalidToken):
        verify_token(token)


def test_the_sandbox_token_command_prints_a_patient_token():
    out = StringIO()

    call_command("sandbox_token", "9449305552", stdout=out)

    claims = verify_token(out.getvalue().strip())
    assert claims.nhs_number == "9449305552"


def test_the_sandbox_token_command_prints_a_service_token():
    out = StringIO()

    call_command("sandbox_token", "--service", stdout=out)

    assert verify_token(out.getvalue().strip()).is_service


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["9000000001"], "not a valid NHS number"),
        ([], "Give the patient's NHS number"),
        (["9000000009", "--service"], "not both"),
    ],
)
def test_the_sandbox_token_command_explains_bad_arguments(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_token", *arguments, stdout=StringIO())
