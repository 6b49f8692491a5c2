"""The benchmarks' sandbox server: uvicorn's worker processes running ``_timed_asgi``, on a
listening socket made here so that every connection it accepts sends without delay
(TCP_NODELAY).

``uvicorn --workers`` makes its socket with ``socket.socket(AF_INET)``, whose protocol number is
0, and asyncio only sets TCP_NODELAY on connections whose socket says IPPROTO_TCP. With Nagle's
algorithm on, the last part of a reply could wait for the client's delayed acknowledgement: a
200 ms practice then answered in about 245 ms, now and then, on whichever connection it hit.
(The site's own server runs one worker, and a single uvicorn process makes its socket through
asyncio, which sets TCP_NODELAY itself.) A hanging practice's request is not waited for at the
end: the graceful shutdown gives up after a second.

Usage, from the project root: python -m benchmarks._serve HOST PORT WORKERS
"""

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


def main() -> None:
    host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config = uvicorn.Config(
        "benchmarks._timed_asgi:application",
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.set_inheritable(True)
    Multiprocess(config, sockets=[listening]).run()


if __name__ == "__main__":
    main()
