"""Notify's REST API endpoints for emails and text messages, served at /v2/ (``api_urls``).

Every call is answered as Notify answers it: the key check first, then the failure a tester
has switched on (NotifyBehaviour), then the request itself. Errors are Notify's JSON.
"""

import functools
import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from gp_sandbox.notify import service
from gp_sandbox.notify.auth import authenticate
from gp_sandbox.notify.errors import NotifyError, bad_request
from gp_sandbox.notify.models import NotifyBehaviour
from gp_sandbox.notify.templates import EMAIL, SMS

Failure = NotifyBehaviour.Failure


def notify_endpoint(view: Callable[..., tuple[int, dict]]) -> Callable[..., HttpResponse]:
    """Authenticate, apply the switched-on failure, and turn the view's (status, body) or its
    NotifyError into Notify's JSON answer."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            authenticate(request)
            failure = service.switched_failure()
            if failure:
                return _failure(failure)
            status, body = view(request, *args, **kwargs)
        except NotifyError as error:
            return JsonResponse(error.as_json(), status=error.status_code)
        return JsonResponse(body, status=status)

    return wrapper


@require_POST
@notify_endpoint
def send_email(request: HttpRequest) -> tuple[int, dict]:
    return 201, service.send(EMAIL, _json_body(request), _url_root(request))


@require_POST
@notify_endpoint
def send_sms(request: HttpRequest) -> tuple[int, dict]:
    return 201, service.send(SMS, _json_body(request), _url_root(request))


@require_GET
@notify_endpoint
def notification(request: HttpRequest, notification_id: str) -> tuple[int, dict]:
    return 200, service.notification(notification_id, _url_root(request))


@require_GET
@notify_endpoint
def notifications(request: HttpRequest) -> tuple[int, dict]:
    return 200, service.notifications(dict(request.GET.lists()), _url_root(request))


def _json_body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body)
    except ValueError as error:  # UnicodeDecodeError included
        raise bad_request("Invalid JSON supplied in POST data") from error


def _url_root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _failure(failure: str) -> HttpResponse:
    if failure == Failure.RATE_LIMIT:
        error = NotifyError(
            429,
            (
                "RateLimitError",
                "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
            ),
        )
    elif failure == Failure.SERVER_ERROR:
        error = NotifyError(500, ("Exception", "Internal server error"))
    else:
        # A 503 comes from in front of Notify (its load balancer), not from Notify's code.
        return HttpResponse(
            "503 Service Unavailable", status=503, content_type="text/plain; charset=utf-8"
        )
    return JsonResponse(error.as_json(), status=error.status_code)
