"""Throughput of the warm results page: benchmark 2 of issue 13.

A signed-in patient's results page for a federation of 5 practices (300 free slots each, 1,500
in all), warm: every practice's slots are in the site's cache, as for every patient who searches
the same practices and dates within SLOT_CACHE_TTL_SECONDS of another. Targets: the site serves
at least 35% as many of these pages a second as of its home page (/), on the same server with
the same worker count, and the page weighs at most 60 kB uncompressed.

Load: CONNECTIONS kept-alive connections from this process, each sending its next request as
soon as its last reply is in, for a fixed number of requests (``_http.load``, a lean client, so
that the load costs the two shared cores little). Each round measures the home page and then
the results page (re-warmed first) one after the other; the ratio is worked out per round. The
table gives the median and the worst round, PASS/FAIL on the median. Both pages are fetched by
the same signed-in patient; every reply must be a 200 of the expected page.
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
LATENCY_MS = 300
SCHEDULES, PER_DAY = 3, 10
SLOTS = PRACTICES * SCHEDULES * PER_DAY * 10
RATIO_TARGET = 0.35
WEIGHT_TARGET = 60_000
CONNECTIONS = 8
REQUESTS = {"home": 600, "results": 200}
WARMUP_ROUNDS, ROUNDS = 1, 5
PATHS = {"home": "/", "results": "/book/times/"}


def main() -> int:
    h.configure(max_per_host=20)
    h.collect_static()
    practices = h.create_practices(
        [LATENCY_MS] * PRACTICES,
        h.Diary(SCHEDULES, PER_DAY),
        prefix="T",
        federation="Benchmark Federation",
    )
    session = h.sign_in(h.create_patients(1, practices[0].ods_code)[0])
    h.set_journey(session, practices, h.window(0))
    with SandboxServer() as sandbox, SiteServer() as site:
        bench = Throughput(site, h.cookie_header(session))
        asyncio.run(bench.measure())
        problems = site.problems()
    return 0 if bench.report(site.description, sandbox.description, problems) else 1


class Throughput:
    def __init__(self, site: SiteServer, cookie: str) -> None:
        self.site = site
        self.cookie = cookie
        self.rate = {page: fig.Series() for page in PATHS}
        self.server_cpu = {page: fig.Series() for page in PATHS}
        self.client_cpu = {page: fig.Series() for page in PATHS}
        self.latency = {page: fig.Series() for page in PATHS}
        self.ratio = fig.Series()
        self.weight: dict[str, int] = {}

    async def measure(self) -> None:
        for round_number in range(WARMUP_ROUNDS + ROUNDS):
            rates = {}
            for page, path in PATHS.items():
                if page == "results":
                    await self.warm()
                server_cpu, client_cpu = self.site.cpu_seconds(), time.process_time()
                seconds, replies = await _http.load(
                    self.site.port,
                    path,
                    requests=REQUESTS[page],
                    connections=CONNECTIONS,
                    cookie=self.cookie,
                )
                client_cpu = time.process_time() - client_cpu
                server_cpu = self.site.cpu_seconds() - server_cpu
                self.check(page, replies)
                rates[page] = len(replies) / seconds
                if round_number < WARMUP_ROUNDS:
                    continue
                self.rate[page].add(rates[page])
                self.server_cpu[page].add(server_cpu / len(replies))
                self.client_cpu[page].add(client_cpu / len(replies))
                self.latency[page].add(fig.percentile((r.seconds for r in replies), 0.5))
            if round_number >= WARMUP_ROUNDS:
                self.ratio.add(rates["results"] / rates["home"])

    async def warm(self) -> None:
        """The results page once: from the cache if it is still fresh, else it fills it."""
        connection = _http.Connection(self.site.port, self.cookie)
        try:
            reply = await connection.get(PATHS["results"])
        finally:
            await connection.close()
        h.check_results_page(reply.status, reply.body, PRACTICES, SLOTS)

    def check(self, page: str, replies: list[_http.Reply]) -> None:
        wrong = [r.status for r in replies if r.status != 200]
        if wrong:
            raise RuntimeError(f"{page}: {len(wrong)} replies were not 200: {wrong[:5]}")
        if page == "results":
            h.check_results_page(200, replies[-1].body, PRACTICES, SLOTS)
        self.weight[page] = max(len(r.body) for r in replies)

    def report(self, site: str, sandbox: str, problems: list[str]) -> bool:
        rows = []
        for page, path in PATHS.items():
            rate, cpu = self.rate[page], self.server_cpu[page]
            rows += [
                fig.Row(f"[2] {path} ({fig.kb(self.weight[page])})", ""),
                fig.Row(
                    "  requests a second", fig.per_second(rate.median), fig.per_second(rate.best)
                ),
                fig.Row("  site CPU per request", fig.ms(cpu.median), fig.ms(cpu.worst)),
                fig.Row(
                    "  median time per request (under load)",
                    fig.ms(self.latency[page].median),
                    fig.ms(self.latency[page].worst),
                ),
            ]
        client_cpu = max(self.client_cpu["home"].median, self.client_cpu["results"].median)
        weight = self.weight["results"]
        rows += [
            fig.Row(
                "[2] results page / home page, requests a second",
                fig.percent(self.ratio.median),
                fig.percent(self.ratio.best),
                f">= {RATIO_TARGET * 100:.0f}%",
                self.ratio.median >= RATIO_TARGET,
            ),
            fig.Row(
                "  the same, as the site's CPU per request predicts it",
                fig.percent(self.server_cpu["home"].median / self.server_cpu["results"].median),
            ),
            fig.Row(
                "[2] results page weight (uncompressed)",
                fig.kb(weight),
                "",
                f"<= {fig.kb(WEIGHT_TARGET)}",
                weight <= WEIGHT_TARGET,
            ),
        ]
        notes = [
            f"{CONNECTIONS} kept-alive connections, {REQUESTS['home']} home pages and "
            f"{REQUESTS['results']} results pages a round, {ROUNDS} rounds after "
            f"{WARMUP_ROUNDS} warm-up; the load client's own CPU: up to "
            f"{fig.ms(client_cpu)} a request; worst = the lowest rate",
            f"{site}; {sandbox}",
            f"machine: {fig.machine()}",
        ]
        notes += [f"site log: {line}" for line in problems[:10]]
        return fig.print_table(
            f"Throughput: the warm results page of a {PRACTICES}-practice federation "
            f"({SLOTS:,} free slots) against the home page (PASS/FAIL on the median)",
            rows,
            notes,
        )


if __name__ == "__main__":
    sys.exit(main())
