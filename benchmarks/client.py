"""The GP Connect client on its own: benchmarks 4 and 5 of issue 13.

4. Client CPU. A cold search of 20 practices x 300 free slots (one 14-day window each) costs at
   most 2.5x ``json.loads`` of the same 20 reply bytes, in CPU time of the process that searches.
5. Scaling. The same search of 100 practices x 300 slots: its time against the slowest
   practice's own latency, printed for the README's scaling note (no target).

This process searches as the site's server process does: it runs the lifespan start-up of
``booking_site.asgi:application`` (whatever a server process of the site sets up, it sets up
here too), then awaits ``gpconnect.search_free_slots(endpoints, dates, patient,
correlation_id=...)`` on that same event loop and its one pooled client. The sandbox is another
process (``_servers.SandboxServer``), so its CPU is not counted. Every practice answers 300 ms
after the request reaches the sandbox: all replies arrive at about the same moment, the client's
hardest case. Each measured search asks for a date window not asked for before, so nothing comes
from a cache; the patient's token is already held (the warm-up searches fetched it).

CPU: ``time.process_time()`` (every thread of this process) from just before the search until
0.2 s after it returned, so work the search leaves to run after it (cache writes) is counted.
The divisor is ``json.loads`` of the same 20 replies: after each search, the sandbox's log says
which query each practice was sent, and the replies are fetched again with httpx with that query
and the same patient's token (not timed); ``json.loads`` of all 20 is timed five times, median.
The ratio is worked out per search; median and worst of the searches, PASS/FAIL on the median.

Time: a practice's own latency is the time its request spent inside the sandbox server in that
search (``_timed_asgi``, from its arrival to its reply's start): the 300 ms, plus any lateness
of the sandbox. The search is divided by the slowest of these. It does not see a request that
reaches the sandbox late, or a reply read late: with 100 practices on two cores the client is
busy enough to send its requests late, and the sandbox to take them in late. So the search is
also divided by the time from its start until the sandbox had handed over the last reply's last
byte (which waits for the client to read it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import time
import uuid
import warnings
from dataclasses import dataclass

import _figures as fig
import _harness as h
from _servers import SandboxServer

LATENCY_MS = 300
SCHEDULES, PER_DAY = 3, 10
SLOTS = SCHEDULES * PER_DAY * 10  # free slots per practice in a 14-day window
CPU_TARGET = 2.5
# (label, practices, warm-up searches, measured searches)
SEARCHES = {"cpu": (20, 2, 9), "scaling": (100, 1, 4)}
LOADS_REPS = 5
SETTLE_SECONDS = 0.2


def main() -> int:
    h.configure(max_per_host=max(count for count, _, _ in SEARCHES.values()))
    # Without collected static files, which no search needs: WhiteNoise would say so.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    endpoints = {}
    for prefix, (label, (count, warmup, reps)) in zip("CH", SEARCHES.items(), strict=True):
        diary = h.Diary.for_windows(SCHEDULES, PER_DAY, warmup + reps)
        practices = h.create_practices([LATENCY_MS] * count, diary, prefix=prefix)
        endpoints[label] = h.endpoints(practices)
    patient_number = h.nhs_number(0)
    with SandboxServer() as sandbox:
        bench = ClientBench(sandbox, patient_number)
        asyncio.run(bench.measure(endpoints))
    return 0 if bench.report(sandbox.description) else 1


class ClientBench:
    def __init__(self, sandbox: SandboxServer, patient_number: str) -> None:
        self.sandbox = sandbox
        self.patient_number = patient_number
        self.runs: dict[str, list[Run]] = {label: [] for label in SEARCHES}
        self.loads = fig.Series()
        self.reply_bytes = 0

    async def measure(self, endpoints: dict[str, list]) -> None:
        import httpx

        from booking_site import gpconnect

        patient = gpconnect.Patient(self.patient_number, h.id_token(self.patient_number))
        async with served(), httpx.AsyncClient(timeout=30) as http:
            token = await self.token(http)
            for label, (count, warmup, reps) in SEARCHES.items():
                for n in range(warmup + reps):
                    self.sandbox.timings()  # forget earlier requests
                    started_at = time.time()
                    started_cpu, started = time.process_time(), time.perf_counter()
                    results = await gpconnect.search_free_slots(
                        endpoints[label], h.window(n), patient, correlation_id=uuid.uuid4().hex
                    )
                    elapsed = time.perf_counter() - started
                    await asyncio.sleep(SETTLE_SECONDS)
                    cpu = time.process_time() - started_cpu
                    h.check(results, count, SLOTS)
                    searches = self.sandbox.slot_searches(count)
                    if n < warmup:
                        continue
                    run = Run(
                        elapsed=elapsed,
                        cpu=cpu,
                        slowest=max(t.seconds for t in searches.values()),
                        handed_over=max(t.arrived + t.sent_seconds for t in searches.values())
                        - started_at,
                        loads=None,
                    )
                    if label == "cpu":
                        run.loads = await self.loads_cpu(http, token, searches.values())
                    self.runs[label].append(run)

    async def token(self, http) -> str:
        from django.conf import settings

        reply = await http.post(
            f"{self.sandbox.base_url}/sandbox/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": settings.SANDBOX_CLIENT_ID,
                "client_secret": settings.SANDBOX_CLIENT_SECRET,
            },
        )
        reply.raise_for_status()
        return reply.json()["access_token"]

    async def loads_cpu(self, http, token: str, searches) -> float:
        """CPU seconds of ``json.loads`` of the replies to these very requests, fetched again."""
        replies = []
        for search in searches:
            reply = await http.get(
                f"{self.sandbox.base_url}{search.path}?{search.query}",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/fhir+json",
                    "X-Request-ID": str(uuid.uuid4()),
                },
            )
            reply.raise_for_status()
            replies.append(reply.content)
        self.sandbox.timings()  # these fetches are not a search
        self.reply_bytes = sum(len(r) for r in replies)
        took = []
        for _ in range(LOADS_REPS):
            started = time.process_time()
            for content in replies:
                json.loads(content)
            took.append(time.process_time() - started)
        return statistics.median(took)

    def report(self, sandbox: str) -> bool:
        rows = []
        for number, label in zip("45", SEARCHES, strict=True):
            rows += self.rows(number, label)
        counts = ", ".join(
            f"{count} practices: {reps} after {warmup} warm-ups"
            for count, warmup, reps in SEARCHES.values()
        )
        return fig.print_table(
            f"Client: cold searches through gpconnect.search_free_slots in this process, every "
            f"practice answering after {LATENCY_MS} ms ({counts}; PASS/FAIL on the median)",
            rows,
            [
                "own latency: a practice's request from its arrival in the sandbox to its "
                "reply's start; handed over: from the search's start until the sandbox had sent "
                "the last reply's last byte (late requests and late reading included)",
                f"{sandbox}; GPCONNECT_MAX_CONNECTIONS_PER_HOST=100 (every practice is on the "
                "host 127.0.0.1)",
                f"machine: {fig.machine()}",
            ],
        )

    def rows(self, number: str, label: str) -> list[fig.Row]:
        runs = self.runs[label]
        count = SEARCHES[label][0]
        slots = count * SLOTS

        def row(name, figure, show=fig.ms, target="", bound=None):
            values = fig.Series([figure(run) for run in runs])
            passed = None if bound is None else values.median <= bound
            return fig.Row(name, show(values.median), show(values.worst), target, passed)

        rows = [
            fig.Row(f"[{number}] {count} practices x {SLOTS} slots ({slots:,} slots)", ""),
            row("  cold search", lambda r: r.elapsed),
            row("  slowest practice's own latency (in the sandbox)", lambda r: r.slowest),
            row(
                "  search / slowest practice",
                lambda r: r.elapsed / r.slowest,
                fig.times,
                "" if label == "cpu" else "(no target)",
            ),
            row("  last reply handed over by the sandbox", lambda r: r.handed_over),
            row("  search / that", lambda r: r.elapsed / r.handed_over, fig.times),
            row("  client CPU per search", lambda r: r.cpu),
            row(
                "  client CPU per slot",
                lambda r: r.cpu / slots,
                lambda seconds: f"{seconds * 1e6:.1f} us",
            ),
        ]
        if label == "cpu":
            rows += [
                row(
                    f"  json.loads of the same replies ({self.reply_bytes / 1e6:.1f} MB)",
                    lambda r: r.loads,
                ),
                row(
                    "  client CPU / json.loads",
                    lambda r: r.cpu / r.loads,
                    fig.times,
                    f"<= {CPU_TARGET:.1f}x",
                    CPU_TARGET,
                ),
            ]
        return rows


@contextlib.asynccontextmanager
async def served():
    """The site's ASGI application's lifespan, as its server runs it around the requests it
    serves: start-up before the block, shutdown after, on this event loop."""
    from booking_site.asgi import application

    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    running = asyncio.create_task(
        application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"The site did not start: {started}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await running


@dataclass
class Run:
    elapsed: float
    cpu: float
    slowest: float
    handed_over: float
    loads: float | None


if __name__ == "__main__":
    sys.exit(main())
