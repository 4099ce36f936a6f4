"""Ask a server's /healthz four times a second until a stop file appears; one line of seconds per answer.

Run as its own process (`python -m tests.bot.healthz_probe HOST PORT OUT STOP`) so the load of the
attacking test process does not count as the server's slowness. 99 stands for "no 200 within 5 s".
"""

from __future__ import annotations

import os
import socket
import sys
import time

NO_ANSWER = 99.0
INTERVAL_S = 0.25
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"


def ask(host: str, port: int) -> float:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(REQUEST)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return NO_ANSWER
    return time.monotonic() - started if answer.startswith(b"HTTP/1.1 200") else NO_ANSWER


def main(host: str, port: str, out: str, stop: str) -> None:
    with open(out, "w", encoding="utf-8") as log:
        while not os.path.exists(stop):
            log.write(f"{ask(host, int(port)):.4f}\n")
            log.flush()
            time.sleep(INTERVAL_S)


if __name__ == "__main__":
    main(*sys.argv[1:5])
