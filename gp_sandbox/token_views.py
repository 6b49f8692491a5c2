"""The sandbox's stand-in for the API platform's token endpoint.

``POST /sandbox/oauth2/token``, form-encoded, answers two grants (``api_platform``):

- ``grant_type=client_credentials`` with ``client_id`` and ``client_secret``: a service token,
  which may only search for slots. Asking for a patient (``nhs_number``) is refused: a patient's
  token comes only from token exchange.
- ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange`` (RFC 8693) with
  ``subject_token_type=urn:ietf:params:oauth:token-type:id_token``, ``subject_token`` (the
  patient's NHS login ID token, P9) and client authentication by a JWT (``client_assertion_type``
  jwt-bearer, ``client_assertion`` signed RS512, ``aud`` this endpoint's URL): the patient's
  access token, for that patient only.

Errors follow the OAuth 2.0 shape (RFC 6749 §5.2): ``{"error": ..., "error_description": ...}``.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gp_sandbox.api_platform import api_platform_server
from gp_sandbox.nhs_login.views import form_encoded_token_request


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    return form_encoded_token_request(request, api_platform_server)
