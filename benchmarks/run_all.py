"""Run the benchmarks of issue 13 (and issue 3's parse bound, issue 18's alert cycle), one
after the other.

    .venv/bin/python benchmarks/run_all.py        (or: make bench)
    .venv/bin/python benchmarks/run_all.py client throughput     (some of them, by name)

Each runs in its own process, with its own throwaway database, ports and servers, prints its
table, and exits non-zero if it misses a target; this exits non-zero if any did, and ends with
the five figures of issue 13 and issue 18's in one table (docs/performance.md explains them).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("results_page", "throughput", "hanging_practice", "client", "parse", "alerts")
TIME_LIMIT_SECONDS = 180

# The lines of the scripts' tables that carry issue 13's five figures and issue 18's: what they
# start with, and what else they must hold.
FIGURES = (
    ("1", "results_page", "page / slowest practice", ""),
    ("1", "results_page", "first 'Choose' link - fastest practice", ""),
    ("2", "throughput", "[2] results page / home page", ""),
    ("2", "throughput", "[2] results page weight", ""),
    ("3", "hanging_practice", "[3] loaded p95 / no-load p95", ""),
    ("4", "client", "client CPU / json.loads", ""),
    ("5", "client", "search / slowest practice", "(no target)"),
    ("18", "alerts", "most searches of one practice and window", ""),
    ("18", "alerts", "[18] alert cycle / federated search", ""),
)


def main() -> int:
    chosen = [name.removesuffix(".py") for name in sys.argv[1:]] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        print(f"Unknown benchmarks: {', '.join(sorted(unknown))}; choose from {BENCHMARKS}")
        return 2
    outcomes, outputs = [], {}
    for name in chosen:
        print(f"\n=== {name}.py", flush=True)
        started = time.monotonic()
        code, outputs[name] = run(name)
        elapsed = time.monotonic() - started
        verdict = "PASS" if code == 0 else f"FAIL ({code})"
        outcomes.append((name, verdict, elapsed))
    print("\n=== Summary")
    for name, verdict, elapsed in outcomes:
        print(f"  {name + '.py':<20} {verdict:<14} {elapsed:.0f} s")
    figures = [
        (number, line)
        for number, script, label, holding in FIGURES
        for line in find(outputs.get(script, ""), label)
        if holding in line
    ]
    if figures:
        print("\n=== Issue 13's figures and issue 18's (median, worst, target)")
        for number, line in figures:
            print(f"  {line}" if line.startswith("[") else f"  [{number}] {line}")
    return 0 if all(verdict == "PASS" for _, verdict, _ in outcomes) else 1


def run(name: str) -> tuple[int | str, str]:
    """Run one benchmark, its output shown as it comes and kept for the summary."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / f"{name}.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timed_out = threading.Event()

    def interrupt() -> None:
        # As Ctrl-C would: the benchmark then stops its servers and removes its files.
        timed_out.set()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()

    watchdog = threading.Timer(TIME_LIMIT_SECONDS, interrupt)
    watchdog.start()
    lines = []
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        code: int | str = process.wait()
    finally:
        watchdog.cancel()
    return ("timed out" if timed_out.is_set() else code), "".join(lines)


def find(output: str, label: str) -> list[str]:
    """The table lines for ``label``, whitespace squeezed."""
    return [
        re.sub(r"\s{2,}", "  ", line.strip())
        for line in output.splitlines()
        if line.strip().startswith(label)
    ]


if __name__ == "__main__":
    sys.exit(main())
