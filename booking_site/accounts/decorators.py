from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def _refusal(request: HttpRequest, user) -> HttpResponse | None:
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user.is_patient or user.registered_practice_id is None:
        raise PermissionDenied("Only patients can book appointments")
    return None


def patient_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in patients only: others are sent to sign in, staff are refused (403).

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
