"""One HTTP request under a hard deadline and a reply-size cap: a silent or dripping server cannot hold a caller.

A socket timeout bounds each read, not the reply: a server that sends one byte a second never trips
it, and neither does one that drips its headers. Here a watchdog shuts the socket down when the time
is up, which wakes any read blocked on it; the body is read in slices counted against a byte cap, and
a declared Content-Length over the cap is refused before reading. No compression is asked for, so the
cap counts what the server really sent.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class ExchangeError(Exception):
    """No complete reply: the message says why; `retry` is False where trying again cannot help."""

    def __init__(self, reason: str, *, retry: bool = True, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.retry, self.timed_out = retry, timed_out


def _read_body(reply: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = reply.getheader("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ExchangeError(f"reply of {int(declared)} bytes is over the {max_bytes}-byte cap", retry=False)
    chunks, size = [], 0
    while chunk := reply.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise ExchangeError(f"reply is over the {max_bytes}-byte cap", retry=False)
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(url: str, method: str, body: bytes | None, headers: dict[str, str], *, until: float,
             max_bytes: int) -> Reply:
    """Send one request and read the whole reply before `until` (a time.monotonic() value)."""
    left = until - time.monotonic()
    if left <= 0:
        raise ExchangeError("no time left", timed_out=True)
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "", parts.port, timeout=left)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(left, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers={"Accept-Encoding": "identity", **headers})
        reply = conn.getresponse()
        body = _read_body(reply, max_bytes)
        if expired.is_set():  # the watchdog cut the reply short: what was read is not the reply
            raise ExchangeError(f"timed out after {left:.3g} s", timed_out=True)
        return Reply(reply.status, {k.lower(): v for k, v in reply.getheaders()}, body)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise ExchangeError(f"timed out after {left:.3g} s", timed_out=True) from None
        raise ExchangeError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    finally:
        watchdog.cancel()
        conn.close()
