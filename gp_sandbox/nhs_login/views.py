"""The NHS login stand-in's endpoints, under /sandbox/nhs-login/ (``urls``).

Discovery and JWKS describe it; ``authorize`` shows a tester who may sign in and ends with a
code (or an error) at the relying party's redirect URI; ``token`` redeems the code for an ID
token and access token; ``userinfo`` releases the claims the access token's scope allows.
"""

import uuid

from authlib.oauth2.rfc6749 import AccessDeniedError, OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gp_sandbox.models import LoginIdentity
from gp_sandbox.nhs_login import config
from gp_sandbox.nhs_login.identities import userinfo_claims, vector_met
from gp_sandbox.nhs_login.server import Server, nhs_login_server, require_access_token

_FORM = "application/x-www-form-urlencoded"
# The tester's ways to end the sign-in with an error instead of a person.
_ERROR_CHOICES = {
    "error:access_denied": AccessDeniedError,
    "error:login_required": LoginRequiredError,
}
_LEVEL_ORDER = {"P9": 0, "P5": 1, "P0": 2}


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "issuer": config.issuer(),
            "authorization_endpoint": config.endpoint("authorize"),
            "token_endpoint": config.endpoint("token"),
            "userinfo_endpoint": config.endpoint("userinfo"),
            "jwks_uri": config.endpoint(".well-known/jwks.json"),
            "scopes_supported": list(config.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [config.ID_TOKEN_ALG],
            "token_endpoint_auth_methods_supported": [config.PRIVATE_KEY_JWT],
            "token_endpoint_auth_signing_alg_values_supported": [config.ID_TOKEN_ALG],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "jti",
                "nonce",
                "vot",
                "vtm",
                "identity_proofing_level",
                "nhs_number",
                "family_name",
                "given_name",
                "birthdate",
                "email",
                "email_verified",
                "phone_number",
                "phone_number_verified",
                "gp_registration_details",
            ],
        }
    )


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(config.public_jwks())


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    try:
        grant = nhs_login_server.get_consent_grant(request)
    except OAuth2Error as error:
        return _authorization_error(request, error)
    except ValueError:
        # Authlib will not quote input it cannot put in an error description.
        return _error_page(request, "The request has characters that are not allowed.")
    if request.method == "GET":
        return _sign_in_page(request)

    choice = request.POST.get("choice", "")
    if choice in _ERROR_CHOICES:
        return _redirect_error(request, grant, _ERROR_CHOICES[choice]())
    identity = _chosen_identity(choice)
    if identity is None:
        return _sign_in_page(request, error="Choose who signs in, or an error to end with")
    vot = vector_met(identity, grant.vtr)
    if vot is None:
        return _redirect_error(
            request,
            grant,
            AccessDeniedError(
                "The person has not proved their identity to the level asked for "
                f"({' or '.join(grant.vtr)})"
            ),
        )
    grant.vot = vot
    return nhs_login_server.create_authorization_response(request, grant_user=identity, grant=grant)


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    return form_encoded_token_request(request, nhs_login_server)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@require_access_token("openid")
def userinfo(request: HttpRequest) -> JsonResponse:
    access_token = request.oauth_token
    return JsonResponse(userinfo_claims(access_token.get_user(), access_token.get_scope()))


def form_encoded_token_request(request: HttpRequest, server: Server) -> HttpResponse:
    """A token endpoint's answer: fields only as application/x-www-form-urlencoded."""
    if request.content_type != _FORM:
        return _json_error(400, "invalid_request", f"Send the fields as {_FORM}.")
    try:
        return server.create_token_response(request)
    except ValueError:
        # Authlib will not quote input it cannot put in an error description.
        return _json_error(400, "invalid_request", "The request has characters not allowed.")


def _json_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    # RFC 6749 §5.1: token responses must never be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _authorization_error(request: HttpRequest, error: OAuth2Error) -> HttpResponse:
    if error.redirect_uri:
        return nhs_login_server.handle_error_response(request, error)
    # Without a registered client and redirect URI there is nowhere safe to send the error.
    return _error_page(request, error.get_error_description() or error.error)


def _redirect_error(request: HttpRequest, grant, error: OAuth2Error) -> HttpResponse:
    error.redirect_uri = grant.redirect_uri
    error.state = grant.request.payload.state
    return nhs_login_server.handle_error_response(request, error)


def _chosen_identity(choice: str) -> LoginIdentity | None:
    try:
        sub = uuid.UUID(choice)
    except ValueError:
        return None
    return (
        LoginIdentity.objects.select_related("patient__registered_practice").filter(sub=sub).first()
    )


def _sign_in_page(request: HttpRequest, error: str | None = None) -> HttpResponse:
    identities = sorted(
        LoginIdentity.objects.select_related("patient__registered_practice"),
        key=lambda i: (_LEVEL_ORDER[i.identity_proofing_level], i.display_name),
    )
    items = [{"value": str(identity.sub), "text": _describe(identity)} for identity in identities]
    items += [
        {"value": value, "text": f"End with an error: {value.removeprefix('error:')}"}
        for value in _ERROR_CHOICES
    ]
    return render(
        request,
        "sandbox/nhs_login_sign_in.jinja",
        {"items": items, "error": error, "action": request.get_full_path()},
        status=200,
    )


def _describe(identity: LoginIdentity) -> str:
    level = identity.get_identity_proofing_level_display()
    if identity.patient is None:
        return f"{identity.display_name}, {level}, no NHS number or GP practice"
    practice = identity.patient.registered_practice
    return f"{identity.display_name}, {level}, {practice.name} ({practice.ods_code})"


def _error_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "sandbox/nhs_login_error.jinja", {"message": message}, status=400)
