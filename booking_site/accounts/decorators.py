from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from booking_site.accounts.timeout import current_page


def sign_in_url(next_url: str) -> str:
    return f"{reverse('accounts:sign_in')}?{urlencode({'next': next_url})}"


def _refusal(request: HttpRequest, user) -> HttpResponse | None:
    if not user.is_authenticated:
        target = sign_in_url(current_page(request))
        if getattr(request, "htmx", False):
            # A fragment must never swap a sign-in page into the page: htmx sends the whole
            # page to sign in instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
    if not user.is_patient:
        raise PermissionDenied("Only patients can book appointments")
    if not user.can_book:
        target = reverse("accounts:cannot_book")
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
    return None


def patient_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Patients proved to P9 by NHS login only: others are sent to sign in, patients proved to
    a lower level are told how to prove who they are, staff are refused (403).

    Works on sync and async views. An async view finds ``request.user`` already loaded (through
    the async API), so nothing it renders asks the database for the user again.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            request.user = await request.auser()
            refusal = _refusal(request, request.user)
            if refusal is not None:
                return refusal
            return await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refusal = _refusal(request, request.user)
        if refusal is not None:
            return refusal
        return view(request, *args, **kwargs)

    return wrapper
