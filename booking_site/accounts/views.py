"""Signing in and out: patients through NHS login, practice staff with the site's own accounts."""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import alogin, login, logout
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking_site import nhs_login
from booking_site.accounts.decorators import sign_in_url
from booking_site.accounts.forms import SignInForm
from booking_site.accounts.nhs_login_accounts import account_for
from booking_site.accounts.timeout import (
    PENDING_SIGN_IN,
    RESUME,
    resume_after_sign_in,
    safe_next,
)
from booking_site.core.rendering import render as arender

logger = logging.getLogger(__name__)


def _next_url(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next") or "")


@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """Patients: the way to NHS login (and, for staff, to their own sign-in)."""
    return render(
        request,
        "accounts/sign_in.jinja",
        {"next": _next_url(request), "timed_out": RESUME in request.session},
    )


@require_http_methods(["GET", "POST"])
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    """Practice staff and administrators (django-axes throttles failures)."""
    form = SignInForm(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        return HttpResponseRedirect(_next_url(request))
    return render(
        request, "accounts/staff_sign_in.jinja", {"form": form, "next": _next_url(request)}
    )


def _redirect_uri(request: HttpRequest) -> str:
    return settings.NHS_LOGIN_REDIRECT_URI or request.build_absolute_uri(
        reverse("accounts:nhs_login_callback")
    )


async def _problem(request: HttpRequest, kind: str, next_url: str, status: int) -> HttpResponse:
    return await arender(
        request,
        "accounts/sign_in_problem.jinja",
        {"kind": kind, "try_again": sign_in_url(next_url)},
        status=status,
    )


@require_GET
async def nhs_login_start(request: HttpRequest) -> HttpResponse:
    """Send the person to NHS login, keeping state, nonce and PKCE verifier in their session."""
    next_url = _next_url(request)
    try:
        url, pending = await nhs_login.begin(_redirect_uri(request))
    except nhs_login.Unavailable as error:
        logger.warning("NHS login unavailable at sign-in: %s", error)
        return await _problem(request, "unavailable", next_url, 200)
    await request.session.aset(PENDING_SIGN_IN, {**pending.as_dict(), "next": next_url})
    return HttpResponseRedirect(url)


@require_GET
async def nhs_login_callback(request: HttpRequest) -> HttpResponse:
    """NHS login's reply: check it, make or update the account, sign in, go back."""
    kept = await request.session.apop(PENDING_SIGN_IN, None)
    pending = nhs_login.Pending.from_dict(kept)
    next_url = safe_next(request, kept.get("next", "")) if isinstance(kept, dict) else "/"
    try:
        identity = await nhs_login.finish(pending, request.GET, _redirect_uri(request))
        try:
            user = await sync_to_async(account_for)(identity)
        except DatabaseError as error:
            # Two first sign-ins of one person at once, or claims the database refuses.
            raise nhs_login.SignInFailed(f"The account could not be saved: {error}") from error
    except nhs_login.SignInRefused as refused:
        kind = "cancelled" if refused.error == "access_denied" else "refused"
        logger.info("NHS login ended the sign-in: %s", refused.error)
        return await _problem(request, kind, next_url, 200)
    except nhs_login.SignInFailed as error:
        logger.warning("An NHS login reply failed its checks: %s", error)
        return await _problem(request, "failed", next_url, 400)
    except nhs_login.Unavailable as error:
        logger.warning("NHS login unavailable at its reply: %s", error)
        return await _problem(request, "unavailable", next_url, 200)
    await alogin(request, user, backend="django.contrib.auth.backends.ModelBackend")
    next_url = await resume_after_sign_in(request, user, next_url)
    if not user.can_book:
        return redirect("accounts:cannot_book")
    return HttpResponseRedirect(next_url)


def cannot_book(request: HttpRequest) -> HttpResponse:
    """A patient NHS login has not proved to the high level, or whose practice is not here."""
    user = request.user
    if not user.is_authenticated or not user.is_patient:
        return redirect("accounts:sign_in")
    if user.can_book:
        return redirect("home")
    return render(request, "accounts/cannot_book.jinja", {"verified": user.identity_level == "P9"})


@require_POST
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """The timeout warning's "Stay signed in": this request itself keeps the session going
    (SessionTimeout), unless the session has already ended: then 401 (the warning's script goes
    to "You have been signed out") or, from the form without JavaScript, sign in."""
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not request.user.is_authenticated:
        if wants_json:
            return HttpResponse(status=401)
        return HttpResponseRedirect(sign_in_url(_next_url(request)))
    if wants_json:
        return HttpResponse(status=204)
    return HttpResponseRedirect(_next_url(request))


@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """GET asks (the header links here); only a POST, with its CSRF token, signs out."""
    if request.method == "POST":
        logout(request)
        return redirect("accounts:signed_out")
    return render(request, "accounts/sign_out.jinja")


def signed_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        # A timeout warning's page arrived while the session was still alive (another tab kept
        # it going): back to where it was.
        return HttpResponseRedirect(_next_url(request))
    return render(
        request,
        "accounts/signed_out.jinja",
        {"timed_out": RESUME in request.session, "next": _next_url(request)},
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes calls this once an account or address has failed to sign in too often."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.jinja", {"minutes": minutes}, status=429)
