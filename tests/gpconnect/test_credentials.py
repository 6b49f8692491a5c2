"""API platform tokens: a patient's by token exchange of their NHS login ID token, the service's
by client credentials; fetched over HTTP through the same client, cached without the NHS number."""

import asyncio
import json
import time
from datetime import date
from urllib.parse import parse_qsl

import httpx
import pytest
from django.core.cache import cache
from joserfc import jwt

from booking_site import gpconnect
from booking_site.gpconnect import caching, sessions

from . import builders
from .conftest import CORRELATION_ID, HILLSIDE, PATIENT, RIVERSIDE, Recorder, fhir_response

TOKEN_URL = "http://sandbox.test/sandbox/oauth2/token"
EMPTY = builders.bundle(entry=False)
SIX_WEEKS = gpconnect.DateRange(date(2027, 3, 1), date(2027, 4, 11))
ONE_DAY = gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 1))


@pytest.fixture
def sandbox_settings(settings):
    settings.SANDBOX_BASE_URL = "http://sandbox.test/sandbox/"
    settings.SANDBOX_CLIENT_ID = "booking-site"
    settings.SANDBOX_CLIENT_SECRET = "s3cret"
    return settings


def _provider(expires_in=3600, token_status=200):
    issued = []

    async def respond(request: httpx.Request):
        if request.url.path == "/sandbox/oauth2/token":
            await asyncio.sleep(0.01)
            form = dict(parse_qsl(request.content.decode()))
            issued.append(form)
            if token_status != 200:
                return httpx.Response(token_status, json={"error": "invalid_client"})
            subject = form.get("subject_token", "service")
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{subject}-{len(issued)}",
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                },
            )
        return fhir_response(200, EMPTY)

    return Recorder(respond), issued


def _run(recorder, make_call, credentials=None):
    async def main():
        async with sessions.session(transport=recorder.transport(), credentials=credentials):
            return await make_call()

    return asyncio.run(main())


def _search(patient=PATIENT, practices=(RIVERSIDE,), date_range=SIX_WEEKS):
    return lambda: gpconnect.search_free_slots(
        list(practices), date_range, patient, correlation_id=CORRELATION_ID
    )


def test_a_patient_token_is_the_exchange_of_their_nhs_login_id_token(sandbox_settings):
    recorder, issued = _provider()
    _run(recorder, _search(date_range=gpconnect.DateRange(date(2027, 3, 1), date(2027, 3, 2))))

    token_request, search = recorder.requests
    assert token_request.method == "POST"
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    [form] = issued
    assertion = form.pop("client_assertion")
    assert form == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": "amelia-id-token",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    # The client is authenticated by a JWT signed with the site's key, for this endpoint; the
    # NHS number is never sent: the practice learns it from the exchanged token.
    claims = jwt.decode(assertion, _site_public_key(), algorithms=["RS512"]).claims
    assert claims["iss"] == claims["sub"] == "booking-site"
    assert claims["aud"] == TOKEN_URL
    assert "9000000009" not in token_request.content.decode()
    assert search.headers["Authorization"] == "Bearer tok-amelia-id-token-1"


def test_a_patient_without_an_id_token_gets_no_token_and_nothing_is_sent(sandbox_settings):
    recorder, issued = _provider()
    [result] = _run(recorder, _search(patient=gpconnect.Patient("9000000009")))

    assert isinstance(result.failure, gpconnect.NotAuthorised)
    assert issued == []
    assert recorder.requests == []


def test_a_staff_preview_gets_a_service_token(sandbox_settings):
    recorder, issued = _provider()
    _run(recorder, _search(patient=None))

    assert issued[0]["grant_type"] == "client_credentials"
    assert "subject_token" not in issued[0]
    assert recorder.requests[-1].headers["Authorization"] == "Bearer tok-service-1"


def test_every_window_of_every_practice_shares_one_token_fetch(sandbox_settings):
    recorder, issued = _provider()
    _run(recorder, _search(practices=(RIVERSIDE, HILLSIDE)))

    assert len(issued) == 1
    searches = [r for r in recorder.requests if r.method == "GET"]
    assert len(searches) == 6
    assert {r.headers["Authorization"] for r in searches} == {"Bearer tok-amelia-id-token-1"}


def test_the_token_is_reused_from_the_cache_until_near_expiry(sandbox_settings):
    recorder, issued = _provider(expires_in=3600)

    async def twice():
        await _search()()
        await caching.invalidate_practice(RIVERSIDE.ods_code)
        await _search()()

    _run(recorder, twice)
    assert len(issued) == 1


def test_a_token_about_to_expire_is_not_kept(sandbox_settings):
    recorder, issued = _provider(expires_in=0)

    async def twice():
        await _search()()
        await caching.invalidate_practice(RIVERSIDE.ods_code)
        await _search()()

    _run(recorder, twice)
    assert len(issued) == 2


def test_the_token_cache_key_does_not_contain_the_nhs_number(sandbox_settings):
    key = caching.token_key("booking-site", "9000000009", "amelia-id-token")

    assert "9000000009" not in key
    assert key != caching.token_key("booking-site", "9449305552", "amelia-id-token")
    assert key != caching.token_key("booking-site", "9000000009", "a-later-sign-in")
    assert key != caching.token_key("booking-site", None)
    recorder, _ = _provider()
    _run(recorder, _search())
    token, _ = cache.get(key)
    assert token == "tok-amelia-id-token-1"


def test_a_refused_token_is_forgotten(sandbox_settings):
    key = caching.token_key("booking-site", PATIENT.nhs_number, PATIENT.id_token)
    cache.set(key, ("stale-token", time.time() + 600))

    def respond(request):
        if request.url.path == "/sandbox/oauth2/token":
            return httpx.Response(200, json={"access_token": "fresh", "expires_in": 600})
        if request.headers["Authorization"] == "Bearer stale-token":
            return fhir_response(401, builders.outcome("ACCESS_DENIED"))
        return fhir_response(200, EMPTY)

    recorder = Recorder(respond)
    [first] = _run(recorder, _search())
    assert isinstance(first.failure, gpconnect.NotAuthorised)
    assert cache.get(key) is None

    may = gpconnect.DateRange(date(2027, 5, 3), date(2027, 5, 4))
    [second] = _run(recorder, _search(date_range=may))
    assert second.status == gpconnect.ResultStatus.NONE


class CountedGets:
    """``caching.get``, noting the keys read."""

    def __init__(self, monkeypatch):
        self.keys = []
        self.real = caching.get
        monkeypatch.setattr(caching, "get", self)

    async def __call__(self, key):
        self.keys.append(key)
        return await self.real(key)


def test_a_token_another_instance_fetched_is_read_from_the_cache_once(
    sandbox_settings, monkeypatch
):
    key = caching.token_key("booking-site", PATIENT.nhs_number, PATIENT.id_token)
    cache.set(key, ("shared-token", time.time() + 600))
    gets = CountedGets(monkeypatch)
    recorder, issued = _provider()

    async def twice():
        await _search(practices=(RIVERSIDE, HILLSIDE))()  # 2 practices x 3 windows at once
        await caching.invalidate_practice(RIVERSIDE.ods_code)
        await _search()()

    _run(recorder, twice)

    assert issued == []
    assert {r.headers["Authorization"] for r in recorder.requests} == {"Bearer shared-token"}
    assert gets.keys.count(key) == 1


def test_a_kept_token_is_not_used_after_it_expires(sandbox_settings):
    clock = {"now": 1_000_000.0}
    credentials = gpconnect.PlatformCredentials(
        TOKEN_URL,
        "booking-site",
        "s3cret",
        assertion=lambda audience: "signed-assertion",
        clock=lambda: clock["now"],
    )
    recorder, issued = _provider(expires_in=600)  # kept for 600 - 60 s

    async def search_at(moment):
        clock["now"] = moment
        await caching.invalidate_practice(RIVERSIDE.ods_code)
        await _search(date_range=ONE_DAY)()

    async def three_times():
        await search_at(1_000_000)
        await search_at(1_000_539)
        await search_at(1_000_541)

    _run(recorder, three_times, credentials)

    assert len(issued) == 2
    searches = [r for r in recorder.requests if r.method == "GET"]
    assert [r.headers["Authorization"] for r in searches] == [
        "Bearer tok-amelia-id-token-1",
        "Bearer tok-amelia-id-token-1",
        "Bearer tok-amelia-id-token-2",
    ]


def test_a_token_endpoint_that_refuses_the_site_fails_the_search(sandbox_settings):
    recorder, _ = _provider(token_status=401)
    [result] = _run(recorder, _search())

    assert isinstance(result.failure, gpconnect.NotAuthorised)
    assert all(r.method == "POST" for r in recorder.requests)


def test_a_token_reply_without_a_token_is_an_invalid_reply(sandbox_settings):
    def respond(request):
        return httpx.Response(200, content=json.dumps({"token_type": "Bearer"}))

    [result] = _run(Recorder(respond), _search())
    assert isinstance(result.failure, gpconnect.InvalidReply)


def test_platform_credentials_are_a_credential_source():
    assert isinstance(gpconnect.PlatformCredentials.from_settings(), gpconnect.CredentialSource)


def _site_public_key():
    from django.conf import settings
    from joserfc.jwk import RSAKey

    with open(settings.NHS_LOGIN_PRIVATE_KEY_FILE, "rb") as handle:
        return RSAKey.import_key(handle.read())
