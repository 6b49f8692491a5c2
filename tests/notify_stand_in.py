"""The sandbox's GOV.UK Notify stand-in, reached in-process by Notify's real client.

``mount_stand_in(client)`` gives a NotificationsAPIClient a `requests` transport that hands
each request to this process's Django app (django.test.Client), so tests run the client's own
token signing, URL building and error handling against the stand-in, with no server and no
network. The stand-in's rows are in the test database, so tests need the ``db`` fixture.
"""

import io
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.test import Client
from notifications_python_client.notifications import NotificationsAPIClient
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from gp_sandbox.models import NotifyBehaviour, NotifyMessage

BASE_URL = "http://testserver"
# Set by Django's test client, or meaningless in-process.
_DROPPED_HEADERS = {"content-type", "content-length", "host", "connection", "accept-encoding"}


class InProcessNotify(BaseAdapter):
    """A `requests` transport adapter that answers from the Django app in this process."""

    def __init__(self) -> None:
        super().__init__()
        self.django_client = Client()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: object = None,
        verify: bool | str = True,
        cert: object = None,
        proxies: object = None,
    ) -> requests.Response:
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer = self.django_client.generic(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            data=body,
            content_type=request.headers.get("Content-Type", ""),
            secure=url.scheme == "https",
            headers={
                name: value
                for name, value in request.headers.items()
                if name.lower() not in _DROPPED_HEADERS
            },
            SERVER_NAME=url.hostname or "testserver",
            SERVER_PORT=str(url.port or (443 if url.scheme == "https" else 80)),
        )

        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        # The body is read from `raw`, as from a real connection.
        response.raw = io.BytesIO(answer.content)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass


def mount_stand_in(client: NotificationsAPIClient) -> None:
    """Send this client's requests to the stand-in in this process."""
    client.request_session.mount(client.base_url, InProcessNotify())


def stand_in_client(api_key: str | None = None) -> NotificationsAPIClient:
    """Notify's client with the key the stand-in accepts (or ``api_key``), already mounted."""
    client = NotificationsAPIClient(api_key or settings.SANDBOX_NOTIFY_API_KEY, base_url=BASE_URL)
    mount_stand_in(client)
    return client


def sent_messages(to: str | None = None) -> list[NotifyMessage]:
    """What the stand-in has accepted, newest first; only those to ``to`` when given."""
    messages = NotifyMessage.objects.order_by("-created_at")
    if to is not None:
        messages = messages.filter(recipient=to)
    return list(messages)


def set_notify_failure(kind: str) -> None:
    """Make every API call fail with ``kind`` ("429", "500" or "503"), or work again ("")."""
    NotifyBehaviour.set(kind)
