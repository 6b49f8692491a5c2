"""The stand-in's OpenID Connect provider, built from Authlib's server parts: the authorisation
code grant with the OpenID Connect and PKCE extensions, private_key_jwt client authentication
(RFC 7523) and a bearer-token resource protector for userinfo."""

import datetime
import hashlib
import time

from authlib.common.security import generate_token
from authlib.integrations.django_oauth2 import AuthorizationServer, BearerTokenValidator
from authlib.integrations.django_oauth2 import ResourceProtector as DjangoResourceProtector
from authlib.integrations.django_oauth2.requests import DjangoOAuth2Payload
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError

from gp_sandbox.models import (
    LoginIdentity,
    NHSLoginAccessToken,
    NHSLoginAuthorizationCode,
    UsedClientAssertion,
)
from gp_sandbox.nhs_login import config
from gp_sandbox.nhs_login.id_tokens import issue_id_token
from gp_sandbox.nhs_login.identities import parse_vtr

# Authorisation codes are single use and short-lived.
CODE_TTL_SECONDS = 60


class _PlainHttpRequest(OAuth2Request):
    """Authlib refuses a request whose URI is neither https nor loopback (InsecureTransportError),
    as a real provider should. The sandbox is reached over plain HTTP wherever it runs (make run,
    the tests' http://testserver), so Authlib is shown the request's URI as https. None of the
    grants used here reads the URI. Otherwise as Authlib's DjangoOAuth2Request: the query and
    form from Django's request."""

    def __init__(self, request: HttpRequest) -> None:
        uri = request.build_absolute_uri()
        if uri.startswith("http://"):
            uri = "https://" + uri.removeprefix("http://")
        super().__init__(method=request.method, uri=uri, headers=request.headers)
        self.payload = DjangoOAuth2Payload(request)
        self.django_request = request

    @property
    def args(self):
        return self.django_request.GET

    @property
    def form(self):
        return self.django_request.POST


class Server(AuthorizationServer):
    """Authlib's Django authorisation server, with clients from settings instead of a model,
    and every invalid_client answered 401 (RFC 6749 §5.2 allows it)."""

    def __init__(self, query_client, scopes_supported=None) -> None:
        super().__init__(client_model=None, token_model=None)
        self._query_client = query_client
        self.scopes_supported = scopes_supported

    def query_client(self, client_id):
        return self._query_client(client_id) if isinstance(client_id, str) else None

    def create_oauth2_request(self, request):
        return _PlainHttpRequest(request)

    def handle_error_response(self, request, error):
        if isinstance(error, InvalidClientError):
            error.status_code = 401
        return super().handle_error_response(request, error)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """Client authentication by a JWT signed RS512 with the client's registered key, its
    ``aud`` the token endpoint it is sent to, its ``jti`` used once."""

    CLIENT_AUTH_METHOD = config.PRIVATE_KEY_JWT

    def __init__(self, audience) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self._audience = audience

    def get_audiences(self) -> list[str]:
        return [self._audience()]

    def resolve_client_public_key(self, client):
        return client.public_keys

    def process_assertion_claims(self, assertion, resolve_key):
        # RS512 only; and joserfc's error text may quote the attacker's header, which an OAuth
        # error description may not carry, so the description is ours.
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=[config.ID_TOKEN_ALG])
        except (JoseError, ValueError, TypeError):
            raise InvalidClientError(
                description="The client assertion is not a JWT signed RS512 by the client key"
            ) from None
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims, jti) -> bool:
        if not isinstance(jti, str) or not 0 < len(jti) <= 255:
            return False
        now = timezone.now()
        expires_at = datetime.datetime.fromtimestamp(claims["exp"], tz=datetime.UTC)
        UsedClientAssertion.objects.filter(expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                UsedClientAssertion.objects.create(
                    client_id=claims["sub"], jti=jti, expires_at=max(expires_at, now)
                )
        except IntegrityError:
            return False
        return True


class S256CodeChallenge(CodeChallenge):
    """PKCE on every authorisation request, S256 only (plain is refused)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing code_challenge: PKCE (S256) is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class StandInOpenIDCode(OpenIDCode):
    """ID tokens as NHS login issues them, signed by ``id_tokens.issue_id_token``."""

    def exists_nonce(self, nonce, request) -> bool:
        return NHSLoginAuthorizationCode.objects.filter(
            client_id=request.payload.client_id, nonce=nonce
        ).exists()

    def encode_id_token(self, token, request):
        code = request.authorization_code
        return issue_id_token(
            request.user,
            audience=request.client.get_client_id(),
            nonce=code.nonce,
            vot=code.vot,
            auth_time=code.auth_time,
            access_token=token.get("access_token"),
        )


class StandInCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [config.PRIVATE_KEY_JWT]

    # Set by the sign-in view when a tester has chosen who signs in.
    vot: str | None = None

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        payload = self.request.payload
        try:
            if "openid" not in (payload.scope or "").split():
                raise InvalidScopeError("The scope must include openid")
            if not payload.state:
                raise InvalidRequestError("Missing state")
            try:
                self.vtr = parse_vtr(payload.data.get("vtr"))
            except ValueError as error:
                raise InvalidRequestError(str(error)) from None
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def save_authorization_code(self, code, request):
        data = request.payload.data
        NHSLoginAuthorizationCode.objects.create(
            code=code,
            identity=request.user,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data["nonce"],
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            vot=self.vot,
            auth_time=int(time.time()),
            expires_at=timezone.now() + datetime.timedelta(seconds=CODE_TTL_SECONDS),
        )

    def query_authorization_code(self, code, client):
        # Claimed by deleting it, so that of two racing redemptions (in any two processes)
        # exactly one wins, and a failed redemption burns the code too.
        found = (
            NHSLoginAuthorizationCode.objects.filter(code=code)
            .select_related("identity__patient__registered_practice")
            .first()
        )
        if found is None:
            return None
        deleted, _ = NHSLoginAuthorizationCode.objects.filter(pk=found.pk).delete()
        if not deleted or found.client_id != client.get_client_id():
            return None
        if found.expires_at <= timezone.now():
            return None
        return found

    def delete_authorization_code(self, authorization_code):
        # Already gone: query_authorization_code claimed it.
        pass

    def authenticate_user(self, authorization_code):
        return authorization_code.identity


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StandInServer(Server):
    def save_token(self, token, request):
        now = timezone.now()
        NHSLoginAccessToken.objects.create(
            digest=_digest(token["access_token"]),
            identity=request.user,
            client_id=request.client.get_client_id(),
            scope=token.get("scope", ""),
            issued_at=now,
            expires_at=now + datetime.timedelta(seconds=token["expires_in"]),
        )


def _access_token_ttl(client, grant_type) -> int:
    return settings.SANDBOX_ID_TOKEN_TTL_SECONDS


nhs_login_server = StandInServer(config.nhs_login_client, scopes_supported=list(config.SCOPES))
nhs_login_server.register_token_generator(
    "default",
    BearerTokenGenerator(
        access_token_generator=lambda **_: generate_token(48),
        expires_generator=_access_token_ttl,
    ),
)
nhs_login_server.register_client_auth_method(
    config.PRIVATE_KEY_JWT, PrivateKeyJWT(lambda: config.endpoint("token"))
)
nhs_login_server.register_grant(
    StandInCodeGrant, [S256CodeChallenge(required=True), StandInOpenIDCode(require_nonce=True)]
)


# --- userinfo: bearer access tokens -------------------------------------------------------------


class _StoredToken(TokenMixin):
    def __init__(self, row: NHSLoginAccessToken) -> None:
        self.row = row
        self.scope = row.scope

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.row.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= timezone.now()

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> LoginIdentity:
        return self.row.identity

    def get_client(self):
        return config.nhs_login_client(self.row.client_id)


class _AccessTokenValidator(BearerTokenValidator):
    def __init__(self) -> None:
        super().__init__(token_model=NHSLoginAccessToken)

    def authenticate_token(self, token_string):
        row = (
            NHSLoginAccessToken.objects.filter(digest=_digest(token_string))
            .select_related("identity__patient__registered_practice")
            .first()
        )
        return _StoredToken(row) if row else None


require_access_token = DjangoResourceProtector()
require_access_token.register_token_validator(_AccessTokenValidator())
