"""The API platform's token endpoint as an Authlib authorisation server: ``client_credentials``
(client id and secret as form fields) for the site's service token, and OAuth 2.0 Token
Exchange (RFC 8693) of a patient's NHS login ID token, the client authenticated by a signed JWT
(RFC 7523), for the patient's access token."""

import time

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, UnauthorizedClientError
from authlib.oauth2.rfc6749.grants import BaseGrant, ClientCredentialsGrant, TokenEndpointMixin
from django.conf import settings

from gp_sandbox.nhs_login import config
from gp_sandbox.nhs_login.id_tokens import InvalidIdToken, verify_id_token
from gp_sandbox.nhs_login.server import PrivateKeyJWT, Server
from gp_sandbox.tokens import issue_token

ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 (a URN)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)


class ServiceTokenGrant(ClientCredentialsGrant):
    """A service token (slot searches only), never a patient's."""

    TOKEN_ENDPOINT_AUTH_METHODS = [config.CLIENT_SECRET_POST]

    def validate_token_request(self):
        if "nhs_number" in self.request.form:
            raise InvalidRequestError(
                "A patient's access token comes only from token exchange with their NHS login "
                "ID token"
            )
        super().validate_token_request()


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):
    """RFC 8693: the patient's NHS login ID token (P9) for an access token to GP Connect."""

    GRANT_TYPE = config.TOKEN_EXCHANGE
    TOKEN_ENDPOINT_AUTH_METHODS = [config.PRIVATE_KEY_JWT]

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("The client may not use token exchange")
        form = self.request.form
        if form.get("subject_token_type") != ID_TOKEN_TYPE:
            raise InvalidRequestError(f"subject_token_type must be {ID_TOKEN_TYPE}")
        if not form.get("subject_token"):
            raise InvalidRequestError("Missing subject_token")
        requested = form.get("requested_token_type")
        if requested is not None and requested != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError(f"requested_token_type must be {ACCESS_TOKEN_TYPE}")
        if form.get("actor_token") or form.get("actor_token_type"):
            raise InvalidRequestError("Delegation (actor_token) is not supported")
        try:
            self.id_token = verify_id_token(form["subject_token"], audience=client.get_client_id())
        except InvalidIdToken as error:
            raise InvalidGrantError(str(error)) from None
        self.request.client = client

    def create_token_response(self):
        left = self.id_token.expires_at - int(time.time())
        expires_in = max(1, min(settings.SANDBOX_TOKEN_TTL_SECONDS, left))
        body = {
            "access_token": issue_token(self.id_token.nhs_number, ttl_seconds=expires_in),
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        return 200, body, self.TOKEN_RESPONSE_HEADER


def _service_token(grant_type, client, user=None, scope=None, **_) -> dict:
    return {
        "access_token": issue_token(None),
        "token_type": "Bearer",
        "expires_in": settings.SANDBOX_TOKEN_TTL_SECONDS,
    }


class ApiPlatformServer(Server):
    def save_token(self, token, request):
        # The tokens are signed and carry their own claims: nothing to keep.
        pass


api_platform_server = ApiPlatformServer(config.api_platform_client)
api_platform_server.register_token_generator("client_credentials", _service_token)
api_platform_server.register_client_auth_method(
    config.PRIVATE_KEY_JWT, PrivateKeyJWT(config.api_platform_token_url)
)
api_platform_server.register_grant(ServiceTokenGrant)
api_platform_server.register_grant(TokenExchangeGrant)
