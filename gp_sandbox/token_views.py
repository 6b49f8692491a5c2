"""The sandbox's token endpoint: a stand-in for NHS login and the API platform's token exchange.

``POST /sandbox/oauth2/token`` (form-encoded) with ``grant_type=client_credentials``,
``client_id``, ``client_secret`` and, for a patient token, ``nhs_number``. Without an NHS
number the token is a service token, which may only search for slots. Errors follow the OAuth 2.0
shape (RFC 6749 §5.2): ``{"error": ..., "error_description": ...}``.
"""

import secrets

import nhs_number
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gp_sandbox.tokens import issue_token

_FORM = "application/x-www-form-urlencoded"


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    if request.content_type != _FORM:
        return _error(400, "invalid_request", f"Send the fields as {_FORM}.")
    form = request.POST
    # Both compared every time (& not and), so the timing never tells which one was wrong.
    if not (
        _same(form.get("client_id", ""), settings.SANDBOX_CLIENT_ID)
        & _same(form.get("client_secret", ""), settings.SANDBOX_CLIENT_SECRET)
    ):
        return _error(401, "invalid_client", "The client id or secret is wrong.")
    if form.get("grant_type") != "client_credentials":
        return _error(400, "unsupported_grant_type", "Only client_credentials is supported.")

    patient = form.get("nhs_number")
    if patient is not None and not is_nhs_number(patient):
        return _error(400, "invalid_request", "nhs_number is not a valid NHS number.")
    return _no_store(
        JsonResponse(
            {
                "access_token": issue_token(patient),
                "token_type": "Bearer",
                "expires_in": settings.SANDBOX_TOKEN_TTL_SECONDS,
            }
        )
    )


def _same(given: str, expected: str) -> bool:
    # Constant-time, and bytes so that a non-ASCII guess cannot raise.
    return secrets.compare_digest(given.encode(), expected.encode())


def is_nhs_number(value: str) -> bool:
    """Ten digits exactly (no spaces) whose check digit holds."""
    return len(value) == 10 and value.isascii() and value.isdigit() and nhs_number.is_valid(value)


def _error(status: int, error: str, description: str) -> JsonResponse:
    return _no_store(
        JsonResponse({"error": error, "error_description": description}, status=status)
    )


def _no_store(response: JsonResponse) -> JsonResponse:
    # RFC 6749 §5.1: token responses must never be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
