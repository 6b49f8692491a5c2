"""Signing in through the sandbox's NHS login stand-in with Django's test client, every step over
the real endpoints: the site's start, the stand-in's page and choice, the site's callback (whose
requests to the stand-in's token and userinfo endpoints go over HTTP in process)."""

import contextlib
from urllib.parse import urlencode, urlsplit

import httpx
from django.test import Client

from booking_site import gpconnect, nhs_login
from booking_site.asgi import application


@contextlib.contextmanager
def in_process_nhs_login():
    """The site's requests to NHS login (and GP Connect) reach the sandbox in this process."""
    transport = httpx.ASGITransport(app=application)
    with nhs_login.use_transport(transport), gpconnect.use_transport(transport):
        yield


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def go_to_nhs_login(client: Client, next_url: str = "/") -> str:
    """Start a sign-in; returns the stand-in's authorisation URL (path and query)."""
    start = client.get(f"/account/nhs-login/?{urlencode({'next': next_url})}")
    assert start.status_code == 302, start.content
    return _local(start["Location"])


def choose_at_nhs_login(client: Client, authorize: str, choice: str) -> str:
    """At the stand-in, pick ``choice`` (an identity's sub, or "error:access_denied"…); returns
    the site's callback URL (path and query) the stand-in sends the browser back to."""
    page = client.get(authorize)
    assert page.status_code == 200, page.content
    back = client.post(authorize, {"choice": choice})
    assert back.status_code == 302, back.content
    return _local(back["Location"])


def sign_in_with_nhs_login(client: Client, choice: str, next_url: str = "/"):
    """The whole round trip; returns the site's reply to the callback."""
    callback = choose_at_nhs_login(client, go_to_nhs_login(client, next_url), choice)
    return client.get(callback)
