"""Settings for the GP booking site.

The environment is read here, once, through the typed helpers in ``booking_site.env``.
``DJANGO_ENV`` picks the defaults: ``production`` (the default: safe unless told otherwise),
``local`` (set by ``manage.py``) or ``test`` (set by ``booking_site.settings_test``).
"""

import datetime
import os
import uuid
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from booking_site.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_str("DJANGO_ENV", "production")
if DJANGO_ENV not in {"production", "local", "test"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be production, local or test, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV is production")
    SECRET_KEY = f"insecure-{DJANGO_ENV}-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "booking_site.core",
    "booking_site.accounts",
    "booking_site.practices",
    "booking_site.booking",
    "booking_site.availability",
    "booking_site.notifications",
]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last but one, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "booking_site.urls"
ASGI_APPLICATION = "booking_site.asgi.application"

TEMPLATES = [
    {
        # Site pages: Jinja2, because the NHS.UK component macros are Nunjucks/Jinja.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "booking_site.jinja2.environment"},
    },
    {
        # The Django admin keeps its own template language.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Storage -----------------------------------------------------------------------------------
# Connections are not kept between requests (CONN_MAX_AGE 0): on PostgreSQL the pool keeps them,
# and bounds how many each process holds; SQLite opens a file, which costs next to nothing.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so racing bookings queue on the timeout
        # instead of failing to upgrade a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: threads in tests must race on real locks, and the browser
    # tests' server process opens it too. One per process, so that two test runs on one machine
    # never share a database.
    DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's psycopg pool: each site process holds at most DATABASE_POOL_MAX_SIZE connections,
    # and a request that finds them all busy waits up to DATABASE_POOL_TIMEOUT_SECONDS for one
    # (then fails) instead of opening more than the server allows.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
        "timeout": env_float("DATABASE_POOL_TIMEOUT_SECONDS", 10.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is shared by every site instance. A file-based cache is shared by the processes of one
# machine (the browser tests' server and the test run); local memory by nobody.
REDIS_URL = env_str("REDIS_URL")
FILE_CACHE_DIR = env_str("FILE_CACHE_DIR")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", f"gpbook-{DJANGO_ENV}")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
elif FILE_CACHE_DIR:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": FILE_CACHE_DIR,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security ----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", IS_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 60 * 60)
# A signed-in session ends after this long without a request (the timeout warning comes two
# minutes before); what it held is kept for the same person signing in again.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 20 * 60)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = False
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script anywhere: every script is a static file from 'self'.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "https://assets.nhs.uk"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGIN_URL = "accounts:sign_in"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Repeated failed sign-ins are throttled by django-axes: SIGN_IN_FAILURE_LIMIT failures for one
# account, from any address, lock that account; as many from one address, for any accounts, lock
# that address; either for SIGN_IN_LOCKOUT_MINUTES. The account is the email the person typed
# (the `username` the sign-in form passes to authenticate()), so failures for different accounts
# are never pooled. Behind proxies, TRUSTED_PROXY_COUNT says how many of them add themselves to
# X-Forwarded-For: the client address is the one the outermost of ours saw (django-ipware).
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "booking_site.accounts.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT > 0:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# build/frontend holds the nhsuk-frontend package's CSS, JS and images (scripts/build_frontend.py).
STATICFILES_DIRS = [BASE_DIR / "static", BASE_DIR / "build" / "frontend"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Tests render pages without running collectstatic first.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DJANGO_ENV == "test"
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Tests (and browser tests through the live server) serve static files straight from the finders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DJANGO_ENV == "test"

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs each request's URL at INFO, and a patient-appointments URL holds an NHS number:
    # the GP Connect client logs its own round trips without patient data instead.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# --- The provider sandbox (a stand-in for EMIS/TPP, reached only over HTTP) ---------------------
# gp_sandbox: installed (its tables, admin pages and /sandbox/ URLs) only when enabled, which
# production never is unless told.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", not IS_PRODUCTION)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("gp_sandbox")
SANDBOX_TOKEN_TTL_SECONDS = env_int("SANDBOX_TOKEN_TTL_SECONDS", 60 * 60)
SANDBOX_SIGNING_KEY = env_str("SANDBOX_SIGNING_KEY", f"{SECRET_KEY}:sandbox")
# How long a "hangs" practice holds a request before giving up on its own.
SANDBOX_HANG_SECONDS = env_float("SANDBOX_HANG_SECONDS", 120.0)
# Where the site finds the sandbox's practices (used by the seed's --json output).
SANDBOX_BASE_URL = env_str("SANDBOX_BASE_URL", "http://127.0.0.1:8000/sandbox")
# The site's client credentials at the sandbox's token endpoint (POST /sandbox/oauth2/token).
SANDBOX_CLIENT_ID = env_str("SANDBOX_CLIENT_ID", "booking-site")
SANDBOX_CLIENT_SECRET = env_str("SANDBOX_CLIENT_SECRET", f"{SECRET_KEY}:sandbox-client")

# --- NHS login (OpenID Connect): how patients prove who they are --------------------------------
# The same code signs in against NHS login's sandpit, integration or production environment, or
# the sandbox's stand-in (the default when the sandbox is enabled): only these settings change.
#   NHS_LOGIN_ISSUER            the environment's issuer; its discovery document is read from
#                               <issuer>/.well-known/openid-configuration
#   NHS_LOGIN_CLIENT_ID         the client id NHS login gave this service
#   NHS_LOGIN_PRIVATE_KEY_FILE  the PEM private key whose public half is registered with NHS
#                               login (private_key_jwt; also used at the API platform's token
#                               exchange); `manage.py generate_keys` makes one for local use
#   NHS_LOGIN_REDIRECT_URI      the registered callback URL; unset, it is built from the request
#   NHS_LOGIN_VTR               the vectors of trust asked for (JSON list): P9 books, P5 and P0
#                               may sign in to be told how to prove who they are
KEYS_DIR = Path(env_str("KEYS_DIR", str(BASE_DIR / "var" / "keys")))
# Unset with the sandbox enabled: its stand-in, <SANDBOX_BASE_URL>/nhs-login.
NHS_LOGIN_ISSUER = env_str("NHS_LOGIN_ISSUER", "")
NHS_LOGIN_CLIENT_ID = env_str("NHS_LOGIN_CLIENT_ID", SANDBOX_CLIENT_ID)
NHS_LOGIN_PRIVATE_KEY_FILE = env_str(
    "NHS_LOGIN_PRIVATE_KEY_FILE", "" if IS_PRODUCTION else str(KEYS_DIR / "nhs-login-client.pem")
)
NHS_LOGIN_REDIRECT_URI = env_str("NHS_LOGIN_REDIRECT_URI", "")
NHS_LOGIN_SCOPES = env_str("NHS_LOGIN_SCOPES", "openid profile email phone gp_registration_details")
NHS_LOGIN_VTR = env_str(
    "NHS_LOGIN_VTR",
    '["P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm", "P5.Cp.Cd", "P5.Cp.Ck", "P5.Cm", "P0.Cp.Cd", "P0.Cp.Ck",'
    ' "P0.Cm"]',
)
# The GP Connect token exchange (RFC 8693) at the API platform: the patient's NHS login ID token
# for an access token, the client authenticated by a JWT signed with the key above. Unset with
# the sandbox enabled: its stand-in, <SANDBOX_BASE_URL>/oauth2/token.
GPCONNECT_TOKEN_URL = env_str("GPCONNECT_TOKEN_URL", "")
_NHS_LOGIN_REQUIRED = (
    "NHS_LOGIN_ISSUER",
    "NHS_LOGIN_CLIENT_ID",
    "NHS_LOGIN_PRIVATE_KEY_FILE",
    "GPCONNECT_TOKEN_URL",
)
if IS_PRODUCTION and not SANDBOX_ENABLED:
    _missing = [name for name in _NHS_LOGIN_REQUIRED if not os.environ.get(name)]
    if _missing:
        raise ImproperlyConfigured(
            f"{', '.join(_missing)} must be set when DJANGO_ENV is production (README, NHS login)"
        )

# The sandbox's NHS login stand-in: its own signing key, the site's public key registered with it
# (and with its API platform token endpoint), and how long its ID tokens last.
SANDBOX_NHS_LOGIN_SIGNING_KEY_FILE = env_str(
    "SANDBOX_NHS_LOGIN_SIGNING_KEY_FILE", str(KEYS_DIR / "sandbox-nhs-login.pem")
)
SANDBOX_NHS_LOGIN_CLIENT_ID = env_str("SANDBOX_NHS_LOGIN_CLIENT_ID", NHS_LOGIN_CLIENT_ID)
SANDBOX_NHS_LOGIN_CLIENT_JWKS_FILE = env_str(
    "SANDBOX_NHS_LOGIN_CLIENT_JWKS_FILE", str(KEYS_DIR / "nhs-login-client.jwks.json")
)
SANDBOX_ID_TOKEN_TTL_SECONDS = env_int("SANDBOX_ID_TOKEN_TTL_SECONDS", 60 * 60)

# --- The booking organisation (D5): the service that runs this site ------------------------------
BOOKING_ORG_ODS = env_str("BOOKING_ORG_ODS", "X26")
BOOKING_ORG_NAME = env_str("BOOKING_ORG_NAME", "Book a GP appointment (NHS England)")
BOOKING_ORG_PHONE = env_str("BOOKING_ORG_PHONE", "0300 311 2233")

# --- GP Connect client -------------------------------------------------------------------------
# booking_site/gpconnect: how long one practice may take (all its search windows and retries),
# how long a whole multi-practice call may take, how many requests may be in flight to one
# provider host at once, how many times a transient failure is retried, how long a practice's
# free slots are reused from the cache, and how many of them each process also keeps as objects
# (about 1.3 kB a slot; 0 turns that off).
GPCONNECT_PRACTICE_TIMEOUT_SECONDS = env_float("GPCONNECT_PRACTICE_TIMEOUT_SECONDS", 8.0)
GPCONNECT_DEADLINE_SECONDS = env_float("GPCONNECT_DEADLINE_SECONDS", 12.0)
GPCONNECT_MAX_CONNECTIONS_PER_HOST = env_int("GPCONNECT_MAX_CONNECTIONS_PER_HOST", 20)
GPCONNECT_RETRIES = env_int("GPCONNECT_RETRIES", 2)
SLOT_CACHE_TTL_SECONDS = env_int("SLOT_CACHE_TTL_SECONDS", 60)
# How long a results page without JavaScript waits for practices before it shows those that have
# answered (with a link to check the others again) instead of waiting for the slowest.
RESULTS_WAIT_SECONDS = env_float("RESULTS_WAIT_SECONDS", 3.0)
SLOT_CACHE_LOCAL_SLOTS = env_int("SLOT_CACHE_LOCAL_SLOTS", 20_000)

# --- Error pages and caching of signed-in pages -------------------------------------------------
# The NHS-styled page for a form refused by the CSRF check (403/404/500 are in booking_site.urls).
CSRF_FAILURE_VIEW = "booking_site.core.views.csrf_failure"
# Innermost, so it sees the 500 page too: signed-in pages are never kept in a browser's cache.
MIDDLEWARE.append("booking_site.core.middleware.NoStoreForSignedIn")
# Inside that, so its own failures (the database down) get the same treatment: ends a signed-in
# session idle for SESSION_IDLE_SECONDS, keeping what it held to resume after signing in again.
MIDDLEWARE.append("booking_site.accounts.timeout.SessionTimeout")

# --- Background tasks ----------------------------------------------------------------------------
# Django's Tasks framework with django-tasks-db: tasks are rows in the site's own database (SQLite
# or PostgreSQL), run by `manage.py db_worker` beside the server (README, Serving). The settling
# of bookings whose outcome is not yet known runs there (booking_site/booking/tasks.py).
INSTALLED_APPS.append("django_tasks_db")
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- GOV.UK Notify: confirmations, reminders and earlier-appointment alerts ---------------------
# Sent with Notify's official client (booking_site/notifications/), from the task worker only.
# Unset with the sandbox enabled, the base URL is the origin of SANDBOX_BASE_URL, where the
# sandbox's stand-in serves Notify's REST API (/v2/notifications/...), and the key is one the
# stand-in accepts. Notify's API keys look like <name>-<service id>-<secret>.
NOTIFY_BASE_URL = env_str("NOTIFY_BASE_URL", "")
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY") or "booking_site_sandbox-{}-{}".format(
    uuid.uuid5(uuid.NAMESPACE_URL, f"{SECRET_KEY}:notify-service"),
    uuid.uuid5(uuid.NAMESPACE_URL, f"{SECRET_KEY}:notify-secret"),
)
# The Notify templates the site sends, by name; their text is written in Notify (the sandbox's
# stand-in holds the same text: gp_sandbox/notify/templates.py). Each id can be set on its own.
NOTIFY_TEMPLATE_NAMES = (
    "booking_confirmed_email",
    "booking_confirmed_sms",
    "booking_cancelled_email",
    "booking_cancelled_sms",
    "reminder_email",
    "reminder_sms",
    "earlier_appointment_email",
    "earlier_appointment_sms",
)
NOTIFY_TEMPLATE_IDS = {
    name: env_str(f"NOTIFY_TEMPLATE_{name.upper()}")
    or str(uuid.uuid5(uuid.NAMESPACE_URL, f"booking-site:notify-template:{name}"))
    for name in NOTIFY_TEMPLATE_NAMES
}
# Where links in messages point: this site's public address. Unset with the sandbox enabled: the
# origin of SANDBOX_BASE_URL (the sandbox is served by the same process as the site).
SITE_URL = env_str("SITE_URL", "")
if IS_PRODUCTION and not SANDBOX_ENABLED:
    _notify = ["NOTIFY_BASE_URL", "NOTIFY_API_KEY", "SITE_URL"]
    _notify += [f"NOTIFY_TEMPLATE_{name.upper()}" for name in NOTIFY_TEMPLATE_NAMES]
    _missing = [name for name in _notify if not os.environ.get(name)]
    if _missing:
        raise ImproperlyConfigured(
            f"{', '.join(_missing)} must be set in production (Notify, its templates, this site)"
        )
# Earlier-appointment alerts: every practice is searched on behalf of all watchers at most once
# in this many seconds (the per-practice request budget), and the alert cycle runs this often.
ALERT_SEARCH_BUDGET_SECONDS = env_int("ALERT_SEARCH_BUDGET_SECONDS", 5 * 60)
ALERT_CYCLE_SECONDS = env_int("ALERT_CYCLE_SECONDS", 60)
# The stand-in's keys: the one it accepts (the site's by default).
SANDBOX_NOTIFY_API_KEY = env_str("SANDBOX_NOTIFY_API_KEY") or NOTIFY_API_KEY

# How many upcoming appointments one patient may hold at one practice through the site.
MAX_UPCOMING_BOOKINGS_PER_PRACTICE = env_int("MAX_UPCOMING_BOOKINGS_PER_PRACTICE", 2)
