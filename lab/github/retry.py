"""When and how long to wait before retrying a GitHub call: 5xx, primary and secondary rate limits.

Pure decisions on (status, headers, message, attempt) plus a small loop with an injected sleep, so
tests never really wait. Waits are bounded per attempt and in total.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
RETRY_STATUSES = {500, 502, 503, 504}
SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute on a secondary limit


@dataclass
class RetryPolicy:
    max_attempts: int = 8  # calls in all, the first included
    base_delay: float = 0.5  # seconds; doubles per attempt (with jitter)
    max_delay: float = 30.0  # seconds, cap for one backoff wait
    max_total_wait: float = 120.0  # seconds slept across all retries of one call
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        return delay / 2 + self.jitter() * delay / 2

    def wait_for(self, status: int | None, headers: Mapping[str, str], message: str, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when this failure must not be retried.

        status None means the request never got an answer (connection error or timeout).
        """
        h = {k.lower(): v for k, v in headers.items()}
        if status is None or status in RETRY_STATUSES:
            return self.backoff(attempt)
        if status in (403, 429):
            retry_after = h.get("retry-after", "")
            if retry_after.strip().isdigit():
                return float(retry_after)
            if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset", "").isdigit():
                return max(1.0, float(h["x-ratelimit-reset"]) - self.clock() + 1)
            if "secondary rate limit" in message.lower() or status == 429:
                return SECONDARY_DEFAULT_WAIT
        return None


class RetriesExhausted(RuntimeError):
    """A call kept failing with retryable errors until the attempt or wait budget ran out."""


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy,
                      classify: Callable[[BaseException], tuple[int | None, Mapping[str, str], str] | None],
                      on_retry: Callable[[str, float], None] = lambda reason, wait: None) -> T:
    """Run fn; on a retryable failure (per `classify` + policy) sleep and try again, within budget.

    `classify(exc)` returns (status, headers, message) for errors worth considering, None to re-raise.
    """
    waited = 0.0
    for attempt in range(policy.max_attempts):
        try:
            return fn()
        except Exception as exc:
            info = classify(exc)
            if info is None:
                raise
            status, headers, message = info
            wait = policy.wait_for(status, headers, message, attempt)
            last = attempt == policy.max_attempts - 1
            if wait is None:
                raise
            if last or waited + wait > policy.max_total_wait:
                raise RetriesExhausted(f"gave up after {attempt + 1} attempts ({status or 'no answer'}: "
                                       f"{message[:200]})") from exc
            reason = "no_answer" if status is None else ("rate_limit" if status in (403, 429) else f"http_{status}")
            on_retry(reason, wait)
            policy.sleep(wait)
            waited += wait
    raise AssertionError("unreachable")  # pragma: no cover
