"""The sandbox's stand-in for GOV.UK Notify.

Its REST API is served at the host root, /v2/notifications/... (``api_urls``), as Notify's
official client expects; it checks the client's JSON Web Token against the one key it accepts
(settings.SANDBOX_NOTIFY_API_KEY), fills in the site's templates (``templates``) and keeps
what it would have sent. Testers read the messages on a mail-catcher page under
/sandbox/notify/ (``urls``), where they can also make the API fail on purpose.
"""
