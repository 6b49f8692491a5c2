import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from booking_site.accounts.models import User
from tests.factories import DEMO_PASSWORD, make_patient, make_practice
from tests.html import error_summary_links

pytestmark = pytest.mark.django_db


def _sign_up_data(practice, **overrides) -> dict:
    data = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "Grace.Hopper@example.com",
        "date_of_birth_day": "9",
        "date_of_birth_month": "12",
        "date_of_birth_year": "1976",
        "nhs_number": "944 930 5552",
        "registered_practice": str(practice.pk),
        "password": DEMO_PASSWORD,
        "password_confirmation": DEMO_PASSWORD,
    }
    data.update(overrides)
    return data


def test_a_patient_creates_an_account_and_is_signed_in(client: Client):
    practice = make_practice()

    response = client.post(reverse("accounts:sign_up"), _sign_up_data(practice))

    assert response.status_code == 302
    user = User.objects.get(username="grace.hopper@example.com")
    assert user.nhs_number == "9449305552"
    assert user.registered_practice == practice
    assert user.date_of_birth.isoformat() == "1976-12-09"
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"first_name": ""}, "id_first_name", "Enter your first name"),
        ({"email": "not-an-email"}, "id_email", "Enter an email address in the correct format"),
        ({"nhs_number": ""}, "id_nhs_number", "Enter your NHS number"),
        ({"nhs_number": "12345"}, "id_nhs_number", "NHS number must be 10 digits"),
        ({"nhs_number": "9000000001"}, "id_nhs_number", "Enter a valid NHS number"),
        (
            {"date_of_birth_day": "", "date_of_birth_month": "", "date_of_birth_year": ""},
            "id_date_of_birth_day",
            "Enter your date of birth",
        ),
        (
            {"date_of_birth_month": ""},
            "id_date_of_birth_day",
            "Your date of birth must include a month",
        ),
        (
            {"date_of_birth_day": "31", "date_of_birth_month": "2"},
            "id_date_of_birth_day",
            "Your date of birth must be a real date",
        ),
        ({"date_of_birth_year": "2999"}, "id_date_of_birth_day", "must be in the past"),
        ({"registered_practice": ""}, "id_registered_practice", "Choose your GP practice"),
        ({"registered_practice": "999999"}, "id_registered_practice", "Choose your GP practice"),
        ({"password": "short", "password_confirmation": "short"}, "id_password", "too short"),
        ({"password_confirmation": "different-1"}, "id_password_confirmation", "do not match"),
    ],
)
def test_sign_up_errors_are_linked_from_the_error_summary(
    client: Client, overrides, field_id, message
):
    practice = make_practice()

    response = client.post(reverse("accounts:sign_up"), _sign_up_data(practice, **overrides))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<title>Error: Create an account") == 1
    links = error_summary_links(html)
    assert any(href == field_id and message in text for href, text in links), links
    assert f'id="{field_id}"' in html
    assert not User.objects.exists()


def test_an_nhs_number_can_have_only_one_account(client: Client):
    practice = make_practice()
    make_patient(nhs_number="9449305552", practice=practice)

    response = client.post(reverse("accounts:sign_up"), _sign_up_data(practice))

    assert "An account already uses this NHS number" in response.content.decode()


def test_sign_up_form_has_no_maxlength_and_no_browser_validation(client: Client):
    html = client.get(reverse("accounts:sign_up")).content.decode()

    assert "novalidate" in html
    assert "maxlength" not in html


def test_the_header_offers_sign_in_or_your_appointments_and_sign_out(client: Client):
    user = make_patient()

    anonymous = client.get("/").content.decode()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    signed_in = client.get("/").content.decode()

    assert 'href="/account/sign-in/"' in anonymous
    assert 'href="/appointments/"' in signed_in
    assert 'href="/account/sign-out/"' in signed_in
    assert "Ada Lovelace" in signed_in


def test_a_patient_signs_in_with_email_and_password_and_returns_to_next(client: Client):
    make_patient(email="ada@example.com")

    response = client.post(
        reverse("accounts:sign_in"),
        {"email": "ADA@example.com", "password": DEMO_PASSWORD, "next": "/account/signed-out/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/signed-out/"


def test_sign_in_never_redirects_off_site(client: Client):
    make_patient(email="ada@example.com")

    response = client.post(
        reverse("accounts:sign_in"),
        {"email": "ada@example.com", "password": DEMO_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_wrong_password_is_a_linked_error_without_saying_which_part_was_wrong(client: Client):
    make_patient(email="ada@example.com")

    response = client.post(
        reverse("accounts:sign_in"), {"email": "ada@example.com", "password": "nope"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Sign in" in html
    assert error_summary_links(html) == [
        ("id_email", "Enter the email address and password you used to create your account")
    ]


def test_empty_sign_in_names_each_missing_field(client: Client):
    response = client.post(reverse("accounts:sign_in"), {"email": "", "password": ""})

    assert error_summary_links(response.content.decode()) == [
        ("id_email", "Enter your email address"),
        ("id_password", "Enter your password"),
    ]


def test_repeated_failed_sign_ins_are_throttled(client: Client, settings):
    make_patient(email="ada@example.com")
    url = reverse("accounts:sign_in")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"email": "ada@example.com", "password": "x"}).status_code == 200

    locked = client.post(url, {"email": "ada@example.com", "password": "x"})
    still_locked = client.post(url, {"email": "ada@example.com", "password": DEMO_PASSWORD})

    assert locked.status_code == 429
    assert "You cannot sign in at the moment" in locked.content.decode()
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def _sign_in_from(address: str, email: str, password: str, **headers) -> int:
    client = Client(REMOTE_ADDR=address, **headers)
    return client.post(reverse("accounts:sign_in"), {"email": email, "password": password})


def test_failures_from_many_addresses_lock_the_account_they_were_for(settings):
    make_patient(email="ada@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in_from(f"203.0.113.{n + 1}", "ada@example.com", "wrong")

    right_password = _sign_in_from("198.51.100.7", "ada@example.com", DEMO_PASSWORD)

    assert right_password.status_code == 429
    assert AccessAttempt.objects.filter(username="ada@example.com").count() >= 5


def test_failures_for_other_accounts_do_not_lock_anyone_else_out(settings):
    make_patient(email="ada@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in_from(f"203.0.113.{n + 1}", f"person{n}@example.com", "wrong")

    one_typo = _sign_in_from("198.51.100.7", "ada@example.com", "wrong")
    then_right = _sign_in_from("198.51.100.7", "ada@example.com", DEMO_PASSWORD)

    assert one_typo.status_code == 200
    assert then_right.status_code == 302


def test_behind_a_trusted_proxy_failures_count_against_the_clients_address(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_PROXY_ORDER = "right-most"
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    make_patient(email="ada@example.com")

    _sign_in_from(
        "10.0.0.5", "ada@example.com", "wrong", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44"
    )

    assert AccessAttempt.objects.get().ip_address == "192.0.2.44"


def test_sign_out_is_a_post_and_ends_the_session(client: Client):
    user = make_patient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    asked = client.get(reverse("accounts:sign_out"))
    assert asked.status_code == 200
    assert "_auth_user_id" in client.session
    response = client.post(reverse("accounts:sign_out"))

    assert response["Location"] == reverse("accounts:signed_out")
    assert "_auth_user_id" not in client.session


def test_a_completely_empty_sign_in_post_still_shows_the_errors(client: Client):
    response = client.post(reverse("accounts:sign_in"), {})

    assert error_summary_links(response.content.decode())[0] == (
        "id_email",
        "Enter your email address",
    )
