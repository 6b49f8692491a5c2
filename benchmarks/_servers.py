"""The two server processes a benchmark runs, both serving this project on 127.0.0.1:

* the site: ``uvicorn booking_site.asgi:application``, the production entry point, with one
  worker unless a benchmark says otherwise (``SiteServer``);
* the sandbox, standing in for the practices' systems (``SandboxServer``): uvicorn worker
  processes running the same application wrapped by ``_timed_asgi``, which records how long
  each request spent inside the sandbox (``SandboxServer.timings``). Its views are sync, so
  Django runs each request in a thread of its own and a practice's wait holds nobody else up;
  it builds a reply and waits out the rest of the practice's latency, counted from the
  request's arrival (``gp_sandbox.arrival``).

Each runs in its own process group, so that stopping it stops its workers too, and
``cpu_seconds`` adds up the CPU time of every process in the group (Linux /proc).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import ROOT, configure, workdir

STARTUP_SECONDS = 30
SANDBOX_WORKERS = 4


class Server:
    """A server process on 127.0.0.1:``port``, ready once ``ready_path`` answers with
    ``ready_status``."""

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        ready_path: str,
        ready_status: int,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.env = env or {}  # set for this server only, over the benchmark's environment
        self.command = command
        self.port = port
        self.ready_path = ready_path
        self.ready_status = ready_status
        self.log = workdir() / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from django.db import connections

        connections.close_all()  # the servers open the SQLite file themselves
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The {self.name} server stopped at once:\n{self.log_text()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"The {self.name} server did not answer within {STARTUP_SECONDS} s")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", self.ready_path)
            return connection.getresponse().status == self.ready_status
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of the server."""
        if self.process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:  # process group id
                    total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / ticks

    def problems(self) -> list[str]:
        """The server's log lines at WARNING or above (its log level)."""
        return [line for line in self.log_text().splitlines() if line.strip()]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SiteServer(Server):
    """``uvicorn booking_site.asgi:application``, as production serves the site."""

    def __init__(self, workers: int = 1, env: dict[str, str] | None = None) -> None:
        port = int(configure()["BENCH_SITE_PORT"])
        self.workers = workers
        command = [
            sys.executable, "-m", "uvicorn", "booking_site.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--lifespan", "on", "--no-access-log", "--log-level", "warning",
            "--timeout-graceful-shutdown", "2",
        ]  # fmt: skip
        super().__init__("site", command, port, "/", 200, env)

    @property
    def description(self) -> str:
        plural = "" if self.workers == 1 else "es"
        return f"site: uvicorn booking_site.asgi:application, {self.workers} worker process{plural}"


@dataclass(frozen=True)
class Timing:
    """One request as the sandbox saw it."""

    request_id: str
    seconds: float  # from its arrival to the response's start: the practice's own latency
    sent_seconds: float  # from its arrival to the response's last byte handed to the server
    arrived: float  # time.time() when it reached the application
    path: str
    query: str

    @property
    def ods_code(self) -> str:
        parts = self.path.strip("/").split("/")  # sandbox/<ODS>/FHIR/STU3/Slot
        return parts[1] if len(parts) > 1 else ""

    @property
    def is_slot_search(self) -> bool:
        return self.path.endswith("/Slot")


class SandboxServer(Server):
    """The sandbox's practices, served by ``_serve`` (uvicorn worker processes)."""

    def __init__(self, workers: int = SANDBOX_WORKERS) -> None:
        env = configure()
        port = int(env["BENCH_SANDBOX_PORT"])
        self.workers = workers
        self.timings_file = Path(env["BENCH_SERVER_TIMINGS"])
        self._read_to = 0
        command = [sys.executable, "-m", "benchmarks._serve", "127.0.0.1", str(port), str(workers)]
        super().__init__("sandbox", command, port, "/sandbox/oauth2/token", 405)

    @property
    def description(self) -> str:
        return f"sandbox: uvicorn, {self.workers} worker processes, a thread per request"

    def timings(self) -> list[Timing]:
        """The requests the sandbox has answered since the last call, as it timed them."""
        if not self.timings_file.exists():
            return []
        with self.timings_file.open("rb") as timings:
            timings.seek(self._read_to)
            text = timings.read()
        complete = text.rfind(b"\n") + 1
        self._read_to += complete
        found = []
        for line in text[:complete].decode("ascii").splitlines():
            request_id, start_ms, end_ms, arrived, target = line.split(" ", 4)
            path, _, query = target.partition("?")
            found.append(
                Timing(
                    request_id,
                    float(start_ms) / 1000,
                    float(end_ms) / 1000,
                    float(arrived),
                    path,
                    query,
                )
            )
        return found

    def slot_searches(self, count: int, *, timeout: float = 5.0) -> dict[str, Timing]:
        """The slot searches of ``count`` practices since the last call, by ODS code (the last
        of each practice's). The sandbox logs a request once it has handed over the reply's last
        byte, so the client can have it a moment before: wait up to ``timeout`` for them."""
        deadline = time.monotonic() + timeout
        found: dict[str, Timing] = {}
        while True:
            found.update((t.ods_code, t) for t in self.timings() if t.is_slot_search)
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if len(found) != count:
            raise RuntimeError(
                f"The sandbox saw slot searches of {len(found)} of {count} practices"
            )
        return found
