from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.jinja")


def way_back(request: HttpRequest) -> str | None:
    """The page the person came from, when it is a page of this site (never another site's)."""
    referer = request.headers.get("Referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return referer
    return None


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.jinja", {"way_back": way_back(request)}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.jinja", {"way_back": way_back(request)}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page needs nothing that may be what failed: the layout is told not to ask who is
    signed in (a database query, and the session), so it renders with the database down."""
    return render(request, "errors/500.jinja", {"without_account": True}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent from a page that was open too long, or without the
    cookie it needs. Nothing was saved, so the way out is to go back and send it again."""
    return render(request, "errors/csrf.jinja", {"way_back": way_back(request)}, status=403)
