"""403, 404, 500 and CSRF failure pages: NHS-styled, with a way back; the 500 page needs no
database."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import path

from booking_site.urls import urlpatterns as site_urls
from tests.factories import make_patient

urlpatterns = [
    *site_urls,
    path("test-broken/", lambda request: 1 / 0),
]
handler500 = "booking_site.core.views.server_error"
handler404 = "booking_site.core.views.not_found"
handler403 = "booking_site.core.views.forbidden"

pytestmark = pytest.mark.django_db


def anonymous() -> Client:
    return Client(raise_request_exception=False)


def signed_in() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(make_patient())
    return client


def test_a_404_offers_the_page_they_came_from_and_the_start():
    response = anonymous().get("/no-such-page/", headers={"Referer": "http://testserver/book/"})

    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="nhsuk-header' in html
    assert '<a href="http://testserver/book/">Go back to the page you were on</a>' in html
    assert '<a href="/">Go to the start of Book a GP appointment</a>' in html


def test_a_404_never_links_back_to_another_site():
    response = anonymous().get("/no-such-page/", headers={"Referer": "https://evil.example/"})

    html = response.content.decode()
    assert "evil.example" not in html
    assert '<a href="/">Go to the start of Book a GP appointment</a>' in html


def test_a_403_has_a_way_back():
    patient = signed_in()

    response = patient.get("/staff/availability/", headers={"Referer": "http://testserver/"})

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>You cannot use this page</h1>" in html
    assert "Go back to the page you were on" in html


def test_a_refused_csrf_check_is_an_nhs_page_with_a_way_back():
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)

    response = client.post(
        "/account/sign-in/", {"email": "a@example.com"}, headers={"Referer": "http://testserver/"}
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert (
        "<title>Sorry, we could not use your answers - Book a GP appointment - NHS</title>" in html
    )
    assert "Nothing has been booked, changed or cancelled." in html
    assert "Go back to the page you were on" in html
    assert "DEBUG" not in html


def test_a_server_error_is_an_nhs_page_with_status_500(settings):
    settings.ROOT_URLCONF = __name__

    response = signed_in().get("/test-broken/")

    html = response.content.decode()
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Sorry, there is a problem with the service</h1>" in html
    assert '<a href="/">Go to the start of Book a GP appointment</a>' in html


def test_the_500_page_renders_for_a_signed_in_user_with_the_database_refused(settings):
    settings.ROOT_URLCONF = __name__
    client = signed_in()

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    # Every new connection and every query on an open one is refused, as with the server down.
    with (
        mock.patch.object(BaseDatabaseWrapper, "ensure_connection", refuse),
        mock.patch("django.db.backends.utils.CursorWrapper.execute", refuse),
    ):
        response = client.get("/book/")

    html = response.content.decode()
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Sorry, there is a problem with the service</h1>" in html
    assert 'class="nhsuk-header' in html
    assert "Sign out" not in html
    assert response["Cache-Control"] == "no-store, private"
