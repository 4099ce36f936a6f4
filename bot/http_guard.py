"""Slow and greedy clients cannot hold the bot: deadlines on reading a request, and a cap on connections.

uvicorn's h11 protocol closes idle keep-alive connections but sets no deadline on a request being
read: a client that sends half its headers (slow-loris), or a body one byte at a time, keeps its
connection forever. `guarded_protocol(...)` returns an `H11Protocol` subclass with
- a header deadline: a connection must send its request line and headers within `header_timeout_s`
  of opening (or of its previous response), however it drips them;
- a body deadline: the whole body must then arrive within `body_timeout_s`;
- a connection cap: beyond `max_connections` open connections, the one that has waited longest for
  its headers is dropped (slow clients lose their place, a quick /healthz never waits for it).
Deadlines are totals, not per read, so trickling bytes does not extend them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

LOG = logging.getLogger("arborist.http")
HEADERS, BODY = "headers", "body"
SHED_MIN_AGE_S = 0.5  # a connection over the cap is shed only after waiting this long for its headers
MAX_HEADER_BYTES = 64 * 1024  # request line + headers; GitHub's are a few KB (h11's default is 16 KB)


def uvicorn_config(app: Any, settings: Any, host: str, port: int, log_level: str = "info") -> Any:
    """The uvicorn.Config `arborist serve` runs: guarded h11, keep-alive, header size, from the settings."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on",
                          http=guarded_protocol(settings.header_timeout_s, settings.body_timeout_s,
                                                settings.max_connections),
                          timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
                          h11_max_incomplete_event_size=MAX_HEADER_BYTES)


def guarded_protocol(header_timeout_s: float, body_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """An H11Protocol class with these limits, for `uvicorn.Config(http=...)`."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {
        "header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s, "max_connections": max_connections})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the deadlines and the cap; the limits are set by `guarded_protocol`."""

    header_timeout_s = 10.0
    body_timeout_s = 60.0
    max_connections = 256

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._phase: str | None = None
        self._phase_since = 0.0
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._track()
        if sum(not c.transport.is_closing() for c in self.connections) > self.max_connections:
            self._shed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def _track(self) -> None:
        """Arm the deadline of the phase the client is in; a new phase gets a fresh deadline."""
        state = self.conn.their_state
        phase = HEADERS if state is h11.IDLE else BODY if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._disarm()
        self._phase, self._phase_since = phase, self.loop.time()
        if phase is not None and not self.transport.is_closing():
            timeout = self.header_timeout_s if phase == HEADERS else self.body_timeout_s
            self._deadline = self.loop.call_later(timeout, self._expire)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            LOG.info("closing a connection from %s: request %s not received in time", self.client, self._phase)
            self.transport.close()

    def _shed(self) -> None:
        """Over the cap: drop the connection that has waited longest for its headers, or else this new one."""
        settled = self.loop.time() - SHED_MIN_AGE_S  # not one accepted a moment ago, still to be read
        connections: list[Any] = list(self.connections)
        waiting = [c for c in connections if getattr(c, "_phase", None) == HEADERS
                   and c._phase_since <= settled and not c.transport.is_closing()]
        if waiting:
            oldest = min(waiting, key=lambda c: c._phase_since)
            LOG.warning("%d connections open (limit %d): dropping the slowest", len(self.connections),
                        self.max_connections)
            oldest.transport.close()
        else:
            self.transport.close()
