import pytest
from django.test import Client


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_home_page_has_nhs_header_skip_link_and_title(client: Client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Book a GP appointment online - Book a GP appointment - NHS</title>" in html
    assert 'href="#maincontent"' in html
    assert 'class="nhsuk-header' in html
    assert 'class="nhsuk-footer' in html


def test_unknown_page_is_an_nhs_style_404(client: Client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_pages_send_a_content_security_policy_without_inline_script(client: Client):
    response = client.get("/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()


def test_server_error_page_is_nhs_style(client: Client, settings):
    from django.test import RequestFactory

    from booking_site.core.views import server_error

    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


def test_forbidden_page_is_nhs_style():
    from django.test import RequestFactory

    from booking_site.core.views import forbidden

    response = forbidden(RequestFactory().get("/"))

    assert response.status_code == 403
    assert "<h1>You cannot use this page</h1>" in response.content.decode()
