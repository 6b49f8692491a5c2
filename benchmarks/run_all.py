"""Run the three GP Connect client benchmarks of issue 3, one after the other.

    .venv/bin/python benchmarks/run_all.py        (or: make bench)

Each runs in its own process, with its own throwaway database, port and sandbox server, prints
its table, and exits non-zero if it misses its target; this exits non-zero if any did. Extra
arguments (``--server runserver``, ``--workers N``) are passed on to each.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("fanout.py", "parse.py", "warm_cache.py")
TIME_LIMIT_SECONDS = 180


def main() -> int:
    outcomes = []
    for script in BENCHMARKS:
        print(f"\n=== {script}", flush=True)
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, str(HERE / script), *sys.argv[1:]])
        try:
            code = process.wait(timeout=TIME_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            # As Ctrl-C would: the benchmark then stops its server and removes its files.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            code = "timed out"
        elapsed = time.monotonic() - started
        verdict = "PASS" if code == 0 else f"FAIL ({code})"
        outcomes.append((script, verdict, elapsed))
    print("\n=== Summary")
    for script, verdict, elapsed in outcomes:
        print(f"  {script:<14} {verdict:<14} {elapsed:.0f} s")
    return 0 if all(verdict == "PASS" for _, verdict, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
