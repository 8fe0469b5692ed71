"""Pacing: every CRM call waits for its turn under its provider account's rate limit, one
limiter per account shared by every client and thread of the process; the limit is the
provider's documented one, or learnt from its 429s."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chalicelib.crm.errors import RateLimited
from chalicelib.observability import logger


@dataclass(frozen=True)
class RateLimit:
    """A provider's documented limit: `per_second` calls on average, at most `burst` at once."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.per_second > 0 or self.burst < 1:
            raise ValueError("bad rate limit")


class RateLimiter:
    """Paces the calls to one provider account; thread-safe, shared by the clients of a process.

    A token bucket (GCRA: calls spaced 1/rate apart, at most `burst` at once after a lull)
    whose rate is the provider's documented limit when it has one. When it has none (VAN's
    depends on the key's tier), calls are not paced until the first 429, which teaches the
    limit: what the provider took from this process in the second before it ("taken"). The rate
    becomes MARGIN times that (and, at a later 429, at least BACKOFF times lower than the rate
    that met it); a 429 to a call sent before the last cut is the same burst and cuts nothing.
    While callers queue and no 429 comes, the rate grows by GROWTH a second up to that cruise
    level, and by PROBE a second above it; past the learnt limit itself the limit has risen and
    is forgotten, and growth is quick again until the next 429. So the rate cruises just below
    the limit without running into it again and again, and still finds a raised limit (a few
    minutes of steady use to pass the old one). Several processes sharing an account each
    settle at their share. After a lull, part of the room under the learnt limit may go at
    once (a burst of half of taken less the rate), so that no second holds more than the limit.

    A 429 (or a throttle the client recognises) pauses every caller until its `Retry-After` has
    passed. The caller that got it sleeps that time itself and then `acquire(resumed=True)`,
    which skips the pause but not its place in the queue.
    """

    MARGIN = 0.95  # cruise at this share of what the provider took before its 429
    BACKOFF = 0.95  # and at least this much below the rate a 429 met
    GROWTH = 0.002  # a second, while callers queue, up to the cruise rate
    PROBE = 0.0002  # a second, above it
    FLOOR = 0.1  # calls a second
    WINDOW = 1.0  # seconds over which accepted calls are counted

    def __init__(
        self,
        limit: RateLimit | None = None,
        *,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._ceiling = limit.per_second if limit else None
        self._burst = limit.burst if limit else 1
        self._rate: float | None = self._ceiling
        self._taken: int | None = None  # calls the provider took in the second before a 429
        self._tat = -math.inf  # the theoretical arrival time of the next call (GCRA)
        self._paused_until = -math.inf
        self._cut_at = -math.inf
        self._last_turn: float | None = None
        self._accepted: deque[float] = deque()
        self.throttles = 0

    @property
    def rate(self) -> float | None:
        """Calls a second this process allows itself; None while unknown (not paced)."""
        return self._rate

    def now(self) -> float:
        return self._clock()

    def acquire(self, max_wait: float, *, resumed: bool = False) -> float:
        """Wait for this caller's turn; returns the seconds waited. Raises RateLimited, before
        anything is sent, when the turn is more than `max_wait` seconds away."""
        with self._lock:
            now = self._clock()
            earliest = now if resumed else max(now, self._paused_until)
            start = earliest
            if self._rate is not None:
                interval = 1.0 / self._rate
                arrival = max(self._tat, earliest)
                start = max(earliest, arrival - (self._allowed_burst() - 1) * interval)
                if start - now > max_wait:
                    raise self._refusal(start - now)
                self._tat = arrival + interval
                if start > earliest and self._last_turn is not None:  # callers queue
                    self._grow(min(1.0, now - self._last_turn))
                self._last_turn = now
            elif start - now > max_wait:
                raise self._refusal(start - now)
            wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def accepted(self) -> None:
        """A call got an answer that was not a throttle (it counted against the limit)."""
        with self._lock:
            self._accepted.append(self._clock())
            self._trim(self._clock())

    def throttled(self, sent_at: float, pause: float) -> None:
        """A call sent at `sent_at` (this limiter's clock) was throttled; the provider asks for
        `pause` seconds."""
        with self._lock:
            now = self._clock()
            self.throttles += 1
            self._paused_until = max(self._paused_until, now + max(0.0, pause))
            if sent_at < self._cut_at:
                return  # sent before the last cut, which already answered this burst
            self._trim(now)
            taken = len(self._accepted)
            if taken:
                new = self.MARGIN * taken
                if self._rate is not None:
                    new = min(new, self.BACKOFF * self._rate)
                self._taken = taken
            elif self._rate is not None:
                new = self.BACKOFF * self._rate
            else:
                return  # nothing accepted to learn from: the pause is all
            self._rate = max(self.FLOOR, new)
            self._cut_at = now
        logger.warning(
            "crm rate limited",
            extra={
                "kind": "crm",
                "provider": self.name,
                "rate_per_s": round(self._rate, 2),
                "pause_s": round(pause, 3),
            },
        )

    def _grow(self, seconds: float) -> None:
        assert self._rate is not None
        cruising = self._taken is not None and self._rate >= self.MARGIN * self._taken
        grown = self._rate * (1 + (self.PROBE if cruising else self.GROWTH) * seconds)
        if self._taken is not None and grown > self._taken:
            self._taken = None  # past the old limit without a 429: it has risen
        self._rate = min(grown, self._ceiling) if self._ceiling else grown

    def _allowed_burst(self) -> int:
        """How many calls may go at once after a lull: the documented burst; for a learnt
        limit, half the room left under it (what the provider took before its 429, less the
        rate: no second holds more than rate + burst), at least one."""
        if self._taken is None or self._rate is None:
            return self._burst
        return max(1, int(self._taken - self._rate) // 2)

    def _trim(self, now: float) -> None:
        while self._accepted and now - self._accepted[0] >= self.WINDOW:
            self._accepted.popleft()

    def _refusal(self, wait: float) -> RateLimited:
        return RateLimited(
            self.name,
            f"not sent: its turn under the rate limit is {wait:.1f} s away",
            status=None,
            retry_after=wait,
        )

    def __repr__(self) -> str:
        return f"RateLimiter(name={self.name!r}, rate={self._rate!r})"


_LIMITERS: OrderedDict[str, RateLimiter] = OrderedDict()
_LIMITERS_LOCK = threading.Lock()
_MAX_LIMITERS = 256


def shared_limiter(
    provider: str, base_url: str, secrets: Iterable[str], limit: RateLimit | None = None
) -> RateLimiter:
    """The process's limiter for one provider account (base URL and credentials): every client
    of that account, in any thread, waits its turn on the same one. Keyed by a digest of the
    credentials, never the credentials themselves."""
    digest = hashlib.sha256()
    for secret in sorted(s for s in secrets if s):
        digest.update(secret.encode())
        digest.update(b"\0")
    key = f"{provider} {base_url} {digest.hexdigest()[:32]}"
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RateLimiter(limit, name=provider)
            while len(_LIMITERS) > _MAX_LIMITERS:
                _LIMITERS.popitem(last=False)
        _LIMITERS.move_to_end(key)
        return limiter


def reset_limiters() -> None:
    """Forget every learnt limit and pause (tests)."""
    with _LIMITERS_LOCK:
        _LIMITERS.clear()
