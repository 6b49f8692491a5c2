"""A signed-in session ends after a while without activity; signing in again with NHS login
brings the same patient back to the page and the answers they had, and nobody else."""

import datetime
import time

from django.conf import settings
from django.test import Client

from booking_site.accounts.models import User
from gp_sandbox import factories as sandbox
from gp_sandbox.models import Patient as SandboxPatient
from tests.nhs_login_flow import sign_in_with_nhs_login

from .conftest import tomorrow_at


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def identity_of(nhs_number: str):
    return sandbox.make_identity(SandboxPatient.objects.get(nhs_number=nhs_number))


def answer_where_and_when(client: Client) -> None:
    assert client.post("/book/where/", {"scope": "mine"}).status_code == 302
    assert client.post("/book/when/", {"period": "7"}).status_code == 302


def leave_idle(client: Client) -> None:
    """As if the patient had done nothing for longer than SESSION_IDLE_SECONDS."""
    session = client.session
    session["active_until"] = time.time() - 1
    session.save()


def test_a_timed_out_patient_signs_in_again_and_returns_to_the_page_and_their_answers(world):
    client = signed_in(world.patient)
    answer_where_and_when(client)
    answers = client.session["booking_journey"]
    leave_idle(client)

    response = client.get("/book/times/")

    assert response["Location"] == "/account/sign-in/?next=%2Fbook%2Ftimes%2F"
    assert "_auth_user_id" not in client.session
    sign_in_page = client.get(response["Location"]).content.decode()
    assert "We signed you out because you had not done anything for a while" in sign_in_page

    back = sign_in_with_nhs_login(
        client, str(identity_of(sandbox.PATIENT_NHS_NUMBER).sub), next_url="/book/times/"
    )

    assert back["Location"] == "/book/times/"
    assert client.session["booking_journey"] == answers
    assert client.get("/book/times/").status_code == 200


def test_someone_else_signing_in_on_that_browser_gets_nothing_of_it(world):
    client = signed_in(world.patient)
    answer_where_and_when(client)
    leave_idle(client)
    client.get("/book/times/")

    back = sign_in_with_nhs_login(client, str(identity_of(sandbox.OTHER_NHS_NUMBER).sub))

    assert back["Location"] == "/"
    assert "booking_journey" not in client.session
    assert "resume" not in client.session


def test_what_the_patient_was_typing_comes_back_after_signing_in_again(world):
    world.slots("A20047", tomorrow_at(9), 2)
    client = signed_in(world.patient)
    answer_where_and_when(client)
    results = client.get("/book/times/").content.decode().replace("&amp;", "&")
    choose = results.split('href="/book/details/?', 1)[1].split('"', 1)[0]
    assert client.get("/book/details/?" + choose).status_code == 302
    leave_idle(client)

    sent = client.post(
        "/book/details/",
        {"reason": "Typed before the timeout", "note": ""},
        headers={"Referer": "http://testserver/book/details/"},
    )

    assert sent["Location"] == "/account/sign-in/?next=%2Fbook%2Fdetails%2F"
    back = sign_in_with_nhs_login(client, str(identity_of(sandbox.PATIENT_NHS_NUMBER).sub))
    assert back["Location"] == "/book/details/"
    page = client.get("/book/details/").content.decode()
    assert "Typed before the timeout" in page
    # Shown once: the next visit shows what the journey holds
    assert "Typed before the timeout" not in client.get("/book/details/").content.decode()


def test_an_expired_nhs_login_id_token_ends_the_session_too(world):
    client = signed_in(world.patient)
    answer_where_and_when(client)
    User.objects.filter(pk=world.patient.pk).update(
        nhs_login_expires_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(seconds=1)
    )

    response = client.get("/book/times/")

    assert response["Location"] == "/account/sign-in/?next=%2Fbook%2Ftimes%2F"


def test_signed_in_pages_carry_the_timeout_warning_and_signed_out_ones_do_not(world):
    signed_in_page = signed_in(world.patient).get("/").content.decode()
    anonymous_page = Client().get("/").content.decode()

    assert '<dialog class="app-timeout-dialog" id="timeout-warning"' in signed_in_page
    assert f'data-idle-seconds="{settings.SESSION_IDLE_SECONDS}"' in signed_in_page
    assert "Stay signed in" in signed_in_page
    assert "timeout-warning" not in anonymous_page


def test_stay_signed_in_moves_the_end_of_the_session_on(world):
    client = signed_in(world.patient)
    client.get("/")
    session = client.session
    session["active_until"] = time.time() + 100  # the warning is showing
    session.save()

    response = client.post("/account/stay-signed-in/", headers={"Accept": "application/json"})

    assert response.status_code == 204
    assert client.session["active_until"] > time.time() + settings.SESSION_IDLE_SECONDS - 5
    # Without JavaScript it is a form that goes back to the page
    assert client.post("/account/stay-signed-in/", {"next": "/book/"})["Location"] == "/book/"


def test_a_timed_out_form_that_only_takes_post_returns_to_the_page_it_was_sent_from(world):
    client = signed_in(world.patient)
    answer_where_and_when(client)
    leave_idle(client)

    # "Search the next 2 weeks" is a form on the results page posting to a POST-only URL
    client.post("/book/times/later/", headers={"Referer": "http://testserver/book/times/"})
    back = sign_in_with_nhs_login(client, str(identity_of(sandbox.PATIENT_NHS_NUMBER).sub))

    assert back["Location"] == "/book/times/"


def test_stay_signed_in_after_the_session_ended_says_so(world):
    client = signed_in(world.patient)
    client.get("/")
    leave_idle(client)

    response = client.post("/account/stay-signed-in/", headers={"Accept": "application/json"})

    assert response.status_code == 401
