import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY", "DEBUG"}}
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS,"
        " settings.SANDBOX_ENABLED)"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "booking_site.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _load_settings(DJANGO_ENV="production")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION_NHS_LOGIN = {
    "NHS_LOGIN_ISSUER": "https://auth.login.nhs.uk",
    "NHS_LOGIN_CLIENT_ID": "book-a-gp-appointment",
    "NHS_LOGIN_PRIVATE_KEY_FILE": "/run/secrets/nhs-login.pem",
    "GPCONNECT_TOKEN_URL": "https://api.service.nhs.uk/oauth2/token",
}
PRODUCTION_NOTIFY = {
    "NOTIFY_API_KEY": (
        "live-2a0c0c3e-8d4b-4a5e-9e55-0c4c3f1f2b10-6b3f1d2e-9c8a-4b7d-8e6f-5a4b3c2d1e0f"
    ),
    "NOTIFY_BASE_URL": "https://api.notifications.service.gov.uk",
    "SITE_URL": "https://book.example.nhs.uk",
    **{
        f"NOTIFY_TEMPLATE_{name.replace('EARLIER', 'EARLIER_APPOINTMENT')}": (
            f"{number:08d}-0000-4000-8000-000000000000"
        )
        for number, name in enumerate(
            [
                f"{kind}_{channel}"
                for kind in ("BOOKING_CONFIRMED", "BOOKING_CANCELLED", "REMINDER", "EARLIER")
                for channel in ("EMAIL", "SMS")
            ]
        )
    },
}


def test_production_refuses_to_start_without_nhs_login():
    result = _load_settings(DJANGO_ENV="production", SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert (
        "NHS_LOGIN_ISSUER, NHS_LOGIN_CLIENT_ID, NHS_LOGIN_PRIVATE_KEY_FILE, GPCONNECT_TOKEN_URL "
        "must be set when DJANGO_ENV is production"
    ) in result.stderr


def test_production_refuses_to_start_without_notify():
    result = _load_settings(DJANGO_ENV="production", SECRET_KEY="x" * 50, **PRODUCTION_NHS_LOGIN)

    assert result.returncode != 0
    assert "NOTIFY_BASE_URL, NOTIFY_API_KEY, SITE_URL, NOTIFY_TEMPLATE_BOOKING_CONFIRMED_EMAIL" in (
        result.stderr
    )


def test_production_defaults_are_secure():
    result = _load_settings(
        DJANGO_ENV="production", SECRET_KEY="x" * 50, **PRODUCTION_NHS_LOGIN, **PRODUCTION_NOTIFY
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "31536000", "False"]


def test_local_runs_without_a_secret_key_with_the_sandbox_on_and_debug_off():
    result = _load_settings(DJANGO_ENV="local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "0", "True"]


def test_a_malformed_boolean_is_refused_not_guessed():
    result = _load_settings(DJANGO_ENV="local", DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def _database_settings(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DATABASE_URL"}}
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "d = settings.DATABASES['default'];"
        "print(json.dumps({'options': d.get('OPTIONS', {}), 'age': d['CONN_MAX_AGE']}))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "booking_site.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_sqlite_named_by_database_url_gets_the_same_locking_options_as_the_default(tmp_path):
    default = _database_settings(DJANGO_ENV="local")
    named = _database_settings(DJANGO_ENV="local", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")

    assert named == default
    assert named["options"]["transaction_mode"] == "IMMEDIATE"
    assert named["options"]["timeout"] == 30
    assert "journal_mode=WAL" in named["options"]["init_command"]


def test_postgresql_connections_come_from_a_bounded_pool():
    settings = _database_settings(
        DJANGO_ENV="local",
        DATABASE_URL="postgres://booking@db.example:5432/booking",
        DATABASE_POOL_MAX_SIZE="7",
    )

    assert settings["options"]["pool"]["max_size"] == 7
    assert settings["age"] == 0
