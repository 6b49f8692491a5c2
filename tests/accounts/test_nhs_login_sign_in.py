"""Patients sign in with NHS login (the sandbox's stand-in, over HTTP), and only what NHS login
proved about them reaches a practice."""

import datetime
import json
import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from joserfc import jwt
from joserfc.jwk import RSAKey

from booking_site.accounts.models import User
from booking_site.asgi import application
from booking_site.booking.models import Booking
from booking_site.nhs_login import use_transport as nhs_login_transport
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Appointment
from gp_sandbox.nhs_login.id_tokens import issue_id_token
from tests.factories import make_practice
from tests.nhs_login_flow import (
    choose_at_nhs_login,
    go_to_nhs_login,
    in_process_nhs_login,
    sign_in_with_nhs_login,
)


class People:
    def __init__(self) -> None:
        home = sandbox.make_practice("A20047", name="Riverside Medical Practice")
        self.practice = make_practice("A20047", name="Riverside Medical Practice")
        self.amelia = sandbox.make_identity(sandbox.make_patient(home, sandbox.PATIENT_NHS_NUMBER))
        self.p5 = sandbox.make_p5_identity(home)
        self.p0 = sandbox.make_p0_identity()


@pytest.fixture
def people(transactional_db, settings) -> People:
    settings.SANDBOX_BASE_URL = "http://testserver/sandbox"
    with in_process_nhs_login():
        yield People()


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_a_patient_signs_in_with_nhs_login_and_their_account_comes_from_its_claims(people):
    client = Client()
    response = sign_in_with_nhs_login(client, str(people.amelia.sub), next_url="/book/")

    assert response.status_code == 302
    assert response["Location"] == "/book/"
    user = signed_in_user(client)
    assert user.nhs_login_sub == str(people.amelia.sub)
    assert user.nhs_number == sandbox.PATIENT_NHS_NUMBER
    assert (user.first_name, user.last_name) == (
        people.amelia.patient.given,
        people.amelia.patient.family,
    )
    assert user.date_of_birth == people.amelia.patient.birth_date
    assert user.registered_practice == people.practice
    assert user.identity_level == "P9"
    assert user.email == people.amelia.email
    assert user.email_verified
    assert user.phone_number == people.amelia.phone_number
    assert user.phone_number_verified
    assert user.can_book
    assert not user.has_usable_password()
    assert user.nhs_login_expires_at > datetime.datetime.now(tz=datetime.UTC)


def test_signing_in_again_updates_the_same_account(people):
    sign_in_with_nhs_login(Client(), str(people.amelia.sub))
    people.amelia.patient.family = "Clarke-Jones"
    people.amelia.patient.save()

    sign_in_with_nhs_login(Client(), str(people.amelia.sub))

    [user] = User.objects.filter(nhs_login_sub=str(people.amelia.sub))
    assert user.last_name == "Clarke-Jones"


@pytest.mark.parametrize("who", ["p5", "p0"])
def test_someone_not_proved_to_p9_signs_in_but_cannot_search_or_book(people, who):
    client = Client()
    response = sign_in_with_nhs_login(client, str(getattr(people, who).sub), next_url="/book/")

    assert response["Location"] == "/account/prove-who-you-are/"
    user = signed_in_user(client)
    assert user.identity_level == who.upper()
    assert user.nhs_number == ""
    assert user.registered_practice is None
    page = client.get("/account/prove-who-you-are/").content.decode()
    assert "<h1>Prove who you are to book an appointment</h1>" in page
    for journey_page in ["/book/", "/book/when/", "/book/times/", "/appointments/"]:
        assert client.get(journey_page)["Location"] == "/account/prove-who-you-are/"


@pytest.mark.parametrize(
    ("error", "title"),
    [
        ("access_denied", "You did not finish signing in"),
        ("login_required", "NHS login could not sign you in"),
    ],
)
def test_an_error_from_nhs_login_is_a_plain_page_with_a_way_forward(people, error, title):
    client = Client()
    response = sign_in_with_nhs_login(client, f"error:{error}", next_url="/book/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in html
    assert "/account/sign-in/?next=%2Fbook%2F" in html
    assert signed_in_user(client) is None
    assert not User.objects.exists()


def test_a_reply_with_the_wrong_state_is_refused_and_nothing_is_stored(people):
    client = Client()
    callback = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))

    response = client.get(callback.replace("state=", "state=x"))

    assert response.status_code == 400
    assert "<h1>We could not sign you in</h1>" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists()


def test_a_reply_this_browser_did_not_ask_for_is_refused(people):
    asked = Client()
    callback = choose_at_nhs_login(asked, go_to_nhs_login(asked), str(people.amelia.sub))

    # An attacker's code, planted in someone else's browser (login CSRF)
    response = Client().get(callback)

    assert response.status_code == 400
    assert not User.objects.exists()


def test_a_replayed_callback_signs_nobody_in_again(people):
    client = Client()
    callback = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))
    assert client.get(callback).status_code == 302
    client.post("/account/sign-out/")

    replayed = client.get(callback)

    assert replayed.status_code == 400
    assert signed_in_user(client) is None


class Tampering(httpx.AsyncBaseTransport):
    """The stand-in, reached in process, with its token reply changed on the way back."""

    def __init__(self, change) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/nhs-login/token") and response.status_code == 200:
            document = json.loads(await response.aread())
            return httpx.Response(200, json=await sync_to_async(self.change)(document))
        return response


def _stand_in_key() -> RSAKey:
    with open(settings.SANDBOX_NHS_LOGIN_SIGNING_KEY_FILE, "rb") as handle:
        return RSAKey.import_key(handle.read())


def _with_id_token(make):
    def change(document: dict) -> dict:
        return {**document, "id_token": make(document["id_token"])}

    return change


def _tampered(id_token: str) -> str:
    header, payload, signature = id_token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return f"{header}.{flipped}.{signature}"


def _signed_by_another_key(id_token: str) -> str:
    claims = jwt.decode(id_token, _stand_in_key(), algorithms=["RS512"]).claims
    return jwt.encode({"alg": "RS512"}, claims, RSAKey.generate_key(2048), algorithms=["RS512"])


def _reissued(**changes):
    def make(id_token: str) -> str:
        from gp_sandbox.models import LoginIdentity

        claims = jwt.decode(id_token, _stand_in_key(), algorithms=["RS512"]).claims
        identity = LoginIdentity.objects.get(sub=claims["sub"])
        arguments = {"audience": claims["aud"], "nonce": claims["nonce"], "vot": claims["vot"]}
        return issue_id_token(identity, **(arguments | changes))

    return make


def _from_another_issuer(id_token: str) -> str:
    """Signed with the right key, but naming another issuer."""
    with override_settings(SANDBOX_BASE_URL="http://elsewhere.example/sandbox"):
        return _reissued()(id_token)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_with_id_token(_tampered), id="tampered"),
        pytest.param(_with_id_token(_signed_by_another_key), id="signed-by-another-key"),
        pytest.param(_with_id_token(_reissued(nonce="another-nonce")), id="wrong-nonce"),
        pytest.param(_with_id_token(_reissued(audience="another-service")), id="wrong-audience"),
        pytest.param(
            _with_id_token(_reissued(issued_at=int(time.time()) - 7200, ttl_seconds=3600)),
            id="expired",
        ),
        pytest.param(
            _with_id_token(_reissued(issued_at=int(time.time()) + 3600)), id="issued-in-future"
        ),
        pytest.param(_with_id_token(_reissued(vot="P7.Cx.Cz")), id="vot-not-asked-for"),
        pytest.param(_with_id_token(_from_another_issuer), id="another-issuer"),
        pytest.param(_with_id_token(lambda token: "not-a-jwt"), id="not-a-jwt"),
        pytest.param(lambda document: {"access_token": "x"}, id="no-id-token"),
    ],
)
def test_an_id_token_that_fails_a_check_signs_nobody_in(people, change):
    client = Client()
    callback = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))

    with nhs_login_transport(Tampering(change)):
        response = client.get(callback)

    assert response.status_code == 400
    assert "<h1>We could not sign you in</h1>" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists()


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


def test_nhs_login_unavailable_is_a_plain_page_at_either_end(people):
    client = Client()
    with nhs_login_transport(Down()):
        start = client.get("/account/nhs-login/?next=/book/")
    assert start.status_code == 200
    assert "<h1>Sorry, NHS login is not available right now</h1>" in start.content.decode()

    callback = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))
    from django.core.cache import cache

    cache.clear()  # the discovery document must be fetched again, and cannot be
    with nhs_login_transport(Down()):
        back = client.get(callback)
    assert back.status_code == 200
    assert "not available right now" in back.content.decode()
    assert not User.objects.exists()


def test_the_old_sign_up_is_gone_and_books_nothing_for_a_typed_nhs_number(people):
    """Mallory signs up with someone else's NHS number and tries to book with it: today there
    is no sign-up, an account only gets an NHS number from NHS login, and none is booked."""
    schedule = sandbox.make_schedule(people.amelia.patient.registered_practice)
    sandbox.make_slots(schedule, sandbox.uk("2030-01-07 09:00"), 3)
    client = Client()

    sign_up = client.post(
        "/account/sign-up/",
        {
            "first_name": "Mallory",
            "last_name": "Attacker",
            "email": "mallory@example.com",
            "nhs_number": sandbox.PATIENT_NHS_NUMBER,
            "date_of_birth_day": "1",
            "date_of_birth_month": "1",
            "date_of_birth_year": "1990",
            "registered_practice": str(people.practice.pk),
            "password": "Correct-horse-battery-7",
            "password_confirmation": "Correct-horse-battery-7",
        },
    )
    assert sign_up.status_code == 404
    assert not User.objects.filter(nhs_number=sandbox.PATIENT_NHS_NUMBER).exists()
    # Not signed in: the journey sends Mallory to NHS login, where only the real patient can
    # prove to be Amelia
    assert client.get("/book/")["Location"].startswith("/account/sign-in/")
    assert not Appointment.objects.exists()


def _patient_with_token(people, id_token: str, sub: str) -> Client:
    user = User.objects.create(
        username=f"nhs-login:{sub}",
        nhs_login_sub=sub,
        identity_level="P9",
        nhs_number=sandbox.PATIENT_NHS_NUMBER,
        registered_practice=people.practice,
        nhs_login_id_token=id_token,
        nhs_login_expires_at=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1),
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["booking_journey"] = {
        "ods_codes": ["A20047"],
        "scope": "mine",
        "start": "2030-01-07",
        "end": "2030-01-08",
        "period": "dates",
    }
    session.save()
    return client


def test_a_forged_id_token_reaches_no_practice(people):
    """Even an account somehow holding a forged ID token gets no access token for the NHS number
    it names: the token exchange checks NHS login's signature. (The same account with NHS login's
    own token sees the practice's times.)"""
    schedule = sandbox.make_schedule(people.amelia.patient.registered_practice)
    sandbox.make_slots(schedule, sandbox.uk("2030-01-07 09:00"), 3)
    genuine = issue_id_token(people.amelia, audience=settings.NHS_LOGIN_CLIENT_ID)

    with_genuine = _patient_with_token(people, genuine, "genuine").get("/book/times/")
    User.objects.all().delete()
    cache.clear()  # the free times the genuine search kept: the practice must be asked again
    with_forged = _patient_with_token(people, _signed_by_another_key(genuine), "forged").get(
        "/book/times/"
    )

    assert "Choose<span" in with_genuine.content.decode()
    assert with_forged.status_code == 200
    forged_page = with_forged.content.decode()
    assert "Choose<span" not in forged_page
    assert "We could not confirm who you are with NHS login" in forged_page
    assert not Appointment.objects.exists()


def test_a_refused_token_exchange_at_booking_keeps_nothing_and_asks_to_sign_in_again(people):
    schedule = sandbox.make_schedule(people.amelia.patient.registered_practice)
    sandbox.make_slots(schedule, sandbox.uk("2030-01-07 09:00"), 1)
    client = _patient_with_token(
        people, issue_id_token(people.amelia, audience=settings.NHS_LOGIN_CLIENT_ID), "amelia"
    )
    results = client.get("/book/times/").content.decode().replace("&amp;", "&")
    [choose] = re.findall(r'href="(/book/details/\?[^"]+)"', results)
    client.get(choose)
    client.post("/book/details/", {"reason": "Sore knee", "note": ""})
    check = client.get("/book/check/").content.decode()
    answers = re.search(r'name="answers" value="([^"]+)"', check).group(1)
    # NHS login's proof is no longer accepted (here: forged) by the time they press Book
    forged = _signed_by_another_key(
        issue_id_token(people.amelia, audience=settings.NHS_LOGIN_CLIENT_ID)
    )
    User.objects.update(nhs_login_id_token=forged)

    response = client.post("/book/check/", {"answers": answers})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sign in again to book</h1>" in page
    assert "/account/nhs-login/?next=%2Fbook%2Fcheck%2F" in page
    assert not Booking.objects.exists()
    assert not Appointment.objects.exists()


def test_a_fragment_from_a_signed_out_session_sends_the_page_to_sign_in(people):
    response = Client().get(
        "/book/times/practice/A20047/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/book/times/?day=1"},
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/account/sign-in/?next=%2Fbook%2Ftimes%2F%3Fday%3D1"
    assert response.content == b""


def test_signing_out_ends_the_session(people):
    client = Client()
    sign_in_with_nhs_login(client, str(people.amelia.sub))

    client.post("/account/sign-out/")

    assert signed_in_user(client) is None
    assert client.get("/book/")["Location"].startswith("/account/sign-in/")


def test_a_used_code_with_another_browsers_state_signs_nobody_in(people):
    """Someone who saw a used code starts a sign-in of their own and presents it with their own
    state: the code is refused (used, and not their PKCE verifier's; the stand-in's own tests
    check single use), and the site signs nobody in."""
    client = Client()
    used = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))
    assert client.get(used).status_code == 302
    attacker = Client()
    fresh = choose_at_nhs_login(attacker, go_to_nhs_login(attacker), str(people.p0.sub))
    old_code = dict(parse_qsl(urlsplit(used).query))["code"]
    fresh_state = dict(parse_qsl(urlsplit(fresh).query))["state"]

    response = attacker.get(
        f"/account/nhs-login/callback/?{urlencode({'code': old_code, 'state': fresh_state})}"
    )

    assert response.status_code == 400
    assert "<h1>We could not sign you in</h1>" in response.content.decode()
    assert signed_in_user(attacker) is None


class Answering(httpx.AsyncBaseTransport):
    """The stand-in in process, with one endpoint's reply replaced."""

    def __init__(self, path_end: str, reply) -> None:
        self.inner = httpx.ASGITransport(app=application)
        self.path_end = path_end
        self.reply = reply

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith(self.path_end):
            await response.aread()
            return await sync_to_async(self.reply)(response)
        return response


@pytest.mark.parametrize(
    ("path_end", "reply", "status", "title"),
    [
        pytest.param(
            "/nhs-login/token",
            lambda _: httpx.Response(401, json={"error": "invalid_client"}),
            400,
            "We could not sign you in",
            id="token-endpoint-refuses-the-site",
        ),
        pytest.param(
            "/nhs-login/token",
            lambda _: httpx.Response(502, text="Bad gateway"),
            200,
            "Sorry, NHS login is not available right now",
            id="token-endpoint-down",
        ),
        pytest.param(
            "/nhs-login/userinfo",
            lambda response: httpx.Response(200, json={**response.json(), "sub": "someone-else"}),
            400,
            "We could not sign you in",
            id="userinfo-for-someone-else",
        ),
        pytest.param(
            "/nhs-login/userinfo",
            lambda response: httpx.Response(
                200, json={**response.json(), "nhs_number": "9449305552"}
            ),
            400,
            "We could not sign you in",
            id="userinfo-with-another-nhs-number",
        ),
        pytest.param(
            "/nhs-login/userinfo",
            lambda _: httpx.Response(401, json={"error": "invalid_token"}),
            400,
            "We could not sign you in",
            id="userinfo-refuses-the-token",
        ),
    ],
)
def test_a_bad_reply_at_the_callback_signs_nobody_in(people, path_end, reply, status, title):
    client = Client()
    callback = choose_at_nhs_login(client, go_to_nhs_login(client), str(people.amelia.sub))

    with nhs_login_transport(Answering(path_end, reply)):
        response = client.get(callback)

    assert response.status_code == status
    assert f"<h1>{title}</h1>" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists()


def test_an_error_reply_with_the_wrong_state_is_refused_as_not_ours(people):
    client = Client()
    go_to_nhs_login(client)

    response = client.get("/account/nhs-login/callback/?error=access_denied&state=forged")

    assert response.status_code == 400
    assert "<h1>We could not sign you in</h1>" in response.content.decode()
