"""A stand-in for NHS login (OpenID Connect), behaving as NHS login's published interface does,
built on Authlib's provider parts: discovery, JWKS, the authorisation code flow with PKCE (S256)
and a nonce, private_key_jwt client authentication, RS512-signed ID tokens carrying ``vot``,
``identity_proofing_level`` and ``nhs_number``, and userinfo. Its issuer is
``SANDBOX_BASE_URL + "/nhs-login"``; its identities are the sandbox's patients
(``LoginIdentity``).

Tests of the site sign patients in with ``identity_for`` and ``issue_id_token``.
"""

from gp_sandbox.nhs_login.id_tokens import issue_id_token
from gp_sandbox.nhs_login.identities import identity_for

__all__ = ["identity_for", "issue_id_token"]
