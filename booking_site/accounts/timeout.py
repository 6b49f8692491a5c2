"""Signed-in sessions end after a while without activity, and what the patient had is kept.

A session records until when it stays signed in (``SESSION_IDLE_SECONDS`` after the last request,
written at most once a minute). Pages tell the browser how long is left, so the NHS timeout
warning can appear two minutes before the end with "Stay signed in" (static/js/timeout.js).

A request arriving later, or after the patient's NHS login ID token has expired (GP Connect
would refuse it), ends the signed-in session. What the session held (the journey's answers, and
the fields of a form being sent) is kept, with the page, for the same person only: after signing
in again with NHS login they return to that page with those answers. Anyone else signing in on
that browser gets none of it.
"""

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.auth import alogout
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from booking_site.accounts.nhs_login_accounts import signed_in_until_passed

ACTIVE_UNTIL = "active_until"
RESUME = "resume"
RESUMED_FORM = "resumed_form"
PENDING_SIGN_IN = "nhs_login_pending"
# Session entries that belong to the signed-in session itself, never carried over.
_NOT_CARRIED = {ACTIVE_UNTIL, RESUME, RESUMED_FORM, PENDING_SIGN_IN}
# Written again only when less than this much of the idle time has been used.
_REFRESH_AFTER_SECONDS = 60


def current_page(request: HttpRequest) -> str:
    """The page the person is on: for an htmx fragment, the page that asked for it."""
    if getattr(request, "htmx", False) and request.htmx.current_url_abs_path:
        return request.htmx.current_url_abs_path
    return request.get_full_path()


def safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


class SessionTimeout:
    """Ends a signed-in session that has been idle too long, keeping what it held to resume."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponse]]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser()
        if user.is_authenticated:
            now = time.time()
            until = await request.session.aget(ACTIVE_UNTIL)
            if (isinstance(until, int | float) and until <= now) or signed_in_until_passed(user):
                await _time_out(request, user)
            else:
                idle = settings.SESSION_IDLE_SECONDS
                used = idle - (until - now) if isinstance(until, int | float) else idle
                if used > _REFRESH_AFTER_SECONDS:
                    until = now + idle
                    await request.session.aset(ACTIVE_UNTIL, until)
                ends = until
                if user.is_patient and user.nhs_login_expires_at is not None:
                    ends = min(ends, user.nhs_login_expires_at.timestamp())
                request.signed_in_seconds_left = max(0, int(ends - now))
        return await self.get_response(request)


async def _time_out(request: HttpRequest, user) -> None:
    kept = None
    if user.is_patient:
        carried = {
            key: value
            for key, value in (await request.session.aitems())
            if not key.startswith("_") and key not in _NOT_CARRIED
        }
        kept = {"sub": user.nhs_login_sub, "path": _page_to_return_to(request), "data": carried}
        if request.method == "POST":
            kept["form"] = {
                key: request.POST.getlist(key)
                for key in request.POST
                if key != "csrfmiddlewaretoken"
            }
    await alogout(request)
    if kept is not None:
        await request.session.aset(RESUME, kept)


def _page_to_return_to(request: HttpRequest) -> str:
    """Where signing in again should bring the patient: a page they can GET."""
    if request.path == reverse("accounts:signed_out"):
        # The timeout warning's page went there: the page to come back to is its next.
        path = safe_next(request, request.GET.get("next", ""))
    elif request.method != "GET" and not getattr(request, "htmx", False):
        # A form sent: back to the page it was sent from (the form posts to itself, or its
        # page can be opened again), never to a URL that takes only POST.
        referer = urlsplit(request.headers.get("Referer", ""))
        same_site = referer.netloc == request.get_host()
        path = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/"
    else:
        path = current_page(request)
    # Never back to signing in or out (booking_site/urls.py mounts the accounts at /account/).
    if not path.startswith("/") or path.startswith("/account/"):
        return "/"
    return path


async def resume_after_sign_in(request: HttpRequest, user, default_next: str) -> str:
    """After an NHS login sign-in: put back what a timed-out session held, if it was this
    person's, and return where to go next."""
    kept = await request.session.apop(RESUME, None)
    if not isinstance(kept, dict) or kept.get("sub") != user.nhs_login_sub:
        return default_next
    data = kept.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            await request.session.aset(key, value)
    path = safe_next(request, kept.get("path") or "")
    if isinstance(kept.get("form"), dict):
        await request.session.aset(RESUMED_FORM, {"path": path, "fields": kept["form"]})
    return path if path != "/" else default_next


async def take_resumed_form(request: HttpRequest) -> dict[str, str]:
    """The fields a form on this page was sending when the session timed out (once), to show
    them again; empty if there were none."""
    kept = await request.session.aget(RESUMED_FORM)
    if not isinstance(kept, dict) or kept.get("path") != request.get_full_path():
        return {}
    await request.session.apop(RESUMED_FORM, None)
    fields = kept.get("fields")
    if not isinstance(fields, dict):
        return {}
    return {
        str(name): values[-1]
        for name, values in fields.items()
        if isinstance(values, list) and values and isinstance(values[-1], str)
    }
