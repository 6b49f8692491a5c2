"""What every benchmark shares: a throwaway database, the sandbox's practices and the site's
practice directory, signed-in patients, and the date windows that keep each search cold.

``configure()`` must run before anything from ``booking_site`` is imported: it points Django at
a temporary SQLite file and picks two free ports on 127.0.0.1, one for the site's server and one
for the sandbox's (``_servers``), sets Django up and migrates. The site's practice directory
points at the sandbox's server, so the site reaches its practices over HTTP as it would reach
real ones, and the sandbox's work is done in another process.

Cold means no slot search reply in any cache: every measured search asks for a date window no
search has asked for before (``window(n)``). Each window is 14 days, so it holds exactly ten
weekdays and every practice has the same number of free slots in each.
"""

from __future__ import annotations

import atexit
import datetime
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WINDOW_DAYS = 14

_configured: dict[str, str] = {}


def configure(*, max_per_host: int = 20, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Point Django at a throwaway database and two free local ports, set it up and migrate.

    The environment set here is every process's: this one, the site's server and the
    sandbox's. ``max_per_host`` becomes GPCONNECT_MAX_CONNECTIONS_PER_HOST: every sandbox
    practice lives on the one host 127.0.0.1:<port>, so the client's per-host bound must admit
    all of them at once, as separate practice systems' hosts would.
    """
    if _configured:
        return _configured
    workdir = Path(tempfile.mkdtemp(prefix="gpbook-bench-"))
    site_port, sandbox_port = _free_port(), _free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "booking_site.settings",
        "DJANGO_ENV": "local",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "SANDBOX_ENABLED": "true",
        "SANDBOX_BASE_URL": f"http://127.0.0.1:{sandbox_port}/sandbox",
        "GPCONNECT_MAX_CONNECTIONS_PER_HOST": str(max_per_host),
        # Only matters with REDIS_URL: keep the benchmark's keys apart from anyone else's.
        "CACHE_KEY_PREFIX": f"gpbook-bench-{os.getpid()}",
        "BENCH_SERVER_TIMINGS": str(workdir / "sandbox-timings.txt"),
        # The servers' own logs: warnings and errors only.
        "LOG_LEVEL": "WARNING",
        **(extra or {}),
    }
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("generate_keys", verbosity=0)
    _configured.update(
        env,
        BENCH_WORKDIR=str(workdir),
        BENCH_SITE_PORT=str(site_port),
        BENCH_SANDBOX_PORT=str(sandbox_port),
    )
    atexit.register(cleanup)  # however the benchmark ends, Ctrl-C and failures included
    return _configured


def workdir() -> Path:
    return Path(_configured["BENCH_WORKDIR"])


def cleanup() -> None:
    """Remove the throwaway files, and with Redis the benchmark's own keys (only those)."""
    if not _configured:
        return
    shutil.rmtree(_configured["BENCH_WORKDIR"], ignore_errors=True)
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{_configured['CACHE_KEY_PREFIX']}:*"):
            client.delete(key)


def collect_static() -> None:
    """The site's pages name their static files through the manifest ``collectstatic`` writes
    (into the git-ignored STATIC_ROOT), as ``make setup`` does before ``make run``."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
        check=True,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Practices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diary:
    """Each practice's free slots: ``schedules`` diaries, each of ``per_day`` adjacent 10-minute
    slots from 8am on every weekday of the ``days`` days from tomorrow."""

    schedules: int
    per_day: int
    days: int = WINDOW_DAYS

    @property
    def slots_per_window(self) -> int:
        return self.schedules * self.per_day * 10  # ten weekdays in any 14 days

    @classmethod
    def for_windows(cls, schedules: int, per_day: int, windows: int) -> Diary:
        """Enough days for ``windows`` different 14-day windows (``window(0)`` ...)."""
        return cls(schedules, per_day, days=WINDOW_DAYS + windows - 1)


@dataclass(frozen=True)
class Practice:
    ods_code: str
    name: str
    latency_ms: int
    hangs: bool = False


def spread(count: int, low_ms: int, high_ms: int, *, seed: int = 13) -> list[int]:
    """``count`` latencies from ``low_ms`` to ``high_ms`` (both ends included), the rest drawn
    uniformly between them, in a shuffled order: the same every run."""
    rng = random.Random(seed)
    latencies = [low_ms, high_ms] + [round(rng.uniform(low_ms, high_ms)) for _ in range(count - 2)]
    rng.shuffle(latencies)
    return latencies[:count]


def tomorrow() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate() + datetime.timedelta(days=1)


def window(n: int) -> Any:
    """The n-th 14-day window, starting n days after tomorrow: one request per practice."""
    from booking_site.gpconnect import DateRange

    start = tomorrow() + datetime.timedelta(days=n)
    return DateRange(start, start + datetime.timedelta(days=WINDOW_DAYS - 1))


def create_practices(
    latencies: Sequence[int],
    diary: Diary,
    *,
    prefix: str = "P",
    hanging: Iterable[int] = (),
    federation: str | None = None,
) -> list[Practice]:
    """One sandbox practice per latency (answering that many ms after a request arrives, no
    jitter; those whose index is in ``hanging`` hold every request far past any timeout), made
    with the sandbox's own factories: each with the diary, two surgeries, one practitioner per
    schedule and mixed delivery channels (one per schedule and day); and the site's practice
    directory entry for each, pointing at the sandbox's server."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from booking_site.practices import models as directory
    from gp_sandbox import factories

    london = ZoneInfo("Europe/London")
    rng = random.Random(7)
    roles = [("R0260", "General Medical Practitioner"), ("R0620", "Staff Nurse")]
    channels = ["In-person", "In-person", "Telephone", "Video"]
    days = [tomorrow() + datetime.timedelta(days=n) for n in range(diary.days)]
    weekdays = [day for day in days if day.weekday() < 5]
    hanging = set(hanging)
    group = directory.Federation.objects.get_or_create(name=federation)[0] if federation else None
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    practices = []
    for n, latency_ms in enumerate(latencies):
        ods = f"{prefix}{n + 1:05d}"
        name = f"Benchmark Surgery {prefix}{n + 1}"
        address_line = f"{n + 1} Surgery Lane"
        practice = factories.make_practice(
            ods,
            name=name,
            federation=federation or "",
            address_line=address_line,
            latency_ms=latency_ms,
            hangs=n in hanging,
        )
        directory.Practice.objects.create(
            ods_code=ods,
            name=name,
            federation=group,
            base_url=f"{base}/{ods}/FHIR/STU3/",
            phone=practice.phone,
            address=f"{address_line}, {practice.city}, {practice.postcode}",
        )
        surgeries = [
            factories.make_location(practice, surgery, address_line=address_line)
            for surgery in ("Main Surgery", "Branch Surgery")
        ]
        for s in range(diary.schedules):
            code, display = roles[s % len(roles)]
            practitioner = factories.make_practitioner(
                practice,
                role_code=code,
                role_display=display,
                sds_user_id=f"G{n:03d}{s:04d}",
                prefix="Dr" if code == "R0260" else "",
                given=f"Clinician{s}",
                family=f"Practice{n}",
                gender=rng.choice(["female", "male"]),
            )
            schedule = factories.make_schedule(
                practice, location=surgeries[s % len(surgeries)], practitioner=practitioner
            )
            for day in weekdays:
                opening = datetime.datetime.combine(day, datetime.time(8, 0), london)
                factories.make_slots(
                    schedule, opening, diary.per_day, delivery_channel=rng.choice(channels)
                )
        practices.append(Practice(ods, name, latency_ms, n in hanging))
    return practices


def endpoints(practices: Iterable[Practice]) -> list[Any]:
    """The practices as the site's practice directory gives them to the client."""
    from booking_site.gpconnect import PracticeEndpoint
    from booking_site.practices.models import Practice as DirectoryPractice

    codes = [p.ods_code for p in practices]
    found = {p.ods_code: p for p in DirectoryPractice.objects.filter(ods_code__in=codes)}
    return [
        PracticeEndpoint(code, found[code].name, found[code].base_url, found[code].phone)
        for code in codes
    ]


def check(results: list, count: int, slots: int) -> None:
    """A benchmark of failures would measure nothing: every practice must have answered, from
    the sandbox (not a cache), with all its slots."""
    if len(results) != count or any(
        r.status.value != "slots" or len(r.slots) != slots or r.from_cache for r in results
    ):
        found = [(r.practice.ods_code, r.status.value, len(r.slots), r.from_cache) for r in results]
        raise RuntimeError(f"Unexpected results: {found}")


_PROGRESS = re.compile(
    r'id="search-progress"[^>]*>\s*(\d+) of (\d+) practices? checked'
    r"(?:\. ([\d,]+) appointments? found)?"
)


def check_results_page(status: int, body: bytes, practices: int, appointments: int) -> None:
    """A results page on which every practice has been checked and ``appointments`` free slots
    were found, or the page measured nothing."""
    text = body.decode("utf-8", errors="replace")
    found = _PROGRESS.search(text)
    if status != 200 or found is None:
        raise RuntimeError(f"Not a results page ({status}): {text[:2000]}")
    checked, total, count = found.groups()
    failed = re.findall(r"could not be checked[^<]*", text)
    if int(checked) != practices or int(total) != practices:
        raise RuntimeError(f"{checked} of {total} practices checked: {found.group(0)}")
    if count is None or int(count.replace(",", "")) != appointments:
        raise RuntimeError(f"Not {appointments} appointments: {found.group(0)!r} {failed[:3]}")


# --- Patients ----------------------------------------------------------------------------------


def nhs_number(n: int) -> str:
    """The n-th valid NHS number (modulus 11 check digit) from 999 000 000x up."""
    found = -1
    for first_nine in range(999_000_000, 1_000_000_000):
        digits = str(first_nine)
        check_digit = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        if check_digit == 10:
            continue  # no valid number starts with these nine digits
        found += 1
        if found == n:
            return digits + str(check_digit % 11)
    raise ValueError(f"No {n}th NHS number from 999 000 000")


def id_token(number: str) -> str:
    """The ID token the sandbox's NHS login stand-in issues this patient at P9 (as after they
    sign in), which the site exchanges for their GP Connect access token."""
    from django.conf import settings

    from gp_sandbox.models import LoginIdentity
    from gp_sandbox.models import Patient as SandboxPatient
    from gp_sandbox.nhs_login.id_tokens import issue_id_token
    from gp_sandbox.nhs_login.identities import sub_for_nhs_number

    identity = LoginIdentity(
        sub=sub_for_nhs_number(number),
        identity_proofing_level="P9",
        patient=SandboxPatient(nhs_number=number, given="Bench", family="Patient"),
    )
    return issue_id_token(identity, audience=settings.NHS_LOGIN_CLIENT_ID)


def create_patients(count: int, registered_at: str) -> list[Any]:
    """``count`` patients registered at the practice with ODS ``registered_at``, signed in with
    NHS login at P9 (their accounts as nhs_login_accounts leaves them)."""
    from booking_site.accounts.models import User
    from booking_site.practices.models import Practice as DirectoryPractice

    practice = DirectoryPractice.objects.get(ods_code=registered_at)
    expires_at = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1)
    return [
        User.objects.create(
            username=f"nhs-login:bench-{n}",
            nhs_login_sub=f"bench-{n}",
            identity_level="P9",
            nhs_login_id_token=id_token(nhs_number(n)),
            nhs_login_expires_at=expires_at,
            email=f"patient{n}@example.com",
            nhs_number=nhs_number(n),
            date_of_birth=datetime.date(1980, 1, 1) + datetime.timedelta(days=n),
            registered_practice=practice,
        )
        for n in range(count)
    ]


def sign_in(user: Any) -> str:
    """A session for ``user`` in the database the site's server reads: its cookie value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def set_journey(session_key: str, practices: Iterable[Practice], dates: Any) -> None:
    """The patient has chosen these practices and dates (booking/journey.py): the next results
    page searches them."""
    from importlib import import_module

    from django.conf import settings

    from booking_site.booking import journey

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    codes = tuple(p.ods_code for p in practices)
    journey.save(
        types.SimpleNamespace(session=store),
        journey.Journey(
            ods_codes=codes,
            scope="chosen",
            chosen=codes,
            start=dates.start,
            end=dates.end,
            period="dates",
        ),
    )
    store.save()


def cookie_header(session_key: str) -> str:
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={session_key}"
