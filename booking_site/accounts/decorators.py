from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def patient_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in patients only: others are sent to sign in, staff are refused (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_patient or request.user.registered_practice_id is None:
            raise PermissionDenied("Only patients can book appointments")
        return view(request, *args, **kwargs)

    return wrapper
