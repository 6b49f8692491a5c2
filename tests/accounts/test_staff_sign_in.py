"""Practice staff and administrators sign in with the site's own accounts, throttled by
django-axes. (Patients sign in only through NHS login: test_nhs_login_sign_in.py.)"""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from booking_site.accounts.models import User
from tests.factories import DEMO_PASSWORD, make_patient
from tests.html import error_summary_links

pytestmark = pytest.mark.django_db


def make_staff(email: str = "ada@example.com") -> User:
    """Practice staff keep the site's own accounts, with a password (django-axes throttles)."""
    return User.objects.create_user(
        username=email, email=email, password=DEMO_PASSWORD, first_name="Ada", last_name="Byron"
    )


def test_the_header_offers_sign_in_or_your_appointments_and_sign_out(client: Client):
    user = make_patient()

    anonymous = client.get("/").content.decode()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    signed_in = client.get("/").content.decode()

    assert 'href="/account/sign-in/"' in anonymous
    assert 'href="/appointments/"' in signed_in
    assert 'href="/account/sign-out/"' in signed_in
    assert "Ada Lovelace" in signed_in


def test_staff_sign_in_with_email_and_password_and_return_to_next(client: Client):
    make_staff("ada@example.com")

    response = client.post(
        reverse("accounts:staff_sign_in"),
        {"email": "ADA@example.com", "password": DEMO_PASSWORD, "next": "/account/signed-out/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/signed-out/"


def test_sign_in_never_redirects_off_site(client: Client):
    make_staff("ada@example.com")

    response = client.post(
        reverse("accounts:staff_sign_in"),
        {"email": "ada@example.com", "password": DEMO_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_wrong_password_is_a_linked_error_without_saying_which_part_was_wrong(client: Client):
    make_staff("ada@example.com")

    response = client.post(
        reverse("accounts:staff_sign_in"), {"email": "ada@example.com", "password": "nope"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Sign in as practice staff" in html
    assert error_summary_links(html) == [
        ("id_email", "Enter the email address or username and password for your staff account")
    ]


def test_empty_sign_in_names_each_missing_field(client: Client):
    response = client.post(reverse("accounts:staff_sign_in"), {"email": "", "password": ""})

    assert error_summary_links(response.content.decode()) == [
        ("id_email", "Enter your email address or username"),
        ("id_password", "Enter your password"),
    ]


def test_repeated_failed_sign_ins_are_throttled(client: Client, settings):
    make_staff("ada@example.com")
    url = reverse("accounts:staff_sign_in")
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
    return client.post(reverse("accounts:staff_sign_in"), {"email": email, "password": password})


def test_failures_from_many_addresses_lock_the_account_they_were_for(settings):
    make_staff("ada@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in_from(f"203.0.113.{n + 1}", "ada@example.com", "wrong")

    right_password = _sign_in_from("198.51.100.7", "ada@example.com", DEMO_PASSWORD)

    assert right_password.status_code == 429
    assert AccessAttempt.objects.filter(username="ada@example.com").count() >= 5


def test_failures_for_other_accounts_do_not_lock_anyone_else_out(settings):
    make_staff("ada@example.com")
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
    make_staff("ada@example.com")

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
    response = client.post(reverse("accounts:staff_sign_in"), {})

    assert error_summary_links(response.content.decode())[0] == (
        "id_email",
        "Enter your email address or username",
    )
