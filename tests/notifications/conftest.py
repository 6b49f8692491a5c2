"""Messages and alerts against the real sandbox in process: its practices (tests/booking) and
its Notify stand-in, reached by Notify's real client (tests/conftest.py)."""

import re

from django.core.management import call_command
from django.test import Client

from tests.booking.conftest import World, in_process_sandbox, tomorrow_at, world  # noqa: F401


def signed_in(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def search(client: Client, scope: str = "mine", period: str = "7") -> str:
    assert client.post("/book/where/", {"scope": scope}).status_code == 302
    assert client.post("/book/when/", {"period": period}).status_code == 302
    return client.get("/book/times/").content.decode().replace("&amp;", "&")


def choose_link(html: str, time: str) -> str:
    [link] = re.findall(
        rf'href="(/book/details/\?[^"]+)">Choose<span class="nhsuk-u-visually-hidden"> {time} ',
        html,
    )
    return link


def book(client: Client, time: str, reason: str = "Sore knee", contact_by: str | None = None):
    """Search the patient's own practice for the next 7 days and book ``time`` (choosing how to
    hear about it on the check page, when ``contact_by`` is given)."""
    results = search(client)
    assert client.get(choose_link(results, time)).status_code == 302
    assert client.post("/book/details/", {"reason": reason, "note": ""}).status_code == 302
    page = client.get("/book/check/").content.decode()
    answers = re.search(r'name="answers" value="([^"]+)"', page).group(1)
    pressed = {"answers": answers} | ({"contact_by": contact_by} if contact_by else {})
    return client.post("/book/check/", pressed)


def run_worker() -> None:
    """The task worker, once through every task due now."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
