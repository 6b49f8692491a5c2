"""The site served as production serves it, for tests that need a real server: uvicorn running
`booking_site.asgi:application` in a process of its own, on the test database.

The server is a separate process, so nothing a test changes in its own process reaches it:
not `settings` overrides, not patched functions. It reads its environment once, at start-up:
the test database pytest-django made, the sandbox at the server's own address (reached over
HTTP, as a practice would be), GP Connect limits short enough for a test, and a cache it shares
with the test process (Redis when REDIS_URL is set, else a file-based cache in a folder of the
test run's), so that a test can empty it. Data a test makes must be committed to be seen
(`pytest.mark.django_db(transaction=True)`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "booking_site.asgi:application"
STARTUP_SECONDS = 30
STOP_SECONDS = 10
FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"
LOCAL_CACHE = "django.core.cache.backends.locmem.LocMemCache"

# What the browser tests' `sandbox_over_http` fixture used to set: a practice may take 2 s, a
# whole search 3 s, nothing is retried, and a hanging practice gives up after 3 s.
TEST_LIMITS = {
    "GPCONNECT_PRACTICE_TIMEOUT_SECONDS": "2",
    "GPCONNECT_DEADLINE_SECONDS": "3",
    "GPCONNECT_RETRIES": "0",
    "SANDBOX_HANG_SECONDS": "3",
}


@dataclass
class SiteServer:
    """A running uvicorn process serving the site at `url`; everything it prints goes to `log`
    (a file, so a full pipe can never stall it). `caches` is the CACHES setting that gives the
    test process the server's cache."""

    url: str
    process: subprocess.Popen
    log: Path
    caches: dict[str, Any]
    # Its SANDBOX_BASE_URL: whose NHS login stand-in issues its patients' ID tokens.
    sandbox_url: str
    # The environment it was started with: a worker beside it gets the same.
    environment: dict[str, str]

    def manage(self, *arguments: str) -> str:
        """Run a management command as a process beside the server, as `make run` runs the task
        worker and the clock, with the server's environment; what it printed."""
        done = subprocess.run(  # noqa: S603 (our own command, no shell)
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        return output

    def run_worker(self) -> str:
        """The task worker, once through every task due now."""
        return self.manage("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    def log_size(self) -> int:
        """Where the log ends now: give it to `output_since` to read what comes after."""
        return self.log.stat().st_size

    def output_since(self, offset: int = 0) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


@contextlib.contextmanager
def output_on_failure(*servers: SiteServer) -> Iterator[None]:
    """Add what the servers printed to any failure inside the block, as a note under it."""
    try:
        yield
    except BaseException as error:
        for server in servers:
            error.add_note(f"--- uvicorn at {server.url}:\n{server.output_since()}")
        raise


def database_url() -> str:
    """A DATABASE_URL for the database this process uses now: the test database, once
    pytest-django's `django_db_setup` has made it."""
    database = connection.settings_dict
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(database["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise ValueError(f"a server process cannot open the in-memory database {name!r}")
        return f"sqlite:///{Path(name).resolve()}"
    if engine == "django.db.backends.postgresql":
        password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
        user = quote(database["USER"], safe="")
        host = database["HOST"] or "localhost"
        port = database["PORT"] or 5432
        return f"postgres://{user}{password}@{host}:{port}/{quote(database['NAME'], safe='')}"
    raise ValueError(f"no DATABASE_URL for the database engine {engine}")


def shared_caches(cache_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The CACHES setting that the test process and a server share, and what the server's
    environment needs for it. Redis (REDIS_URL) is already shared: the server inherits the same
    variables. Local memory is not, so both use a file-based cache in `cache_dir` instead."""
    if settings.CACHES["default"]["BACKEND"] != LOCAL_CACHE:
        return settings.CACHES, {}
    caches = {
        "default": {
            "BACKEND": FILE_CACHE,
            "LOCATION": str(cache_dir),
            "KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        }
    }
    return caches, {"FILE_CACHE_DIR": str(cache_dir)}


@contextlib.contextmanager
def serving(
    workdir: Path, *, cache_dir: Path | None = None, sandbox_url: str | None = None
) -> Iterator[SiteServer]:
    """Serve the site on a free port of 127.0.0.1 until the block ends; the log goes in
    `workdir`. Servers given the same `cache_dir` share their file-based cache. The sandbox
    (with its NHS login stand-in) is the server's own unless `sandbox_url` names another's, as
    instances scaled out share one NHS login."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox_url = sandbox_url or f"{url}/sandbox"
    caches, cache_environment = shared_caches(cache_dir or workdir / "cache")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "booking_site.settings_test",
        "DATABASE_URL": database_url(),
        "SANDBOX_BASE_URL": sandbox_url,
        **TEST_LIMITS,
        **cache_environment,
        "PYTHONUNBUFFERED": "1",
    }
    # The browser tests allow Django's async-unsafe calls in their own process (Playwright's
    # loop runs on the test thread); the server must keep the check, as production does.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = workdir / f"uvicorn-{port}.log"
    command = [sys.executable, "-m", "uvicorn", APPLICATION, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--timeout-graceful-shutdown", "3"]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command, no shell)
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    server = SiteServer(
        url=url,
        process=process,
        log=log,
        caches=caches,
        sandbox_url=sandbox_url,
        environment=environment,
    )
    try:
        _wait_until_serving(server)
        yield server
    finally:
        _stop(server)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(server: SiteServer) -> None:
    """Poll the home page until it answers; fail with the server's output if the process ends
    or it has not answered within STARTUP_SECONDS."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"uvicorn exited with {server.process.returncode} before serving {server.url}:\n"
                + server.output_since(),
                pytrace=False,
            )
        try:
            httpx.get(f"{server.url}/", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    pytest.fail(
        f"uvicorn did not answer at {server.url} within {STARTUP_SECONDS} s:\n"
        + server.output_since(),
        pytrace=False,
    )


def _stop(server: SiteServer) -> None:
    """SIGTERM (uvicorn finishes what it is answering), then kill if it takes too long."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
