"""The chaos run (issue 15, item 7): patients book through the real server while Redis stops and
starts, the database is refused for a while, and practices' replies to bookings are dropped or
garbled; then the settling task runs, and the run counts what was lost, duplicated or
contradicted. Not a timed test and not part of `make bench`: run it by hand.

    .venv/bin/python benchmarks/chaos.py              # SQLite, and Redis of its own if installed
    .venv/bin/python benchmarks/chaos.py --postgres   # PostgreSQL (a throwaway database) + Redis

What runs, all on 127.0.0.1 (_harness, _servers):
* the site: uvicorn serving booking_site.asgi, with a Redis of the run's own (``redis-server`` on
  a free port, no persistence) as REDIS_URL, and the django-tasks-db worker beside it, as
  ``make run`` has them (started again when it exits, as a supervisor would);
* the sandbox's practices, reached by the site only through ``PracticeProxy`` (_tcp_proxy),
  which drops, cuts or garbles replies to bookings;
* the database: SQLite reached by the site and the worker through a symlinked directory that
  is renamed away to refuse it (the sandbox opens the file directly, so practices keep
  working); PostgreSQL reached by them through ``PipeProxy``, which is cut.

The faults (``SCHEDULE``): replies dropped, then garbled; Redis stopped and started empty; the
database refused for 14 s; the site's process killed once a practice has a booking but before
its reply is passed on (and started again); on PostgreSQL, the site's database connections cut
at that same moment; then drops and garbling together.

Each patient is signed in with a journey set, and in groups of one to three (a group wants the
same time, at the same moment) goes through the pages a browser would: choose the time, tell
the practice about it, check the answers, press "Book appointment". What the page after that
says is what they were told. After the faults, the worker settles what is not yet known, and
whatever it still has scheduled for later is settled by calling the task at once. The run
exits 1 unless nothing is lost, duplicated or contradicted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import _harness
from _harness import ROOT
from _tcp_proxy import PipeProxy, PracticeProxy

if TYPE_CHECKING:
    from _servers import SiteServer

BOOKING_SECONDS = 60
SETTLE_SECONDS = 30
# (from, to, fault), in seconds from the first patient's start.
SCHEDULE = [
    (4, 14, "drop"),  # replies to bookings dropped after the practice has booked
    (14, 24, "garble"),  # 201 bodies cut in the middle or changed
    (20, 30, "redis"),  # Redis stopped, then started again, empty
    # The site's database refused for longer than a request waits for a pooled connection
    # (DATABASE_POOL_TIMEOUT_SECONDS, 10 s), or on PostgreSQL the pool hides it.
    (30, 44, "database"),
    # The site's process killed (SIGKILL) once the practice has the booking, before its reply
    # is passed on; started again at once.
    (44, 49, "crash mid-booking"),
    # PostgreSQL only: the site's database connections cut once the practice has the booking,
    # before its reply is passed on; back 3 s later. (A request's SQLite file stays open.)
    (49, 53, "database mid-booking"),
    (53, 58, "drop+garble"),
]
FAULT_SHARE = 0.6  # of booking replies spoilt while a practice fault is on
GROUP_SIZES = [1, 2, 1, 3]  # patients wanting the same time at the same moment, in turn
TOLD = {  # words in the heading of the page after "Book appointment" -> what the patient was told
    "appointment booked": "booked",
    "just been booked": "just taken",
    "not been booked": "not booked",
    "confirm": "being confirmed",
    "cannot book another": "limit reached",
    "problem with the service": "error page",
}
DEFINITELY_NOT = ("just taken", "not booked", "limit reached")
AGAIN = ("error page", "no answer", "being confirmed")
STEP_TRIES = 8  # a step that failed is tried again 2.5 s later: long enough to outlast a fault


# --- What the run starts and stops -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of the run's own on a free port, stopped and started again by the run."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                 "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class SqliteSwitch:
    """The site reaches the SQLite file through ``<workdir>/site-db``, a symlink to the workdir:
    renamed away, every new connection of the site fails to open the file."""

    def __init__(self, workdir: Path) -> None:
        self.link = workdir / "site-db"
        self.away = workdir / "site-db.refused"
        self.link.symlink_to(workdir, target_is_directory=True)

    def url_for_site(self, db_file: Path) -> str:
        return f"sqlite:///{self.link / db_file.name}"

    def cut(self) -> None:
        self.link.rename(self.away)

    def restore(self) -> None:
        if self.away.exists():
            self.away.rename(self.link)


class Postgres:
    """A throwaway database ``chaos_<pid>`` on the machine's PostgreSQL, dropped at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.name = f"chaos_{os.getpid()}"
        self.host, self.port = re.search(r"@([^:/]+):(\d+)", self.server_url).groups()

    def url(self, port: int | None = None) -> str:
        base = (
            self.server_url
            if port is None
            else self.server_url.replace(f":{self.port}", f":{port}")
        )
        return f"{base}/{self.name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as connection:
            connection.execute(sql)

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Worker:
    """``manage.py db_worker`` beside the site, with the site's database and cache; started
    again (at most once a second) when a database fault ends it, as a supervisor would."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.started = 0.0

    def ensure_running(self) -> None:
        if self.process is not None and (
            self.process.poll() is None or time.monotonic() - self.started < 1
        ):
            return
        if self.starts >= 60:
            return
        self.started = time.monotonic()
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "0.5",
                 "--no-startup-delay"],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


class Faults:
    """Turns the faults of ``SCHEDULE`` on and off as the run's clock passes them."""

    def __init__(
        self, redis: OwnRedis | None, database: SqliteSwitch | PipeProxy, site: SiteServer
    ) -> None:
        self.redis = redis
        self.database = database
        self.site = site
        self.lock = threading.Lock()  # the proxy's thread decides and acts on some faults
        self.restart_site = False
        self.restore_database_at: float | None = None
        self.on: set[str] = set()
        self.started = time.monotonic()
        self.rng = random.Random(11)
        self.log: list[str] = []

    def now(self) -> float:
        return time.monotonic() - self.started

    def current(self) -> set[str]:
        t = self.now()
        return {fault for start, end, fault in SCHEDULE if start <= t < end}

    def tick(self) -> None:
        wanted = self.current()
        for fault in sorted(wanted - self.on):
            self.log.append(f"{self.now():5.1f}s  {fault} on")
            if fault == "redis" and self.redis:
                self.redis.stop()
            if fault == "database":
                self.database.cut()
        for fault in sorted(self.on - wanted):
            self.log.append(f"{self.now():5.1f}s  {fault} off")
            if fault == "redis" and self.redis:
                self.redis.start()
            if fault == "database":
                self.database.restore()
        with self.lock:
            if self.restart_site and self.site.process.poll() is not None:
                self.site.start()
                self.restart_site = False
                self.log.append(f"{self.now():5.1f}s  site started again")
            if self.restore_database_at is not None and self.now() >= self.restore_database_at:
                self.database.restore()
                self.restore_database_at = None
                self.log.append(f"{self.now():5.1f}s  database back")
        self.on = wanted

    def end(self) -> None:
        while self.restart_site or self.restore_database_at is not None:
            self.tick()
            time.sleep(0.2)
        if "redis" in self.on and self.redis:
            self.redis.start()
        if "database" in self.on:
            self.database.restore()
        self.on = set()

    def practice_fault(self) -> str:
        """What the practice proxy does with one booking's reply (called from its thread)."""
        on = self.on
        with self.lock:
            if "crash mid-booking" in on and not self.restart_site:
                self.restart_site = True
                return "kill the site"
            if (
                "database mid-booking" in on
                and isinstance(self.database, PipeProxy)
                and self.restore_database_at is None
            ):
                self.restore_database_at = self.now() + 3
                return "cut the database"
        if self.rng.random() >= FAULT_SHARE:
            return "pass"
        if "drop+garble" in on:
            return self.rng.choice(["drop", "cut", "garble"])
        if "drop" in on:
            return "drop"
        if "garble" in on:
            return self.rng.choice(["cut", "garble"])
        return "pass"

    def kill_site(self) -> None:
        """Called by the proxy once the practice has booked, before the reply is passed on."""
        os.killpg(self.site.process.pid, signal.SIGKILL)
        self.site.process.wait()
        self.log.append(f"{self.now():5.1f}s  site killed mid-booking")

    def cut_database(self) -> None:
        self.database.cut()
        self.log.append(f"{self.now():5.1f}s  database cut mid-booking")


# --- Patients ----------------------------------------------------------------------------------


@dataclass
class Patient:
    n: int
    nhs_number: str
    session: str
    ods: str
    slot_id: int
    start_at: float
    attempted: bool = False
    told: list[str] = field(default_factory=list)  # every answer to "Book appointment"
    # (when, method, path, status, faults on, a styled error page?)
    responses: list[tuple[float, str, str, int, frozenset, bool]] = field(default_factory=list)
    note: str = ""

    @property
    def last_told(self) -> str:
        return self.told[-1] if self.told else f"never reached Book ({self.note or 'errors'})"


def csrf_token(text: str) -> str | None:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    return found[1] if found else None


def heading(text: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found[1]).split()) if found else ""


def told_by(status: int, text: str) -> str:
    title = heading(text)
    for words, kind in TOLD.items():
        if words in title.lower():
            return kind
    if status >= 500:
        return "error page"
    return f"other: {status} {title or text[:60]!r}"


def press_book(patient: Patient, send, check_page: str) -> None:
    """Press "Book appointment" on this check-answers page (its CSRF token and its signed
    answers): what the next page says, or "no answer"."""
    import httpx

    answers = re.search(r'name="answers" value="([^"]+)"', check_page)
    form = {"csrfmiddlewaretoken": csrf_token(check_page), "answers": answers[1] if answers else ""}
    try:
        final = send("POST", "/book/check/", data=form, follow_redirects=True)
    except httpx.HTTPError:
        patient.told.append("no answer")
        return
    patient.told.append(told_by(final.status_code, final.text))


def book(patient: Patient, base: str, faults: Faults) -> Patient:
    """The pages a browser goes through to book, retrying a step that failed (3 times); a
    patient shown an error page after "Book appointment" presses it once more, a little later."""
    import httpx
    from django.conf import settings

    delay = patient.start_at - faults.now()
    if delay > 0:
        time.sleep(delay)
    with httpx.Client(base_url=base, timeout=30) as http:
        http.cookies.set(settings.SESSION_COOKIE_NAME, patient.session, domain="127.0.0.1")

        def send(method: str, url: str, **options) -> httpx.Response:
            response = http.request(method, url, **options)
            for r in [*response.history, response]:
                patient.responses.append(
                    (
                        faults.now(),
                        r.request.method,
                        r.url.path,
                        r.status_code,
                        frozenset(faults.on),
                        "problem with the service" in heading(r.text).lower(),
                    )
                )
            return response

        for _ in range(STEP_TRIES):
            try:
                chosen = send(
                    "GET", f"/book/details/?practice={patient.ods}&slot={patient.slot_id}"
                )
                if chosen.headers.get("location") == "/book/taken/":
                    patient.note = "told just taken when choosing"
                    patient.told.append("just taken")
                    return patient
                details = send("GET", "/book/details/")
                token = csrf_token(details.text)
                if token is None:
                    raise RuntimeError(f"details page {details.status_code}")
                answered = send(
                    "POST", "/book/details/",
                    data={"csrfmiddlewaretoken": token, "reason": "Sore knee", "note": ""},
                )  # fmt: skip
                if answered.headers.get("location") != "/book/check/":
                    raise RuntimeError(f"details answered {answered.status_code}")
                check = send("GET", "/book/check/")
                token = csrf_token(check.text)
                if token is None:
                    raise RuntimeError(f"check page {check.status_code}")
                patient.attempted = True
                press_book(patient, send, check.text)
                # Every other patient, shown an error page, no answer or "being confirmed", goes
                # back and presses Book again; the others walk away and look later.
                if patient.told[-1] in AGAIN and patient.n % 2 == 0:
                    time.sleep(5)
                    try:
                        check = send("GET", "/book/check/", follow_redirects=True)
                    except httpx.HTTPError:
                        patient.told.append("no answer")
                        return patient
                    token = csrf_token(check.text)
                    if token is None:  # sent on to the confirmation: what does it say?
                        patient.told.append(told_by(check.status_code, check.text))
                    else:
                        press_book(patient, send, check.text)
                return patient
            except (httpx.HTTPError, RuntimeError) as error:
                patient.note = str(error) or type(error).__name__
                time.sleep(2.5)
    return patient


# --- Settling ----------------------------------------------------------------------------------


def settle(worker: Worker, limit: float) -> dict[str, int]:
    """THE SETTLE STEP. The worker (already running beside the site) settles what is due; once
    nothing is due, or after ``limit`` seconds, every booking still open is settled by calling
    its scheduled task at once (its next attempt is minutes ahead, past this run's bound)."""
    from django.db import close_old_connections
    from django.db.models import Q
    from django.tasks import TaskResultStatus
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult, get_date_max

    from booking_site.booking.models import Booking
    from booking_site.booking.tasks import settle_booking, settle_if_still_pending

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        worker.ensure_running()
        close_old_connections()
        if not Booking.objects.filter(status__in=Booking.OPEN).exists():
            break
        # Wait for the worker while a task is running or will be due before the deadline.
        due_by = timezone.now() + datetime.timedelta(seconds=deadline - time.monotonic())
        waiting = DBTaskResult.objects.filter(
            Q(status=TaskResultStatus.RUNNING)
            | Q(status=TaskResultStatus.READY, run_after__lte=due_by)
            | Q(status=TaskResultStatus.READY, run_after=get_date_max())
        )
        if not waiting.exists():
            break
        time.sleep(1)
    worker.stop()
    # Only a booking with a settling task scheduled is settled by calling it now, as the worker
    # would later: one with none (an orphan) has nothing that will ever settle it.
    # (A pending booking's safety net, two minutes after it was stored, counts as scheduled.)
    tasks = {".settle_booking": settle_booking, ".settle_if_still_pending": settle_if_still_pending}
    scheduled: dict[int, object] = {}
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.READY):
        for suffix, task in tasks.items():
            if result.task_path.endswith(suffix):
                scheduled.setdefault(result.args_kwargs["args"][0], task)
    still_open = list(Booking.objects.filter(status__in=Booking.OPEN).values_list("pk", flat=True))
    for pk in still_open:
        if pk in scheduled:
            scheduled[pk].call(pk)
    return {
        "worker starts": worker.starts,
        "open after the worker": len(still_open),
        "settled by calling their scheduled task early": len(set(still_open) & set(scheduled)),
        "ORPHANED (open, no task scheduled)": len(set(still_open) - set(scheduled)),
    }


# --- The run -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis, not SQLite")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--no-redis", action="store_true", help="local memory cache, no Redis faults"
    )
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument(
        "--skip-settle", action="store_true", help="count before settling (shows what it fixes)"
    )
    parser.add_argument("--logs", type=Path, help="keep the servers' and worker's logs here")
    args = parser.parse_args()
    if args.postgres and args.no_redis:
        parser.error("--postgres runs with Redis")

    pg = Postgres(args.postgres_url) if args.postgres else None
    if pg:
        pg.create()
    stack = contextlib.ExitStack()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        stack.callback(
            lambda: [shutil.copy(log, args.logs) for log in _harness.workdir().glob("*.log")]
        )
    try:
        return run(args, pg, stack)
    finally:
        stack.close()
        if pg:
            from django.db import connections

            connections.close_all()
            pg.drop()


def run(args: argparse.Namespace, pg: Postgres | None, stack: contextlib.ExitStack) -> int:
    started = time.monotonic()
    env = _harness.configure(extra={"DATABASE_URL": pg.url()} if pg else None)
    workdir = _harness.workdir()
    _harness.collect_static()
    from _servers import SandboxServer, SiteServer

    from booking_site.practices.models import Practice as DirectoryPractice
    from gp_sandbox import factories
    from gp_sandbox.models import Practice as SandboxPractice
    from gp_sandbox.models import Slot

    practices = _harness.create_practices([40, 80], _harness.Diary(schedules=2, per_day=6))
    codes = [p.ods_code for p in practices]
    users = _harness.create_patients(args.patients, registered_at=codes[0])
    registered = SandboxPractice.objects.get(ods_code=codes[0])
    for user in users:
        factories.make_patient(registered, user.nhs_number)
    dates = _harness.window(0)
    slots = list(
        Slot.objects.filter(schedule__practice__ods_code__in=codes, status=Slot.Status.FREE)
        .exclude(delivery_channel=Slot.DeliveryChannel.TELEPHONE)
        .filter(start__date__lte=dates.end)
        .select_related("schedule__practice")
        .order_by("start", "pk")
    )
    rng = random.Random(3)
    rng.shuffle(slots)
    groups: list[list[int]] = []
    while sum(map(len, groups)) < args.patients:
        size = GROUP_SIZES[len(groups) % len(GROUP_SIZES)]
        first = sum(map(len, groups))
        groups.append(list(range(first, min(first + size, args.patients))))
    patients: list[Patient] = []
    for g, members in enumerate(groups):
        slot = slots[g]
        start_at = 1 + g * (BOOKING_SECONDS - 4) / len(groups)
        for n in members:
            session = _harness.sign_in(users[n])
            _harness.set_journey(session, practices, dates)
            patients.append(
                Patient(
                    n,
                    users[n].nhs_number,
                    session,
                    slot.schedule.practice.ods_code,
                    slot.pk,
                    start_at,
                )
            )

    redis = None
    if not args.no_redis:
        if shutil.which("redis-server") is None:
            sys.exit("redis-server is not installed: run with --no-redis")
        redis = OwnRedis(workdir / "redis.log")
        redis.start()
        stack.callback(redis.stop)
    sandbox = stack.enter_context(SandboxServer(workers=2))
    faults_box: list[Faults] = []
    practice_proxy = PracticeProxy(
        sandbox.port,
        lambda: faults_box[0].practice_fault(),
        actions={
            "kill the site": lambda: faults_box[0].kill_site(),
            "cut the database": lambda: faults_box[0].cut_database(),
        },
    ).start()
    stack.callback(practice_proxy.stop)
    base = f"http://127.0.0.1:{practice_proxy.port}/sandbox"
    for code in codes:
        DirectoryPractice.objects.filter(ods_code=code).update(base_url=f"{base}/{code}/FHIR/STU3/")
    if pg:
        database = PipeProxy(int(pg.port)).start()
        stack.callback(database.stop)
        site_env = {"DATABASE_URL": pg.url(database.port)}
    else:
        database = SqliteSwitch(workdir)
        stack.callback(database.restore)
        site_env = {
            "DATABASE_URL": database.url_for_site(
                Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
            )
        }
    if redis:
        site_env["REDIS_URL"] = redis.url
    site = stack.enter_context(SiteServer(env=site_env))
    worker = Worker(site_env, workdir / "worker.log")
    stack.callback(worker.stop)
    worker.ensure_running()

    faults = Faults(redis, database, site)
    faults_box.append(faults)
    setup_seconds = time.monotonic() - started
    print(f"Set up in {setup_seconds:.0f} s: {len(patients)} patients, {len(groups)} times wanted, "
          f"{'PostgreSQL' if pg else 'SQLite'}{' + Redis' if redis else ''}; "
          f"booking for {BOOKING_SECONDS} s")  # fmt: skip
    faults.started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(patients)) as pool:
        running = [pool.submit(book, p, site.base_url, faults) for p in patients]
        while any(not r.done() for r in running) and faults.now() < BOOKING_SECONDS + 60:
            faults.tick()
            worker.ensure_running()
            time.sleep(0.2)
        faults.end()
        for r in running:
            r.result()
    booking_seconds = faults.now()

    from django.db import close_old_connections

    close_old_connections()
    if args.skip_settle:
        worker.stop()
        settled = {"worker starts": worker.starts, "skipped": 1}
    else:
        settled = settle(worker, SETTLE_SECONDS)
    looked = look_at_appointments(patients, site.base_url)
    # The last line of each traceback in the site's log: what went wrong, by kind.
    problems = [
        line
        for line in site.problems()
        if re.match(r"^[\w.]+(Error|Exception|Timeout)\b", line) and not line.startswith(" ")
    ]
    return report(patients, codes, faults, settled, looked, practice_proxy, booking_seconds,
                  problems,
                  time.monotonic() - started)  # fmt: skip


def look_at_appointments(patients: list[Patient], base: str) -> tuple[Counter, dict[int, list]]:
    """Each patient opens "Your appointments" once everything is settled: the status codes, and
    the status tags each patient is shown."""
    import httpx
    from django.conf import settings

    statuses: Counter = Counter()
    shown: dict[int, list[str]] = {}
    for patient in patients:
        with httpx.Client(base_url=base, timeout=30) as http:
            http.cookies.set(settings.SESSION_COOKIE_NAME, patient.session, domain="127.0.0.1")
            page = http.get("/appointments/")
        statuses[page.status_code] += 1
        shown[patient.n] = [
            " ".join(re.sub(r"<[^>]+>", "", tag).split())
            for tag in re.findall(r'<strong class="nhsuk-tag[^"]*">(.*?)</strong>', page.text, re.S)
        ]
    return statuses, shown


def report(
    patients: list[Patient],
    codes: list[str],
    faults: Faults,
    settled: dict[str, int],
    looked: tuple[Counter, dict[int, list]],
    proxy: PracticeProxy,
    booking_seconds: float,
    problems: list[str],
    total_seconds: float,
) -> int:
    from booking_site.booking.models import Booking
    from gp_sandbox.models import Appointment

    appointments = list(
        Appointment.objects.filter(practice__ods_code__in=codes, status=Appointment.Status.BOOKED)
        .select_related("practice")
        .prefetch_related("slots")
    )
    rows = list(
        Booking.objects.filter(practice__ods_code__in=codes).select_related("practice", "patient")
    )
    booked_rows = [b for b in rows if b.status == Booking.Status.BOOKED]
    by_patient = {p.nhs_number: p for p in patients}
    held = defaultdict(list)  # NHS number -> the practice's appointments for them
    for a in appointments:
        held[a.patient_nhs_number].append(a)
    site_knows = {(b.practice.ods_code, b.appointment_id) for b in booked_rows}

    lost = [a for a in appointments if (a.practice.ods_code, str(a.pk)) not in site_knows]
    duplicated = [
        f"patient {by_patient[nhs].n} holds {len(found)} appointments at the practice: "
        + ", ".join(str(a.pk) for a in found)
        for nhs, found in held.items()
        if len(found) > 1
    ]
    slot_use = Counter(s.pk for a in appointments for s in a.slots.all())
    duplicated += [
        f"slot {slot} is in {count} booked appointments"
        for slot, count in slot_use.items()
        if count > 1
    ]
    row_use = Counter((b.practice.ods_code, b.appointment_id) for b in rows if b.appointment_id)
    duplicated += [f"{key} has {count} site rows" for key, count in row_use.items() if count > 1]
    per_patient = Counter(b.patient.nhs_number for b in booked_rows)
    duplicated += [
        f"patient {by_patient[nhs].n} has {count} booked rows on the site"
        for nhs, count in per_patient.items()
        if count > 1
    ]
    contradicted = []
    for p in patients:
        said_not = [t for t in p.told if t in DEFINITELY_NOT]
        if said_not and held[p.nhs_number]:
            contradicted.append(
                f"patient {p.n} told {said_not[0]!r} ({' -> '.join(p.told)}) "
                "but booked at the practice"
            )
        if "booked" in p.told and not held[p.nhs_number]:
            contradicted.append(
                f"patient {p.n} told 'booked' but the practice holds nothing for them"
            )
    statuses_seen, shown = looked
    for p in patients:
        # "Being confirmed" is true until settled; "Booked" must match what the practice holds.
        booked_tags = shown[p.n].count("Booked")
        open_tags = sum(tag in ("Being confirmed", "Being booked") for tag in shown[p.n])
        holds = len(held[p.nhs_number])
        if booked_tags > holds or booked_tags + open_tags < holds:
            contradicted.append(
                f"patient {p.n}: 'Your appointments' shows {shown[p.n]}, "
                f"the practice holds {len(held[p.nhs_number])}"
            )
    by_id = {(a.practice.ods_code, str(a.pk)) for a in appointments}
    contradicted += [
        f"site row {b.pk} (patient {by_patient[b.patient.nhs_number].n}) booked, "
        f"practice has no {b.appointment_id}"
        for b in booked_rows
        if (b.practice.ods_code, b.appointment_id) not in by_id
    ]

    errors = [r for p in patients for r in p.responses if r[3] >= 500]
    print("\nFaults:\n  " + "\n  ".join(faults.log))
    print("Booking replies at the proxy (what was done, practice's status): "
          + ", ".join(f"{f} {s}: {c}" for (f, s), c in sorted(proxy.counts.items())))  # fmt: skip
    print(f"\nBooking took {booking_seconds:.0f} s; the whole run {total_seconds:.0f} s")
    print(
        f"Bookings attempted (pressed Book):        {sum(p.attempted for p in patients)} "
        f"of {len(patients)} patients"
    )
    print(f"Booked at the practice (Appointment rows): {len(appointments)}")
    print(f"Booked on the site (Booking rows BOOKED):  {len(booked_rows)}")
    statuses = Counter(b.status for b in rows)
    print(
        "Site rows by status after settling:        "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    print("Settling: " + ", ".join(f"{k} {v}" for k, v in settled.items() if k != "worker starts")
          + f"; needs staff attention {sum(b.needs_attention for b in rows)}")  # fmt: skip
    print(f"Worker processes started: {settled['worker starts']}")
    status_of = {b.patient.nhs_number: b.status for b in rows}
    confirmed = Counter(
        status_of.get(p.nhs_number, "no row") for p in patients if "being confirmed" in p.told
    )
    print(
        "Told 'being confirmed', settled as: "
        + (", ".join(f"{k} {v}" for k, v in sorted(confirmed.items())) or "-")
    )
    print("What patients were told (last answer to Book):")
    for kind, count in Counter(p.last_told for p in patients).most_common():
        print(f"  {count:3d}  {kind}")
    sequences = Counter(" -> ".join(p.told) for p in patients if len(p.told) > 1)
    for sequence, count in sequences.most_common():
        print(f"  ({count} told in turn: {sequence})")
    print(f"5xx responses: {len(errors)}")
    for (path, on, styled), count in Counter(
        (path, ",".join(sorted(on)) or "no fault", "styled" if styled else "NOT the styled page")
        for _, _, path, _, on, styled in errors
    ).most_common():
        print(f"  {count:3d}  {path}  during: {on}  ({styled})")
    print(
        "'Your appointments' after settling: "
        + ", ".join(f"{s}: {c}" for s, c in sorted(statuses_seen.items()))
        + "; tags shown: "
        + ", ".join(f"{t} {c}" for t, c in Counter(t for v in shown.values() for t in v).items())
    )
    if problems:
        print("The site's log, exceptions by kind:")
        for line, count in Counter(problems).most_common(8):
            print(f"  {count:3d}  {line[:160]}")
    unsettled = [b for b in rows if b.status in Booking.OPEN]
    print(f"Still open after settling (shown 'Being booked' / 'Being confirmed'): {len(unsettled)}")
    for b in unsettled:
        p = by_patient[b.patient.nhs_number]
        at_practice = "holds it" if held[b.patient.nhs_number] else "holds nothing"
        print(
            f"  row {b.pk} {b.status} of patient {p.n} (told {' -> '.join(p.told)}); "
            f"the practice {at_practice}"
        )
    print(f"\nLOST:         {len(lost)}")
    for a in lost:
        p = by_patient.get(a.patient_nhs_number)
        rows_of = [
            f"{b.pk}:{b.status}/{b.last_problem or '-'}"
            for b in rows
            if b.patient.nhs_number == a.patient_nhs_number
        ]
        print(
            f"  appointment {a.pk} at {a.practice.ods_code} for patient {p.n if p else '?'}, "
            f"told {' -> '.join(p.told) if p else '?'}; site rows {rows_of}"
        )
    print(f"DUPLICATED:   {len(duplicated)}")
    for line in duplicated:
        print(f"  {line}")
    print(f"CONTRADICTED: {len(contradicted)}")
    for line in contradicted:
        print(f"  {line}")
    return 1 if lost or duplicated or contradicted else 0


if __name__ == "__main__":
    sys.exit(main())
