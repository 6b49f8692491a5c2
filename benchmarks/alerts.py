"""The earlier-appointment alert cycle: issue 18's "Measured".

With 1,000 active alerts over a 17-practice federation, one alert cycle
(``notifications.alerts.run_cycle``) makes at most one slot search per practice and 14-day
window, and takes at most 2x the time of one cold federated search of all 17 practices
(``gpconnect.search_free_slots`` over the 14 days from today, what a patient typically asks).

This process runs as a site process does (the ASGI lifespan start-up of
``booking_site.asgi:application``, as ``client.py``), then awaits both on that event loop; the
sandbox is another process (``_servers.SandboxServer``), reached over HTTP. Its 17 practices
answer after latencies spread from 300 ms to 2 s (benchmark 1's seeded spread), each with three
diaries of ten morning slots (8am to 9:40am) on every weekday of the next 8 weeks.

1,000 alerts (seeded, the same every run) belong to 300 patients with verified email addresses:
half watch one practice, half two to six; until dates spread over the 8 weeks (a tenth on the
last day allowed); some only earlier than a time, some only video or phone, some only in the
afternoon or evening (which no slot is), so that some match and some do not.

Each repetition is the federated search; the same search over the 8 weeks the cycle asks for
(the cycle's own requests, without the rest of its work); then one cycle. Each is cold: before
each, every practice's cached replies are forgotten (as a booking there does) and the cycle's
search budgets deleted; and the alerts are as new (never told of a slot; no messages or sending
tasks queued), so every cycle does the same work. The sandbox's log counts the slot searches
each made. The ratio is taken per repetition; PASS/FAIL on the median.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import math
import random
import sys
import time
import urllib.parse
import uuid
import warnings
from dataclasses import dataclass

import _figures as fig
import _harness as h
from _servers import SandboxServer, Timing
from client import served

PRACTICES = 17
LOW_MS, HIGH_MS = 300, 2000
SCHEDULES, PER_DAY = 3, 10
WEEKS = 8
ALERTS, PATIENTS = 1000, 300
SEARCH_DAYS = 14  # the federated search: today and the next 13 days
# The most 14-day windows a cycle asks one practice for: today to today + 8 weeks is 57 days.
# The 14-day windows a cycle asks each practice for (alerts.search_end: whole windows in 8 weeks).
WINDOWS = WEEKS * 7 // 14
WARMUP, REPS = 1, 5
TARGET = 2.0
LOG_WAIT_SECONDS = 5.0


def main() -> int:
    # Every practice is on 127.0.0.1: the per-host bound must admit every window of every
    # practice at once, as separate practice systems' hosts would.
    h.configure(max_per_host=PRACTICES * WINDOWS)
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    latencies = h.spread(PRACTICES, LOW_MS, HIGH_MS)
    diary = h.Diary(SCHEDULES, PER_DAY, days=WEEKS * 7 + 1)
    practices = h.create_practices(latencies, diary, prefix="A", federation="Alert Federation")
    create_alerts(practices)
    with SandboxServer() as sandbox:
        bench = AlertBench(sandbox, practices)
        asyncio.run(bench.measure())
    return 0 if bench.report(sandbox.description) else 1


# --- The alerts ----------------------------------------------------------------------------------


def create_alerts(practices: list[h.Practice]) -> None:
    """``PATIENTS`` patients with verified email addresses and ``ALERTS`` alerts among them."""
    from zoneinfo import ZoneInfo

    from booking_site.accounts.models import User
    from booking_site.common.formatting import uk_today
    from booking_site.notifications.models import Alert
    from booking_site.practices.models import Practice as DirectoryPractice

    london = ZoneInfo("Europe/London")
    rng = random.Random(18)
    today = uk_today()
    last = today + datetime.timedelta(weeks=WEEKS)
    directory = list(
        DirectoryPractice.objects.filter(ods_code__in=[p.ods_code for p in practices]).order_by(
            "ods_code"
        )
    )
    patients = User.objects.bulk_create(
        User(
            username=f"nhs-login:alerts-{n}",
            nhs_login_sub=f"alerts-{n}",
            identity_level="P9",
            email=f"watcher{n}@example.com",
            email_verified=True,
            nhs_number=h.nhs_number(n),
            date_of_birth=datetime.date(1960, 1, 1) + datetime.timedelta(days=n * 37),
            registered_practice=directory[n % len(directory)],
        )
        for n in range(PATIENTS)
    )
    alerts, watched = [], []
    for _ in range(ALERTS):
        until = last if rng.random() < 0.1 else today + datetime.timedelta(rng.randint(2, 55))
        earlier_than = None
        draw = rng.random()
        if draw < 0.05:  # before the first free time anywhere: never matches
            earlier_than = datetime.datetime.combine(
                today + datetime.timedelta(days=1), datetime.time(7, 0), london
            )
        elif draw < 0.25:
            day = today + datetime.timedelta(rng.randint(1, (until - today).days))
            earlier_than = datetime.datetime.combine(day, datetime.time(9, 0), london)
        draw = rng.random()
        channels = ["Video"] if draw < 0.15 else ["Telephone", "Video"] if draw < 0.25 else []
        draw = rng.random()
        # Every slot is in the morning: the afternoon and evening never match.
        times = ["afternoon", "evening"] if draw < 0.1 else ["morning"] if draw < 0.2 else []
        alert = Alert(
            patient=patients[rng.randrange(PATIENTS)],
            channels=channels,
            times_of_day=times,
            earlier_than=earlier_than,
            until=until,
        )
        alerts.append(alert)
        count = 1 if rng.random() < 0.5 else rng.randint(2, 6)
        watched.append(rng.sample(directory, count))
    Alert.objects.bulk_create(alerts)
    Through = Alert.practices.through
    Through.objects.bulk_create(
        Through(alert_id=alert.pk, practice_id=practice.pk)
        for alert, chosen in zip(alerts, watched, strict=True)
        for practice in chosen
    )


def as_new() -> None:
    """Every alert as if never told of anything, with no message or sending task queued."""
    from django_tasks_db.models import DBTaskResult

    from booking_site.notifications.models import Notification

    Notification.objects.all().delete()
    DBTaskResult.objects.all().delete()


def queued() -> tuple[int, int]:
    """Messages and sending tasks now queued."""
    from django_tasks_db.models import DBTaskResult

    from booking_site.notifications.models import Notification

    return Notification.objects.count(), DBTaskResult.objects.count()


# --- The measurement -----------------------------------------------------------------------------


@dataclass
class Cycle:
    elapsed: float
    cpu: float
    seen: int  # slot searches the sandbox answered
    most: int  # the most of them for one practice and window
    slowest: float
    report: object


@dataclass
class Search:
    elapsed: float
    cpu: float
    seen: int
    slowest: float


class AlertBench:
    def __init__(self, sandbox: SandboxServer, practices: list[h.Practice]) -> None:
        self.sandbox = sandbox
        self.practices = practices
        self.endpoints = h.endpoints(practices)
        self.searches: list[Search] = []
        self.cycle_alone: list[Search] = []
        self.cycles: list[Cycle] = []

    async def measure(self) -> None:
        from asgiref.sync import sync_to_async

        from booking_site.common.formatting import uk_today
        from booking_site.notifications.alerts import run_cycle, search_end

        today = uk_today()
        async with served():
            for n in range(WARMUP + REPS):
                search = await self.search(today, today + datetime.timedelta(SEARCH_DAYS - 1))
                alone = await self.search(today, search_end(today))

                await self.cold()
                await sync_to_async(as_new)()
                self.sandbox.timings()  # forget earlier requests
                started_cpu, started = time.process_time(), time.perf_counter()
                report = await run_cycle(correlation_id=uuid.uuid4().hex)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
                seen = self.searches_seen(report.searches)
                per_window = collections.Counter(window_of(t) for t in seen)
                cycle = Cycle(
                    elapsed,
                    cpu,
                    len(seen),
                    max(per_window.values(), default=0),
                    max((t.seconds for t in seen), default=0.0),
                    report,
                )
                self.check(report, cycle, await sync_to_async(queued)())
                if alone.seen != cycle.seen:
                    raise RuntimeError(f"The cycle made {cycle.seen} searches, not {alone.seen}")
                if n >= WARMUP:
                    self.searches.append(search)
                    self.cycle_alone.append(alone)
                    self.cycles.append(cycle)

    async def search(self, today: datetime.date, last: datetime.date) -> Search:
        """A cold ``search_free_slots`` of every practice from today to ``last``, checked: every
        practice answered, from the sandbox, with every free slot (the diaries start tomorrow)."""
        from booking_site import gpconnect

        dates = gpconnect.DateRange(today, last)
        await self.cold()
        self.sandbox.timings()  # forget earlier requests
        started_cpu, started = time.process_time(), time.perf_counter()
        results = await gpconnect.search_free_slots(
            self.endpoints, dates, None, correlation_id=uuid.uuid4().hex
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        days = (today + datetime.timedelta(n) for n in range(1, dates.days))
        weekdays = sum(1 for day in days if day.weekday() < 5)
        h.check(results, PRACTICES, SCHEDULES * PER_DAY * weekdays)
        seen = self.searches_seen(PRACTICES * len(dates.windows()))
        return Search(elapsed, cpu, len(seen), max(t.seconds for t in seen))

    async def cold(self) -> None:
        """No practice's reply in any cache, and every practice's search budget unused."""
        from django.core.cache import cache

        from booking_site.gpconnect import caching

        for practice in self.practices:
            await caching.invalidate_practice(practice.ods_code)
        await cache.adelete_many([f"alerts:searched:{p.ods_code}" for p in self.practices])

    def searches_seen(self, expected: int) -> list[Timing]:
        """The slot searches the sandbox has answered since the last call: waits until it has logged
        ``expected`` of them (it logs a reply once its last byte is handed over), then a moment
        more for any beyond them."""
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        seen: list[Timing] = []
        while len(seen) < expected and time.monotonic() < deadline:
            seen += [t for t in self.sandbox.timings() if t.is_slot_search]
            time.sleep(0.02)
        time.sleep(0.2)
        return seen + [t for t in self.sandbox.timings() if t.is_slot_search]

    def check(self, report, cycle: Cycle, stored: tuple[int, int]) -> None:
        """A cycle of failures would measure nothing: every alert and practice in it, every
        match told (every patient has a verified email), the same matches every time."""
        messages, tasks = stored
        problems = []
        if report.alerts_active != ALERTS or report.alerts_expired:
            problems.append(f"{report.alerts_active} active, {report.alerts_expired} expired")
        if report.practices_searched != PRACTICES or report.over_budget:
            problems.append(f"{report.practices_searched} practices, {report.over_budget} over")
        if report.searches != cycle.seen:
            problems.append(f"reported {report.searches} searches, the sandbox saw {cycle.seen}")
        if not 0 < report.alerts_matched < ALERTS:
            problems.append(f"{report.alerts_matched} matched: not a mix")
        # One message for each patient with a match, however many of their alerts matched.
        if not 0 < report.messages_queued == messages <= report.alerts_matched:
            problems.append(f"{report.messages_queued} queued, {messages} stored")
        if tasks != math.ceil(messages / 100):
            problems.append(f"{tasks} sending tasks for {messages} messages")
        if self.cycles and report.alerts_matched != self.cycles[0].report.alerts_matched:
            problems.append(f"{report.alerts_matched} matched, not as the first time")
        if problems:
            raise RuntimeError(f"Unexpected cycle ({report}): {'; '.join(problems)}")

    def report(self, sandbox: str) -> bool:
        cycles, searches, alone = self.cycles, self.searches, self.cycle_alone
        first = cycles[0].report

        def row(name, values, show=fig.ms, target="", passed=None):
            series = fig.Series(values)
            return fig.Row(name, show(series.median), show(series.worst), target, passed)

        def count(value: float) -> str:
            return f"{value:,.0f}"

        most = max(c.most for c in cycles)
        ratios = [c.elapsed / s.elapsed for c, s in zip(cycles, searches, strict=True)]
        rows = [
            fig.Row(f"[18] one alert cycle: {ALERTS:,} alerts, {PRACTICES} practices", ""),
            row("  slot searches the sandbox answered", [c.seen for c in cycles], count),
            row("  searches in the cycle's report", [c.report.searches for c in cycles], count),
            fig.Row("  most searches of one practice and window", str(most), "", "<= 1", most <= 1),
            fig.Row("  alerts active", f"{first.alerts_active:,}"),
            fig.Row("  alerts matched", f"{first.alerts_matched:,}"),
            fig.Row("  messages queued", f"{first.messages_queued:,}"),
            row("  cycle", [c.elapsed for c in cycles]),
            row("  its slowest practice's own latency", [c.slowest for c in cycles]),
            row("  its CPU (this process)", [c.cpu for c in cycles]),
            row(
                f"  the same searches alone ({WEEKS} weeks, {alone[0].seen} requests)",
                [s.elapsed for s in alone],
            ),
            row(
                "  the rest of the cycle",
                [c.elapsed - s.elapsed for c, s in zip(cycles, alone, strict=True)],
            ),
            row(
                f"  federated search of {PRACTICES} practices, {SEARCH_DAYS} days",
                [s.elapsed for s in searches],
            ),
            row("  its slowest practice's own latency", [s.slowest for s in searches]),
            row("  its CPU (this process)", [s.cpu for s in searches]),
            row(
                "[18] alert cycle / federated search",
                ratios,
                fig.times,
                f"<= {TARGET:.2f}x",
                fig.Series(ratios).median <= TARGET,
            ),
        ]
        notes = [
            f"each repetition, every search cold: a federated search of all {PRACTICES} "
            f"practices (gpconnect.search_free_slots, service credential, today and the next "
            f"{SEARCH_DAYS - 1} days); the same over the {WEEKS} weeks the cycle asks for; "
            "then an alert cycle (run_cycle), its search budgets fresh and the alerts as new; "
            "the ratio taken per repetition",
            f"{REPS} repetitions after {WARMUP} warm-up; practices answer after {LOW_MS} ms to "
            f"{HIGH_MS} ms (seeded spread), {SCHEDULES * PER_DAY} morning slots a weekday each "
            f"for {WEEKS} weeks",
            f"{sandbox}; GPCONNECT_MAX_CONNECTIONS_PER_HOST={PRACTICES * WINDOWS}",
            f"machine: {fig.machine()}",
        ]
        return fig.print_table(
            "Earlier-appointment alerts (issue 18): median and worst of the repetitions",
            rows,
            notes,
        )


def window_of(timing: Timing) -> tuple[str, str, str]:
    """The practice and the days a slot search asked for."""
    query = urllib.parse.parse_qs(timing.query)
    return timing.ods_code, query["start"][0], query["end"][0]


if __name__ == "__main__":
    sys.exit(main())
