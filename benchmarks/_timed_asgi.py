"""The site's ASGI application, timed: what the benchmarks' server process runs.

For every HTTP request it appends ``<X-Request-ID> <milliseconds>`` to the file named by
BENCH_SERVER_TIMINGS, the time from the request reaching Django to the response starting (the
sandbox builds the whole body before that). It only observes: requests and responses are the
sandbox's own. Appending one short line is atomic, so several worker processes share the file.
"""

import os
import time

from booking_site.asgi import application as django_application

_TIMINGS = os.environ["BENCH_SERVER_TIMINGS"]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return await django_application(scope, receive, send)
    started = time.perf_counter()
    request_id = dict(scope["headers"]).get(b"x-request-id", b"-").decode("latin-1")

    async def timed_send(message):
        if message["type"] == "http.response.start":
            elapsed_ms = (time.perf_counter() - started) * 1000
            with open(_TIMINGS, "a", encoding="ascii") as timings:
                timings.write(f"{request_id} {elapsed_ms:.2f}\n")
        await send(message)

    return await django_application(scope, receive, timed_send)
