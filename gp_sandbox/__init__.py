"""A GP practice system as far as the site can tell: the provider side of GP Connect (Patient
Facing) Appointment Management, per shared/gpconnect/CONFORMANCE.md; with stand-ins for NHS
login (``nhs_login``, at /sandbox/nhs-login/) and for the API platform's token endpoint, where a
patient's NHS login ID token is exchanged for their access token (``api_platform``,
``token_views``).

Installed and routed (at /sandbox/) only when ``SANDBOX_ENABLED``, never in production. Nothing
here imports from the site, and no part of the site imports from here (import-linter checks
both): the site reaches the sandbox only over HTTP, exactly as it would reach EMIS or TPP. The one
exception is the site's entry point, ``booking_site/asgi.py``, which stamps each request's
arrival (``arrival``) when the sandbox is enabled.
"""
