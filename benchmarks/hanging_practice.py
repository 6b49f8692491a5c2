"""A hanging practice isolates: benchmark 3 of issue 13.

A federation of 5 practices, one of which hangs (the sandbox's ``hangs`` switch: it holds every
request far past any timeout); the others answer after 300 ms. Twenty signed-in patients search
it at once, each asking for the results page with "try the hanging practice again"
(GET /book/times/?retry=<its ODS code>), so every one of their requests waits for the site's
own time limits on that practice (GPCONNECT_PRACTICE_TIMEOUT_SECONDS, GPCONNECT_DEADLINE_SECONDS,
as configured by default). Target: meanwhile, the home page's p95 latency on the same site
instance stays at most 2x its p95 with no load.

The home page is asked for once every PROBE_INTERVAL by one signed-in browser on one kept-alive
connection. Each round first asks PROBES times with no load, then keeps asking under the load,
from the first patient's request until the last patient's page has arrived. The patients start
STAGGER apart (twenty people do not press at the same millisecond). Each round's loaded p95 is
divided by its own no-load p95 (so that a change in what else the shared machine is doing
between rounds does not count); the table gives the median and the worst round, PASS/FAIL on
the median. The first round (tokens, the four practices' first replies) is a warm-up. Every
patient's page must show all five practices checked and the other four's 1,200 appointments.
"""

from __future__ import annotations

import asyncio
import sys
import time

import _figures as fig
import _harness as h
import _http
from _servers import SandboxServer, SiteServer

PRACTICES = 5
HANGING = 2  # the third practice in the list
LATENCY_MS = 300
SCHEDULES, PER_DAY = 3, 10
ANSWERING_SLOTS = (PRACTICES - 1) * SCHEDULES * PER_DAY * 10
PATIENTS = 20
STAGGER = 0.05
PROBE_INTERVAL = 0.025
PROBES = 200
WARMUP_ROUNDS, ROUNDS = 1, 3
TARGET = 2.0


def main() -> int:
    h.configure(max_per_host=20)
    h.collect_static()
    practices = h.create_practices(
        [LATENCY_MS] * PRACTICES,
        h.Diary(SCHEDULES, PER_DAY),
        prefix="Z",
        hanging=[HANGING],
        federation="Benchmark Federation",
    )
    sessions = [
        h.sign_in(patient) for patient in h.create_patients(PATIENTS + 1, practices[0].ods_code)
    ]
    for session in sessions:
        h.set_journey(session, practices, h.window(0))
    cookies = [h.cookie_header(session) for session in sessions]
    with SandboxServer() as sandbox, SiteServer() as site:
        bench = Hanging(site, cookies[:PATIENTS], cookies[PATIENTS])
        asyncio.run(bench.measure(f"/book/times/?retry={practices[HANGING].ods_code}"))
        problems = site.problems()
    return 0 if bench.report(site.description, sandbox.description, problems) else 1


class Hanging:
    def __init__(self, site: SiteServer, patients: list[str], prober: str) -> None:
        self.site = site
        self.patients = patients
        self.prober = _http.Connection(site.port, prober)
        self.baseline = fig.Series()
        self.loaded = fig.Series()
        self.ratio = fig.Series()
        self.searches = fig.Series()
        self.samples = fig.Series()

    async def probe(self, stop: asyncio.Event | None = None, count: int = PROBES) -> list[float]:
        """Home page latencies, one request every PROBE_INTERVAL, until ``stop`` or ``count``."""
        took = []
        next_at = time.perf_counter()
        while (len(took) < count) if stop is None else not stop.is_set():
            reply = await self.prober.get("/")
            if reply.status != 200:
                raise RuntimeError(f"The home page answered {reply.status}")
            took.append(reply.seconds)
            next_at += PROBE_INTERVAL
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        return took

    async def search(self, n: int, path: str) -> float:
        await asyncio.sleep(n * STAGGER)
        connection = _http.Connection(self.site.port, self.patients[n])
        try:
            reply = await connection.get(path)
        finally:
            await connection.close()
        h.check_results_page(reply.status, reply.body, PRACTICES, ANSWERING_SLOTS)
        return reply.seconds

    async def measure(self, path: str) -> None:
        await self.probe(count=PROBES // 4)  # warm-up: connection, templates
        for round_number in range(WARMUP_ROUNDS + ROUNDS):
            baseline = fig.percentile(await self.probe(), 0.95)
            stop = asyncio.Event()
            probing = asyncio.create_task(self.probe(stop))
            searches = await asyncio.gather(*(self.search(n, path) for n in range(PATIENTS)))
            stop.set()
            took = await probing
            if round_number < WARMUP_ROUNDS:
                continue
            loaded = fig.percentile(took, 0.95)
            self.baseline.add(baseline)
            self.loaded.add(loaded)
            self.ratio.add(loaded / baseline)
            self.samples.add(len(took))
            for seconds in searches:
                self.searches.add(seconds)
        await self.prober.close()

    def report(self, site: str, sandbox: str, problems: list[str]) -> bool:
        from django.conf import settings

        rows = [
            fig.Row(
                "[3] home page p95, no load",
                fig.ms(self.baseline.median),
                fig.ms(self.baseline.worst),
            ),
            fig.Row(
                f"[3] home page p95, {PATIENTS} patients searching with a hanging practice",
                fig.ms(self.loaded.median),
                fig.ms(self.loaded.worst),
            ),
            fig.Row(
                "[3] loaded p95 / no-load p95",
                fig.times(self.ratio.median),
                fig.times(self.ratio.worst),
                f"<= {TARGET:.1f}x",
                self.ratio.median <= TARGET,
            ),
            fig.Row(
                "  home pages asked for per load round",
                f"{self.samples.median:.0f}",
                f"{self.samples.best:.0f}",
            ),
            fig.Row(
                "  a patient's results page (waits for the hanging practice)",
                fig.ms(self.searches.median),
                fig.ms(self.searches.worst),
            ),
        ]
        notes = [
            f"{PRACTICES} practices, one hanging, the others answering after {LATENCY_MS} ms; "
            f"{ROUNDS} rounds after {WARMUP_ROUNDS} warm-up, each {PROBES} home pages with no "
            f"load and then the load; a home page every {PROBE_INTERVAL * 1000:.0f} ms",
            "site limits: GPCONNECT_PRACTICE_TIMEOUT_SECONDS="
            f"{settings.GPCONNECT_PRACTICE_TIMEOUT_SECONDS:g}, GPCONNECT_DEADLINE_SECONDS="
            f"{settings.GPCONNECT_DEADLINE_SECONDS:g}, GPCONNECT_RETRIES="
            f"{settings.GPCONNECT_RETRIES}",
            f"{site}; {sandbox}",
            f"machine: {fig.machine()}",
        ]
        notes += [f"site log: {line}" for line in problems[:10]]
        return fig.print_table(
            f"A hanging practice isolates: the home page while {PATIENTS} patients search a "
            "federation with a hanging practice (PASS/FAIL on the median)",
            rows,
            notes,
        )


if __name__ == "__main__":
    sys.exit(main())
