"""The provider sandbox is part of the site only when SANDBOX_ENABLED: with it off (production's
default), none of its code, tables, URLs or request stamping is loaded.

Settings are read once per process, so each case starts the site in a process of its own, as
uvicorn would (``booking_site.asgi``), on a throwaway SQLite database.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loads the production entry point and everything a request could reach, migrates, and reports
# what of the sandbox is there.
_SCRIPT = """
import json, sys
from booking_site import asgi  # sets Django up, as uvicorn does
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import Resolver404, resolve

call_command("check", fail_level="ERROR")
call_command("migrate", verbosity=0, interactive=False)
try:
    resolve("/sandbox/A20047/FHIR/STU3/Slot")
    url = True
except Resolver404:
    url = False
print(json.dumps({
    "installed": apps.is_installed("gp_sandbox"),
    "labels": sorted(config.label for config in apps.get_app_configs()),
    "modules": sorted(name for name in sys.modules if name.split(".")[0] == "gp_sandbox"),
    "url": url,
    "tables": sorted(
        name for name in connection.introspection.table_names() if name.startswith("sandbox_")
    ),
    "middleware": [path for path in settings.MIDDLEWARE if "sandbox" in path],
}))
"""


def _start_site(tmp_path: Path, sandbox_enabled: str) -> dict:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "SANDBOX_ENABLED"}
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "booking_site.settings_test",
            "SANDBOX_ENABLED": sandbox_enabled,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_the_sandbox_off_no_sandbox_app_table_url_or_middleware_is_loaded(tmp_path):
    site = _start_site(tmp_path, "false")

    assert not site["installed"]
    assert "sandbox" not in site["labels"]
    assert site["modules"] == []  # not even the arrival stamp around the ASGI application
    assert not site["url"]
    assert site["tables"] == []
    assert site["middleware"] == []


def test_with_the_sandbox_on_its_app_tables_urls_and_arrival_stamp_are_loaded(tmp_path):
    site = _start_site(tmp_path, "true")

    assert site["installed"]
    assert "sandbox" in site["labels"]
    assert {"gp_sandbox.arrival", "gp_sandbox.admin", "gp_sandbox.urls"} <= set(site["modules"])
    assert site["url"]
    assert {"sandbox_practice", "sandbox_slot"} <= set(site["tables"])
