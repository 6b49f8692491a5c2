"""GOV.UK Notify, through its official client: sending one message, and finding one sent before.

Only this module talks to Notify. The client is synchronous (``requests``) and is used only by
the task worker, never on a patient's page view.
"""

import contextlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from django.conf import settings
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from booking_site.notifications.models import Channel

TIMEOUT_SECONDS = 10

_override_adapter: requests.adapters.BaseAdapter | None = None


@dataclass(frozen=True)
class Failed(Exception):
    """Notify did not take the message. ``retry``: it may take it later (429, 5xx, no reply);
    otherwise it never will (a 400 or 403: the message or the key is wrong)."""

    status: int
    problem: str
    retry: bool


def base_url() -> str:
    """NOTIFY_BASE_URL, or the sandbox's stand-in (at its origin, as Notify's API is at the
    root of its host) when that is unset and the sandbox is on."""
    if settings.NOTIFY_BASE_URL:
        return settings.NOTIFY_BASE_URL
    if settings.SANDBOX_ENABLED:
        return origin(settings.SANDBOX_BASE_URL)
    raise RuntimeError("NOTIFY_BASE_URL is not set")


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@contextlib.contextmanager
def use_adapter(adapter: requests.adapters.BaseAdapter) -> Iterator[None]:
    """Send every request to Notify made inside the block through ``adapter`` (tests)."""
    global _override_adapter
    previous = _override_adapter
    _override_adapter = adapter
    try:
        yield
    finally:
        _override_adapter = previous


def client() -> NotificationsAPIClient:
    notify = NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=base_url(), timeout=TIMEOUT_SECONDS
    )
    if _override_adapter is not None:
        notify.request_session.mount(notify.base_url, _override_adapter)
    return notify


def send(
    notify: NotificationsAPIClient,
    *,
    channel: str,
    recipient: str,
    template: str,
    personalisation: dict,
    reference: str,
) -> str:
    """Send one message with the template named ``template`` (NOTIFY_TEMPLATE_IDS); Notify's id
    for it. Raises Failed."""
    template_id = settings.NOTIFY_TEMPLATE_IDS[template]
    try:
        if channel == Channel.EMAIL:
            reply = notify.send_email_notification(
                recipient, template_id, personalisation=personalisation, reference=reference
            )
        else:
            reply = notify.send_sms_notification(
                recipient, template_id, personalisation=personalisation, reference=reference
            )
    except APIError as error:
        raise _failed(error) from error
    return str(reply.get("id", "")) if isinstance(reply, dict) else ""


def sent_before(notify: NotificationsAPIClient, reference: str) -> str:
    """Notify's id of a message sent with ``reference``, or "" if it has none. Raises Failed."""
    try:
        reply = notify.get_all_notifications(reference=reference)
    except APIError as error:
        raise _failed(error) from error
    found = reply.get("notifications") if isinstance(reply, dict) else None
    for notification in found or []:
        if isinstance(notification, dict) and notification.get("reference") == reference:
            return str(notification.get("id", ""))
    return ""


def _failed(error: APIError) -> Failed:
    status = error.status_code
    name = ""
    response = error.response
    if response is not None:
        try:
            errors = response.json().get("errors") or []
            name = str(errors[0].get("error", ""))[:40] if errors else ""
        except (ValueError, AttributeError, TypeError, IndexError):
            name = ""
    return Failed(
        status=status, problem=f"{status} {name}".strip(), retry=status in _RETRY or status >= 500
    )


# Rate limited, or (the client's own code for a request that got no reply) unavailable.
_RETRY = {429, 503}
