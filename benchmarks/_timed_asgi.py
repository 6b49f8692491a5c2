"""The sandbox's ASGI application, timed: what the benchmarks' sandbox server process runs.

For every HTTP request it appends a line to the file named by BENCH_SERVER_TIMINGS:

    <X-Request-ID> <ms to the response's start> <ms to its end> <arrival, epoch s> <path>?<query>

counted from the request reaching the application (the sandbox builds the whole body before the
response starts), and what was asked, so a benchmark knows each practice's own latency in a
search, when the request got there, and can fetch the very reply again. It only
observes: requests and responses are the sandbox's own. Appending one short line is atomic, so
several worker processes share the file.
"""

import os
import time

from booking_site.asgi import application as django_application

_TIMINGS = os.environ["BENCH_SERVER_TIMINGS"]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return await django_application(scope, receive, send)
    arrived, started = time.time(), time.perf_counter()
    response_started = None
    request_id = dict(scope["headers"]).get(b"x-request-id", b"-").decode("latin-1")
    target = scope["path"] + "?" + scope["query_string"].decode("latin-1")

    async def timed_send(message):
        nonlocal response_started
        if message["type"] == "http.response.start":
            response_started = time.perf_counter()
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            start_ms = (response_started - started) * 1000
            end_ms = (time.perf_counter() - started) * 1000
            with open(_TIMINGS, "a", encoding="ascii") as timings:
                timings.write(f"{request_id} {start_ms:.2f} {end_ms:.2f} {arrived:.6f} {target}\n")

    return await django_application(scope, receive, timed_send)
