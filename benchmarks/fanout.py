"""Fan-out: a cold federated slot search of 20 practices, each answering after 200 ms.

Target (issue 3): 20 practices, 300 free slots each (6,000), one 14-day window, cold cache:
the federated search completes within 1.5x the slowest practice's latency.

"The slowest practice's latency" is measured, not assumed: each practice is first searched on
its own (cold, the same client call with one practice), three times; a practice's latency is the
median of those, and the slowest practice's is the largest (the configured 200 ms plus what the
sandbox spends building ~300 slots of JSON, plus the client's parse). The federated search is
divided by that, and by the sequential sum (the 20 practices' own latencies added up, and
20 x 200 ms).

Both ways the site can call the client are measured: the async API inside one long-lived
``session()`` (what an async view under ASGI gets: one pooled client per loop), and
``gpconnect.sync.search_free_slots``, which booking/services.py uses from a sync view: each call
runs on the process's client loop, with its one shared pooled client. "Cold" means no slot
search reply in the cache (every practice's entries are invalidated first, as a booking does);
the sandbox token is already held.

"Where the time goes" separates the client from the machine: the sandbox's own time for each
request (recorded inside the server by ``_timed_asgi``), the round trips the client logged, and
the CPU the server's processes and this process spent per search. The 20 practices share this
machine's cores with each other and with the client, which 20 real practice systems would not.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid

import _sandbox as sb

PRACTICES = 20
LATENCY_MS = 200
DIARY = sb.Diary(schedules=3, per_day=10)  # 300 free slots in the window
TARGET = 1.5
WARMUP = 2  # federated searches before any measurement: token, connections, server workers
SINGLE_REPS = 3
REPS = 7


def main() -> int:
    args = sb.arguments(__doc__)
    sb.configure(max_per_host=PRACTICES)
    practices = sb.create_practices(PRACTICES, DIARY, latency_ms=LATENCY_MS)
    endpoints = sb.endpoints(practices)
    trips = sb.RoundTrips.install()
    machine = sb.machine()
    try:
        with sb.SandboxServer(args.server, args.workers) as server:
            bench = FanOut(endpoints, server, trips)
            asyncio.run(bench.measure_async())
            bench.measure_sync()
    finally:
        sb.cleanup()
    return 0 if bench.report(machine, server.description) else 1


class FanOut:
    def __init__(self, endpoints: list, server: sb.SandboxServer, trips: sb.RoundTrips) -> None:
        self.endpoints = endpoints
        self.server = server
        self.trips = trips
        self.date_range = sb.search_range()
        self.alone: dict[str, sb.Series] = {ep.ods_code: sb.Series() for ep in endpoints}
        self.alone_in_server: dict[str, sb.Series] = {ep.ods_code: sb.Series() for ep in endpoints}
        self.cold = {"async": sb.Series(), "sync": sb.Series()}
        self.slowest_in_server = sb.Series()
        self.slowest_round_trip = sb.Series()
        self.server_cpu = sb.Series()
        self.client_cpu = sb.Series()
        self.written_after = sb.Series()

    async def search(self, endpoints: list) -> float:
        from booking_site import gpconnect

        await sb.forget(endpoints)
        self.trips.take()
        started = time.perf_counter()
        results = await gpconnect.search_free_slots(
            endpoints, self.date_range, None, correlation_id=str(uuid.uuid4())
        )
        elapsed = time.perf_counter() - started
        sb.check(results, len(endpoints), DIARY.slots, from_cache=False)
        return elapsed

    async def measure_async(self) -> None:
        from booking_site import gpconnect

        async with gpconnect.session():
            for _ in range(WARMUP):
                await self.search(self.endpoints)
            for _ in range(SINGLE_REPS):
                for endpoint in self.endpoints:
                    self.alone[endpoint.ods_code].add(await self.search([endpoint]))
                    in_server = self.server.server_times()
                    for trip in self.trips.take():
                        if trip["request_id"] in in_server:
                            seconds = in_server[trip["request_id"]] / 1000
                            self.alone_in_server[trip["ods"]].add(seconds)
            for _ in range(REPS):
                cpu, server_cpu = time.process_time(), self.server.cpu_seconds()
                self.cold["async"].add(await self.search(self.endpoints))
                self.written_after.add(sb.written_after())
                self.client_cpu.add(time.process_time() - cpu)
                self.server_cpu.add(self.server.cpu_seconds() - server_cpu)
                in_server = self.server.server_times()
                trips = self.trips.take()
                self.slowest_round_trip.add(max(t["elapsed_ms"] for t in trips) / 1000)
                if in_server:  # the runserver has no timing wrapper
                    slowest = max(in_server[t["request_id"]] for t in trips)
                    self.slowest_in_server.add(slowest / 1000)

    def measure_sync(self) -> None:
        from asgiref.sync import async_to_sync

        from booking_site.gpconnect import sync

        for rep in range(REPS + 1):
            async_to_sync(sb.forget)(self.endpoints)
            started = time.perf_counter()
            results = sync.search_free_slots(
                self.endpoints, self.date_range, None, correlation_id=str(uuid.uuid4())
            )
            elapsed = time.perf_counter() - started
            sb.check(results, PRACTICES, DIARY.slots, from_cache=False)
            if rep:  # the first is a warm-up
                self.cold["sync"].add(elapsed)

    def report(self, machine: str, server: str) -> bool:
        medians = {ods: series.median for ods, series in self.alone.items()}
        slowest_ods = max(medians, key=medians.get)
        slowest = medians[slowest_ods]
        sequential = sum(medians.values())
        configured_sum = PRACTICES * LATENCY_MS / 1000
        in_server = self.alone_in_server[slowest_ods].values
        rows = [
            sb.Row(
                f"slowest practice alone ({slowest_ods}, median of {SINGLE_REPS})",
                sb.ms(slowest),
                sb.ms(self.alone[slowest_ods].worst),
            ),
            sb.Row(
                "  of which inside the sandbox server",
                sb.ms(statistics.median(in_server)) if in_server else "n/a",
            ),
            sb.Row("median practice alone", sb.ms(statistics.median(medians.values()))),
            sb.Row(f"sequential sum of the {PRACTICES} alone", sb.ms(sequential)),
        ]
        for api, label in (
            ("async", "async API, one long-lived session()"),
            ("sync", "sync API, on the shared client loop"),
        ):
            cold = self.cold[api]
            rows += [
                sb.Row(f"cold federated search, {label}", sb.ms(cold.median), sb.ms(cold.worst)),
                sb.Row(
                    "  / slowest practice alone",
                    sb.times(cold.median / slowest),
                    sb.times(cold.worst / slowest),
                    f"<= {TARGET:.2f}x",
                    cold.median / slowest <= TARGET,
                ),
                sb.Row(
                    f"  / sequential sum of the {PRACTICES} alone",
                    sb.times(cold.median / sequential),
                    sb.times(cold.worst / sequential),
                ),
                sb.Row(
                    f"  / {PRACTICES} x {LATENCY_MS} ms",
                    sb.times(cold.median / configured_sum),
                    sb.times(cold.worst / configured_sum),
                ),
            ]
        rows.append(sb.Row("where the time goes (async API):", ""))
        if self.slowest_in_server.values:
            per_run = [
                total / server_time
                for total, server_time in zip(
                    self.cold["async"].values, self.slowest_in_server.values, strict=True
                )
            ]
            rows += [
                sb.Row(
                    "  slowest practice's time in the server, in the search",
                    sb.ms(self.slowest_in_server.median),
                    sb.ms(self.slowest_in_server.worst),
                ),
                sb.Row(
                    "  search / that",
                    sb.times(statistics.median(per_run)),
                    sb.times(max(per_run)),
                ),
            ]
        rows += [
            sb.Row(
                "  slowest round trip the client logged, in the search",
                sb.ms(self.slowest_round_trip.median),
                sb.ms(self.slowest_round_trip.worst),
            ),
            sb.Row(
                "  server CPU per search (all its processes)",
                sb.ms(self.server_cpu.median),
                sb.ms(self.server_cpu.worst),
            ),
            sb.Row(
                "  client CPU per search (the writes after it included)",
                sb.ms(self.client_cpu.median),
                sb.ms(self.client_cpu.worst),
            ),
            sb.Row(
                "  shared cache writes, still running when the search ended",
                sb.ms(self.written_after.median),
                sb.ms(self.written_after.worst),
            ),
        ]
        return sb.print_table(
            f"Fan-out: {PRACTICES} practices x {DIARY.slots} free slots, each answering after "
            f"{LATENCY_MS} ms, one 14-day window, cold cache ({REPS} searches per API after "
            f"{WARMUP} warm-ups; PASS/FAIL on the median)",
            rows,
            [
                f"server: {server}; client: GPCONNECT_MAX_CONNECTIONS_PER_HOST={PRACTICES} "
                "(every practice is on the host 127.0.0.1)",
                f"machine: {machine}",
            ],
        )


if __name__ == "__main__":
    sys.exit(main())
