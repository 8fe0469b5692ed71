"""How long a CRM call may take and how it is tried again: timeouts, the retry policy
(exponential backoff with full jitter, bounded attempts and sleep), `Retry-After`, and the
deadline of a caller with a hard stop (a Lambda's timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.05
    read: float = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts, exponential backoff with full jitter, and a cap on the total time slept."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total_sleep: float = 20.0
    max_queue_wait: float = 10.0
    """The longest one call waits for its turn under the rate limit before it is refused
    (unsent) as RateLimited."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("bad retry policy")
        if self.max_total_sleep < 0 or self.max_queue_wait < 0:
            raise ValueError("bad retry policy")

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return max(0.0, min(1.0, rand())) * ceiling


_deadlines = threading.local()


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Inside the block, this thread's calls neither wait for their turn nor sleep before a
    retry past `at` (a `time.monotonic()` time): they raise instead, RateLimited (unsent) or
    the error that would have been retried. For callers with a hard stop (a Lambda timeout)."""
    previous = getattr(_deadlines, "at", None)
    _deadlines.at = at if previous is None else min(at, previous)
    try:
        yield
    finally:
        _deadlines.at = previous


def time_left() -> float | None:
    at: float | None = getattr(_deadlines, "at", None)
    return None if at is None else max(0.0, at - time.monotonic())


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
