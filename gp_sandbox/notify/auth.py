"""Notify's API key check: a JSON Web Token in the Authorization header, issued by the
service's id and signed (HS256) with one of its keys' secrets, its ``iat`` within 30 seconds
of now. Checked with the official client's own functions, as Notify's API does, and refused
with Notify's messages."""

from django.conf import settings
from django.http import HttpRequest
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import (
    TokenAlgorithmError,
    TokenDecodeError,
    TokenError,
    TokenExpiredError,
    TokenIssuerError,
)

from gp_sandbox.notify.errors import auth_error

_JWT_GUIDANCE = (
    "Invalid token: make sure your API token matches the example at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
)


def accepted_key() -> tuple[str, str]:
    """(service id, secret) of the one key the stand-in accepts. Notify's keys are
    <key name>-<service id>-<secret>, both ids 36-character UUIDs."""
    key = settings.SANDBOX_NOTIFY_API_KEY
    return key[-73:-37], key[-36:]


def authenticate(request: HttpRequest) -> None:
    """Raise the NotifyError Notify answers with unless the request carries a valid token."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise auth_error("Unauthorized: authentication token must be provided", 401)
    if header[:7].title() != "Bearer ":
        raise auth_error("Unauthorized: authentication bearer scheme must be used", 401)
    token = header[7:]

    try:
        issuer = get_token_issuer(token)
    except TokenIssuerError as error:
        raise auth_error("Invalid token: iss field not provided") from error
    except TokenDecodeError as error:
        raise auth_error(_JWT_GUIDANCE) from error

    service_id, secret = accepted_key()
    if str(issuer).lower() != service_id.lower():
        raise auth_error("Invalid token: service not found")

    try:
        decode_jwt_token(token, secret)
    except TokenExpiredError as error:
        raise auth_error(
            "Error: Your system clock must be accurate to within 30 seconds"
        ) from error
    except TokenAlgorithmError as error:
        raise auth_error("Invalid token: algorithm used is not HS256") from error
    except TokenDecodeError as error:
        # Not signed with the key's secret (Notify tries each of the service's keys).
        raise auth_error("Invalid token: API key not found") from error
    except TokenError as error:
        raise auth_error(_JWT_GUIDANCE) from error
