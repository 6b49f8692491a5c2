"""What every benchmark shares: a throwaway sandbox served by a separate server process.

``configure()`` must run before anything from ``booking_site`` is imported: it points Django at
a temporary SQLite file and the sandbox at a free port on 127.0.0.1, sets Django up and migrates.
``create_practices`` fills the sandbox, ``SandboxServer`` serves it, and the rest measures.

The server is uvicorn running the site's ASGI application (wrapped by ``_timed_asgi`` to record
each request's time inside the server) with ``SERVER_WORKERS`` worker processes. The sandbox's
views are sync and answer a practice's ``latency_ms`` after the request reached the server
process, building the reply (ORM rows and JSON for ~300 slots) within that time: under ASGI
Django runs each request's sync view in a thread of its own, so twenty waits overlap. The workers
share one listening socket and the kernel gives each new connection to whichever is accepting,
so the client's kept-alive connections spread over them unevenly (18 of 20 on one worker is
common); one worker's GIL then builds most of the replies, within the latency all the same.
``manage.py runserver`` is threaded as well, so its waits overlap too, but it is one process:
twenty replies built at the same moment queue on its one GIL (``--server runserver`` shows it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import logging
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER_WORKERS = 4
STARTUP_SECONDS = 30

_configured: dict[str, str] = {}


def configure(*, max_per_host: int = 20) -> dict[str, str]:
    """Point Django at a throwaway database and a free local port, set it up and migrate.

    ``max_per_host`` becomes GPCONNECT_MAX_CONNECTIONS_PER_HOST. Every sandbox practice lives on
    the one host 127.0.0.1:<port>, so the client's per-host bound must admit all of them at once
    (one request per practice for a 14-day window), or it would rightly queue them.
    """
    if _configured:
        return _configured
    workdir = Path(tempfile.mkdtemp(prefix="gpbook-bench-"))
    port = _free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "booking_site.settings",
        "DJANGO_ENV": "local",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "SANDBOX_ENABLED": "true",
        "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
        "GPCONNECT_MAX_CONNECTIONS_PER_HOST": str(max_per_host),
        # Only matters with REDIS_URL: keep the benchmark's keys apart from anyone else's.
        "CACHE_KEY_PREFIX": f"gpbook-bench-{os.getpid()}",
        "BENCH_SERVER_TIMINGS": str(workdir / "server-timings.txt"),
        # The server's own log: warnings and errors only.
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # Then as the site's server processes start (asgi.py): every view loaded, start-up frozen.
    from booking_site.core.startup import ready_to_serve

    ready_to_serve()
    _configured.update(env, BENCH_WORKDIR=str(workdir), BENCH_PORT=str(port))
    return _configured


def cleanup() -> None:
    """Remove the throwaway files, and with Redis the benchmark's own keys (only those)."""
    workdir = _configured.get("BENCH_WORKDIR")
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{_configured['CACHE_KEY_PREFIX']}:*"):
            client.delete(key)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--server",
        choices=["uvicorn", "runserver"],
        default="uvicorn",
        help="uvicorn with worker processes (default), or manage.py runserver for comparison",
    )
    parser.add_argument("--workers", type=int, default=SERVER_WORKERS)
    return parser.parse_args()


def machine() -> str:
    from django.conf import settings

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {cache}, "
        f"load average {load} at the start"
    )


# --- Sandbox data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diary:
    """Each practice's free slots: ``schedules`` diaries, each of ``per_day`` adjacent 10-minute
    slots on every one of the ten weekdays in the 14 days from tomorrow."""

    schedules: int
    per_day: int

    @property
    def slots(self) -> int:
        return self.schedules * self.per_day * 10


def first_day() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate() + datetime.timedelta(days=1)


def create_practices(
    count: int, diary: Diary, *, latency_ms: int = 0, prefix: str = "P"
) -> list[Any]:
    """``count`` sandbox practices with the diary, each answering after ``latency_ms`` (no
    jitter): two surgeries, one practitioner per schedule, mixed delivery channels."""
    from zoneinfo import ZoneInfo

    from booking_site.sandbox.models import Location, Practice, Practitioner, Schedule, Slot

    london = ZoneInfo("Europe/London")
    rng = random.Random(7)
    roles = [("R0260", "General Medical Practitioner"), ("R0620", "Staff Nurse")]
    channels = ["In-person", "In-person", "Telephone", "Video"]
    days = [first_day() + datetime.timedelta(days=n) for n in range(14)]
    weekdays = [day for day in days if day.weekday() < 5]
    practices = []
    for n in range(count):
        practice = Practice.objects.create(
            ods_code=f"{prefix}{n + 1:05d}",
            name=f"Benchmark Surgery {n + 1}",
            phone="01632 960100",
            address_line=f"{n + 1} Surgery Lane",
            city="Riverside",
            postcode="RS1 1AA",
            latency_ms=latency_ms,
            latency_jitter_ms=0,
        )
        surgeries = [
            Location.objects.create(
                practice=practice,
                name=name,
                address_line=f"{n + 1} Surgery Lane",
                city="Riverside",
                postcode="RS1 1AA",
                phone="01632 960101",
            )
            for name in ("Main Surgery", "Branch Surgery")
        ]
        slots = []
        for s in range(diary.schedules):
            code, display = roles[s % len(roles)]
            practitioner = Practitioner.objects.create(
                practice=practice,
                sds_user_id=f"G{n:03d}{s:04d}",
                prefix="Dr" if code == "R0260" else "",
                given=f"Clinician{s}",
                family=f"Practice{n}",
                gender=rng.choice(["female", "male"]),
                role_code=code,
                role_display=display,
            )
            schedule = Schedule.objects.create(
                practice=practice,
                location=surgeries[s % len(surgeries)],
                practitioner=practitioner,
                service_category="Morning surgery",
            )
            for day in weekdays:
                opening = datetime.datetime.combine(day, datetime.time(8, 0), london)
                for i in range(diary.per_day):
                    start = opening + datetime.timedelta(minutes=10 * i)
                    slots.append(
                        Slot(
                            schedule=schedule,
                            start=start,
                            end=start + datetime.timedelta(minutes=10),
                            service_type="General appointment",
                            delivery_channel=rng.choice(channels),
                        )
                    )
        Slot.objects.bulk_create(slots, batch_size=1000)
        practices.append(practice)
    return practices


def endpoints(practices: Iterable[Any]) -> list[Any]:
    """The practices as the site's practice directory gives them to the client."""
    from django.conf import settings

    from booking_site.gpconnect import PracticeEndpoint

    base = settings.SANDBOX_BASE_URL.rstrip("/")
    return [
        PracticeEndpoint(p.ods_code, p.name, f"{base}/{p.ods_code}/FHIR/STU3/") for p in practices
    ]


def search_range() -> Any:
    """One 14-day window (a single request per practice), starting tomorrow."""
    from booking_site.gpconnect import DateRange

    start = first_day()
    return DateRange(start, start + datetime.timedelta(days=13))


async def forget(endpoints: Iterable[Any]) -> None:
    """Make the next search of these practices cold: invalidate their cached slot search
    replies, as a booking at a practice does (the token stays cached). The last search's
    shared cache writes are finished first, so the next search starts on a quiet machine."""
    from booking_site.gpconnect import caching

    await caching.written()
    for endpoint in endpoints:
        await caching.invalidate_practice(endpoint.ods_code)


def written_after() -> float:
    """Wait for the shared cache writes the last search left to the writer thread (the client
    makes them once every practice has answered); the seconds they still took."""
    from booking_site.gpconnect import caching

    started = time.perf_counter()
    caching.wait_for_writes()
    return time.perf_counter() - started


def check(results: list, count: int, slots: int, *, from_cache: bool) -> None:
    """A benchmark of failures would measure nothing: every practice must have answered with
    all its slots, from the sandbox (cold) or from the cache (warm) as expected."""
    if len(results) != count or any(
        r.status.value != "slots" or len(r.slots) != slots or r.from_cache != from_cache
        for r in results
    ):
        found = [(r.practice.ods_code, r.status.value, len(r.slots), r.from_cache) for r in results]
        raise RuntimeError(f"Unexpected results: {found}")


# --- The server process ------------------------------------------------------------------------


class SandboxServer:
    """The sandbox served on 127.0.0.1 by a separate process (in its own process group, so that
    stopping it stops its workers too)."""

    def __init__(self, kind: str = "uvicorn", workers: int = SERVER_WORKERS) -> None:
        env = configure()
        self.port = int(env["BENCH_PORT"])
        self.kind = kind
        self.workers = workers
        self.log = Path(env["BENCH_WORKDIR"]) / "server.log"
        self.timings = Path(env["BENCH_SERVER_TIMINGS"])
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        if self.kind == "runserver":
            return "manage.py runserver --noreload (threaded, one process)"
        return f"uvicorn, {self.workers} worker processes, a thread per request"

    def command(self) -> list[str]:
        if self.kind == "runserver":
            return [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                f"127.0.0.1:{self.port}",
            ]
        port, workers = str(self.port), str(self.workers)
        return [sys.executable, "-m", "benchmarks._serve", "127.0.0.1", port, workers]

    def start(self) -> None:
        from django.db import connections

        connections.close_all()  # the server's processes open the SQLite file themselves
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server stopped at once:\n{self.log.read_text()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"The server did not answer within {STARTUP_SECONDS} s")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/sandbox/oauth2/token")
            return connection.getresponse().status == 405
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def server_times(self) -> dict[str, float]:
        """Milliseconds inside the server by X-Request-ID, for every request so far."""
        if not self.timings.exists():
            return {}
        times = {}
        for line in self.timings.read_text(encoding="ascii").splitlines():
            request_id, _, elapsed = line.partition(" ")
            times[request_id] = float(elapsed)
        return times

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of the server (Linux /proc)."""
        if self.process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:  # process group id
                    total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / ticks

    def fetch(self, path: str, *, method: str = "GET", body: str = "", headers=None) -> bytes:
        """One plain HTTP exchange with the server (no client code involved)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body.encode(), headers=headers or {})
            response = connection.getresponse()
            content = response.read()
            if response.status != 200:
                raise RuntimeError(f"{method} {path}: {response.status} {content[:200]!r}")
            return content
        finally:
            connection.close()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- What the client says about its round trips ------------------------------------------------


class RoundTrips(logging.Handler):
    """Collects the client's one-line-per-round-trip records (ODS, ms, request id, ...).

    The client logs them at INFO as always; they are kept here instead of being printed, and
    anything at WARNING or above is printed as well."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict] = []
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "gpconnect", None)
        if fields is not None:
            self.records.append(fields)
        if record.levelno >= logging.WARNING:
            self.problems.append(record.getMessage())
            print(f"  client {record.levelname}: {record.getMessage()}", file=sys.stderr)

    def take(self) -> list[dict]:
        taken, self.records = self.records, []
        return taken

    @classmethod
    def install(cls) -> RoundTrips:
        handler = cls()
        client_logger = logging.getLogger("booking_site.gpconnect")
        client_logger.setLevel(logging.INFO)
        client_logger.propagate = False
        client_logger.addHandler(handler)
        return handler


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class Series:
    """Repeated measurements of one figure."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def worst(self) -> float:
        return max(self.values)

    @property
    def best(self) -> float:
        return min(self.values)


@dataclass(frozen=True)
class Row:
    """One line of a table: a figure, its target (if it has one) and the verdict on it."""

    name: str
    median: str
    worst: str = ""
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


def print_table(title: str, rows: list[Row], notes: Iterable[str] = ()) -> bool:
    """Print the table; True when every target is met."""
    headers = ("figure", "median", "worst", "target", "")
    cells = [headers] + [(r.name, r.median, r.worst, r.target, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [f"{title}"]
    for i, row in enumerate(cells):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines += [f"  {note}" for note in notes]
    print("\n" + "\n".join(line.rstrip() for line in lines), flush=True)
    return all(r.passed is not False for r in rows)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def times(value: float) -> str:
    return f"{value:.2f}x"


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"
