"""NHS login (OpenID Connect): the only code that talks to it, over HTTP.

    begin(redirect_uri) -> (authorisation URL, Pending)   the request, with state/nonce/PKCE
    finish(pending, callback params, redirect_uri) -> Identity   code -> tokens -> claims
    client_assertion(audience)                            private_key_jwt for a token endpoint
    use_transport(transport)                              tests route HTTP in process

Authlib makes and checks everything signed (the client assertion, the PKCE challenge, the ID
token's claims through its ``CodeIDToken``); httpx carries the requests. Knows nothing of the
site's accounts: ``booking_site.accounts`` turns an ``Identity`` into a patient.
"""

from booking_site.nhs_login.client import (
    Identity,
    Pending,
    SignInFailed,
    SignInRefused,
    Unavailable,
    begin,
    client_assertion,
    finish,
    use_transport,
)

__all__ = [
    "Identity",
    "Pending",
    "SignInFailed",
    "SignInRefused",
    "Unavailable",
    "begin",
    "client_assertion",
    "finish",
    "use_transport",
]
