"""Parse: turning a 1,000-slot slot search reply into FreeSlots, against json.loads of it.

Target (issue 3): at most 4x ``json.loads`` of the same bytes, both measured in the same run.

The replies are real: the sandbox serves them (over HTTP, from a separate server process) for
exactly the query the client sends, with the Schedules, Practitioners, Locations and the
Organization included. Two shapes of diary, 1,000 free slots each: 5 schedules of 20 slots a
day, and 25 schedules of 4 a day (schedules cost more than slots to check).

What is timed is the client's own parsing entry point on those bytes, as ``_search_window``
calls it: ``fhir.parse_free_slots(fhir.load_json(content), practice)``, so the json.loads inside
it is counted too. Two states (docs/adr/0002-parsing-slots-fast.md):

* cold: the process has not seen the practice's supporting resources (the validated-resource
  memo is emptied before every parse), as on a practice's first search after a restart;
* warm: it has, as on every later search.

Each round interleaves json.loads, a cold parse and a warm parse of the same bytes, REPS times,
and divides the parse's median by json.loads' median; the table gives the median and the worst
of ROUNDS such rounds (PASS/FAIL on the median). Garbage collection stays on, as in the site.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from urllib.parse import urlencode

import _sandbox as sb

TARGET = 4.0
DIARIES = {
    "5 schedules": sb.Diary(schedules=5, per_day=20),
    "25 schedules": sb.Diary(schedules=25, per_day=4),
}
WARMUP = 20
REPS = 40
ROUNDS = 5


def main() -> int:
    args = sb.arguments(__doc__)
    sb.configure()
    practices = {
        label: sb.create_practices(1, diary, prefix=f"Q{n}")[0]
        for n, (label, diary) in enumerate(DIARIES.items())
    }
    machine = sb.machine()
    try:
        with sb.SandboxServer(args.server, args.workers) as server:
            replies = {label: fetch(server, practice) for label, practice in practices.items()}
    finally:
        sb.cleanup()
    endpoints = {label: sb.endpoints([p])[0] for label, p in practices.items()}

    rows, shapes = [], []
    for label, content in replies.items():
        measured, shape = measure(label, content, endpoints[label], DIARIES[label].slots)
        rows += measured
        shapes.append(shape)
    passed = sb.print_table(
        f"Parse: a 1,000-slot slot search reply into FreeSlots, against json.loads of the same "
        f"bytes ({ROUNDS} rounds of {REPS} after {WARMUP} warm-ups; PASS/FAIL on the median)",
        rows,
        [
            *shapes,
            "timed: fhir.parse_free_slots(fhir.load_json(content), practice), the call "
            "_search_window makes (its json.loads included)",
            f"machine: {machine}",
        ],
    )
    return 0 if passed else 1


def fetch(server: sb.SandboxServer, practice) -> bytes:
    """The sandbox's reply to the client's own slot search query, fetched with plain HTTP."""
    from django.conf import settings

    from booking_site.gpconnect import build, config

    token_reply = server.fetch(
        "/sandbox/oauth2/token",
        method="POST",
        body=urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": settings.SANDBOX_CLIENT_ID,
                "client_secret": settings.SANDBOX_CLIENT_SECRET,
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    token = json.loads(token_reply)["access_token"]
    window = sb.search_range().windows()[0]
    query = build.slot_search_query(window, config.current())
    return server.fetch(
        f"/sandbox/{practice.ods_code}/FHIR/STU3/Slot?{query}",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/fhir+json",
            "X-Request-ID": "00000000-0000-4000-8000-000000000001",
        },
    )


def measure(label: str, content: bytes, endpoint, expected: int) -> tuple[list[sb.Row], str]:
    from booking_site.gpconnect import fhir

    def loads() -> None:
        json.loads(content)

    def parse() -> None:
        fhir.parse_free_slots(fhir.load_json(content), endpoint)

    def parse_cold() -> float:
        fhir._VALIDATED.clear()  # forget the supporting resources seen before (not timed)
        return _timed(parse)

    resources = json.loads(content)["entry"]
    kinds = {}
    for entry in resources:
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    parsed = fhir.parse_free_slots(fhir.load_json(content), endpoint)
    if len(parsed) != expected:
        raise RuntimeError(f"{label}: parsed {len(parsed)} slots, expected {expected}")

    for _ in range(WARMUP):
        loads(), parse_cold(), parse()
    loads_ms, cold_ms, warm_ms = sb.Series(), sb.Series(), sb.Series()
    cold, warm = sb.Series(), sb.Series()
    for _ in range(ROUNDS):
        round_loads, round_cold, round_warm = [], [], []
        for _ in range(REPS):
            round_loads.append(_timed(loads))
            round_cold.append(parse_cold())
            round_warm.append(_timed(parse))
        loads_median = statistics.median(round_loads)
        loads_ms.add(loads_median)
        cold_ms.add(statistics.median(round_cold))
        warm_ms.add(statistics.median(round_warm))
        cold.add(statistics.median(round_cold) / loads_median)
        warm.add(statistics.median(round_warm) / loads_median)
    shape = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    return [
        sb.Row(f"{label}, {len(content) / 1000:.0f} kB", ""),
        sb.Row("  json.loads", sb.ms(loads_ms.median), sb.ms(loads_ms.worst)),
        sb.Row("  parse, cold", sb.ms(cold_ms.median), sb.ms(cold_ms.worst)),
        sb.Row(
            "  parse, cold / json.loads",
            sb.times(cold.median),
            sb.times(cold.worst),
            f"<= {TARGET:.1f}x",
            cold.median <= TARGET,
        ),
        sb.Row("  parse, warm", sb.ms(warm_ms.median), sb.ms(warm_ms.worst)),
        sb.Row(
            "  parse, warm / json.loads",
            sb.times(warm.median),
            sb.times(warm.worst),
            f"<= {TARGET:.1f}x",
            warm.median <= TARGET,
        ),
    ], f"{label}: {shape}"


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
