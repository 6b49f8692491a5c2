"""Parse: turning a 1,000-slot slot search reply into FreeSlots, against json.loads of it.

Target (issue 3): at most 4x ``json.loads`` of the same bytes, both measured in the same run.
Not one of issue 13's five figures: it isolates the parse within the client's CPU (``client.py``).

The replies are real: the sandbox serves them (over HTTP, from a separate server process) for
exactly the query the client sends (``requests.slot_search_query``), with the Schedules,
Practitioners, Locations and the Organization included. Two shapes of diary, 1,000 free slots
each: 5 schedules of 20 slots a day, and 25 schedules of 4 a day (schedules cost more than slots
to check).

What is timed is the client's own parsing entry point on those bytes, as the slot search calls
it: ``parsing.slot_replies.parse_slot_reply(content, practice)``, so decoding is counted too. A
sandbox reply conforms, so it takes the typed way in (docs/adr/0007-decoding-slot-replies-into-
typed-fields.md); the careful way, ``parse_free_slots(load_json(content), practice)``, which a
reply with any deviation takes, is measured too. Two states (docs/adr/0002-parsing-slots-fast.md):

* cold: the process has not seen the practice's resources (the memos of validated resources
  are emptied before every parse), as on a practice's first search after a restart;
* warm: it has, as on every later search.

Each round interleaves json.loads and each parse, cold and warm, of the same bytes, REPS times,
and divides each parse's median by json.loads' median; the table gives the median and the worst
of ROUNDS such rounds (PASS/FAIL on the median). Garbage collection stays on, as in the site.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

import _figures as fig
import _harness as h
from _servers import SandboxServer

TARGET = 4.0
DIARIES = {
    "5 schedules": h.Diary(schedules=5, per_day=20),
    "25 schedules": h.Diary(schedules=25, per_day=4),
}
WARMUP = 20
REPS = 40
ROUNDS = 5


def main() -> int:
    h.configure()
    practices = {
        label: h.create_practices([0], diary, prefix=f"Q{n}")[0]
        for n, (label, diary) in enumerate(DIARIES.items())
    }
    endpoints = {label: h.endpoints([p])[0] for label, p in practices.items()}
    with SandboxServer() as sandbox:
        replies = {label: fetch(sandbox, practice) for label, practice in practices.items()}

    rows, shapes = [], []
    for label, content in replies.items():
        measured, shape = measure(label, content, endpoints[label], DIARIES[label].slots_per_window)
        rows += measured
        shapes.append(shape)
    passed = fig.print_table(
        f"Parse: a 1,000-slot slot search reply into FreeSlots, against json.loads of the same "
        f"bytes ({ROUNDS} rounds of {REPS} after {WARMUP} warm-ups; PASS/FAIL on the median)",
        rows,
        [
            *shapes,
            "parse: parse_slot_reply(content, practice), the call the slot search makes "
            "(decoding included; these replies take the typed way)",
            "careful way: parse_free_slots(load_json(content), practice), which a reply with "
            "any deviation takes",
            f"machine: {fig.machine()}",
        ],
    )
    return 0 if passed else 1


def fetch(sandbox: SandboxServer, practice: h.Practice) -> bytes:
    """The sandbox's reply to the client's own slot search query, fetched with plain HTTP."""
    import httpx
    from django.conf import settings

    from booking_site.gpconnect import config, requests

    base = f"{sandbox.base_url}/sandbox"
    with httpx.Client(timeout=30) as http:
        token_reply = http.post(
            f"{base}/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": settings.SANDBOX_CLIENT_ID,
                "client_secret": settings.SANDBOX_CLIENT_SECRET,
            },
        )
        token_reply.raise_for_status()
        query = requests.slot_search_query(h.window(0), config.current())
        reply = http.get(
            f"{base}/{practice.ods_code}/FHIR/STU3/Slot?{query}",
            headers={
                "Authorization": f"Bearer {token_reply.json()['access_token']}",
                "Accept": "application/fhir+json",
                "X-Request-ID": str(uuid.uuid4()),
            },
        )
        reply.raise_for_status()
        return reply.content


def measure(label: str, content: bytes, endpoint, expected: int) -> tuple[list[fig.Row], str]:
    from booking_site.gpconnect.parsing import stu3
    from booking_site.gpconnect.parsing.bundles import load_json
    from booking_site.gpconnect.parsing.slot_replies import parse_free_slots, parse_slot_reply

    def loads() -> None:
        json.loads(content)

    def typed() -> None:
        parse_slot_reply(content, endpoint)

    def careful() -> None:
        parse_free_slots(load_json(content), endpoint)

    def cold(parse):
        def parse_cold() -> float:
            # Forget the resources validated before (not timed).
            stu3._VALIDATED.clear()
            stu3._CONFORMING.clear()
            return _timed(parse)

        return parse_cold

    resources = json.loads(content)["entry"]
    kinds = {}
    for entry in resources:
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    for parse in (parse_slot_reply, lambda c, e: parse_free_slots(load_json(c), e)):
        parsed = parse(content, endpoint)
        if len(parsed) != expected:
            raise RuntimeError(f"{label}: parsed {len(parsed)} slots, expected {expected}")

    timings = {
        "json.loads": lambda: _timed(loads),
        "parse, cold": cold(typed),
        "parse, warm": lambda: _timed(typed),
        "careful way, cold": cold(careful),
        "careful way, warm": lambda: _timed(careful),
    }
    for _ in range(WARMUP):
        for timing in timings.values():
            timing()
    took = {name: fig.Series() for name in timings}
    ratios = {name: fig.Series() for name in timings if name != "json.loads"}
    for _ in range(ROUNDS):
        rounds = {name: [] for name in timings}
        for _ in range(REPS):
            for name, timing in timings.items():
                rounds[name].append(timing())
        loads_median = statistics.median(rounds["json.loads"])
        for name, values in rounds.items():
            took[name].add(statistics.median(values))
            if name in ratios:
                ratios[name].add(statistics.median(values) / loads_median)
    shape = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    rows = [
        fig.Row(f"{label}, {len(content) / 1000:.0f} kB", ""),
        fig.Row(
            "  json.loads", fig.ms(took["json.loads"].median), fig.ms(took["json.loads"].worst)
        ),
    ]
    for name, ratio in ratios.items():
        rows += [
            fig.Row(f"  {name}", fig.ms(took[name].median), fig.ms(took[name].worst)),
            fig.Row(
                f"  {name} / json.loads",
                fig.times(ratio.median),
                fig.times(ratio.worst),
                f"<= {TARGET:.1f}x",
                ratio.median <= TARGET,
            ),
        ]
    return rows, f"{label}: {shape}"


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
