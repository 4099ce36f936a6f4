"""Reading a webhook body within bounds: per request (max_body_bytes) and over all requests at once.

A single request may not exceed `max_body_bytes` (413), and all bodies being read at the same time
together may not hold more than `buffered_bytes` of memory (503 with Retry-After): many large
deliveries at once, or many slow ones, cost a bounded amount, whatever Content-Length says. The
budget counts every copy: the chunks as they arrive, and the joined body while both exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RETRY_AFTER_S = "30"


@dataclass
class IntakeRefused(Exception):
    """The body was not read: the status, the message for the sender, and the metrics outcome."""

    status: int
    message: str
    outcome: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": RETRY_AFTER_S} if self.status == 503 else {}


class ByteBudget:
    """Bytes of request bodies held at once. Used from the event loop only, so it needs no lock."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        self.used = max(0, self.used - size)


class BoundedBody:
    """`async with BoundedBody(request, ...) as body:` the whole body (bytes), its bytes held in the budget
    until the block ends; IntakeRefused when it is too large, the budget is spent, or the client left."""

    def __init__(self, request: Any, max_bytes: int, budget: ByteBudget):
        self.request, self.max_bytes, self.budget, self.held = request, max_bytes, budget, 0

    async def __aenter__(self) -> bytes:
        from starlette.requests import ClientDisconnect

        length = self.request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise self._too_large()
        chunks: list[bytes] = []  # no growing buffer: a realloc would briefly hold the body twice, unaccounted
        size = 0
        try:
            async for chunk in self.request.stream():  # bounded even when Content-Length lies or is absent
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large()
                self._take(len(chunk))
                chunks.append(chunk)
            self._take(size)  # joining holds the chunks and the body at once, for a moment
            body = b"".join(chunks)
            chunks.clear()
            self.budget.give(size)
            self.held -= size
        except BaseException as exc:  # refused, disconnected or cancelled: nothing stays held
            self.budget.give(self.held)
            self.held = 0
            if isinstance(exc, ClientDisconnect):
                raise IntakeRefused(400, "the client went away before the body was complete", "disconnected") from None
            raise
        return body

    def _take(self, size: int) -> None:
        if not self.budget.take(size):
            raise IntakeRefused(503, "busy: too many request bodies in flight; redeliver later", "busy")
        self.held += size

    async def __aexit__(self, *exc_info: object) -> None:
        self.budget.give(self.held)
        self.held = 0

    def _too_large(self) -> IntakeRefused:
        return IntakeRefused(413, f"body larger than {self.max_bytes} bytes", "too_large")
