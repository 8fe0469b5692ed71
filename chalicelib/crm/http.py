"""The one HTTP core every CRM client uses.

- One `requests.Session` per client, connect and read timeouts, no redirects followed (a redirect
  could carry an auth header to another host).
- Retries with exponential backoff and full jitter on 429, 5xx, connection errors and timeouts (and
  on whatever a client's `throttled` hook recognises, e.g. Salsa's throttle inside a 200), honouring
  `Retry-After` (seconds, or an HTTP date) when present; a bounded number of attempts and a bounded
  total sleep. `sleep` and `rand` are injectable so tests run fast.
- Pacing (`RateLimiter`): every call first waits for its turn under the provider account's rate
  limit, one limiter per provider, base URL and credentials, shared by every client and thread of
  the process. The limit is the provider's documented one when there is one (Salsa), else learnt
  from its 429s; a 429's `Retry-After` pauses every caller of that account, not only the one that
  got it. A call whose turn is too far away is refused, before it is sent, as `RateLimited`.
- A deadline (`with deadline(t):`) for callers with a hard stop: no wait for a turn and no sleep
  before a retry runs past it.
- An allow-list: a client declares, in one place, the endpoints (method + path template) it may
  call. `HttpCore.request` takes a method and a *template* plus path parameters and refuses,
  before any network I/O, anything not on the list. The endpoints that create, merge or delete a
  person in a CRM (`NEVER_CALL`) can never be put on a list: the core refuses to be built with one.
  An endpoint may carry a `guard` that vets the JSON body before anything is sent.
- Errors become the exceptions of `chalicelib.crm.errors`, with the provider's message made safe.

This is the only module of the package that imports `requests` at module level, together with the
client modules that import it; nothing outside `chalicelib.crm` should import them at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypedDict
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from chalicelib.crm.errors import (
    CredentialsRejected,
    DeadlineExceeded,
    EndpointNotAllowed,
    OutcomeUnknown,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)
from chalicelib.observability import logger

Guard = Callable[[Any], str | None]
"""Vets a JSON body: returns None when it may be sent, else the reason it may not."""

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class Endpoint:
    """One callable endpoint: an HTTP method and a path template like ``/people/{vanId}``."""

    method: str
    path: str
    guard: Guard | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.method != self.method.upper() or not self.method.isalpha():
            raise ValueError(f"bad HTTP method {self.method!r}")
        if not self.path.startswith("/") or "?" in self.path or "//" in self.path:
            raise ValueError(f"bad path template {self.path!r}")
        for segment in self.segments:
            if ("{" in segment or "}" in segment) and not _PARAM.match(segment):
                raise ValueError(f"bad path template {self.path!r}")

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/")) if self.path != "/" else ()

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(m.group(1) for s in self.segments if (m := _PARAM.match(s)))

    def overlaps(self, other: Endpoint) -> bool:
        """Could one concrete request match both templates?"""
        if self.method != other.method or len(self.segments) != len(other.segments):
            return False
        return all(
            a == b or _PARAM.match(a) is not None or _PARAM.match(b) is not None
            for a, b in zip(self.segments, other.segments, strict=True)
        )

    def matches_path(self, method: str, path: str) -> bool:
        """Does a concrete (already substituted, unquoted) path match this template?"""
        parts = tuple(path.strip("/").split("/")) if path.strip("/") else ()
        if method != self.method or len(parts) != len(self.segments):
            return False
        return all(
            a == b or (_PARAM.match(a) is not None and b != "")
            for a, b in zip(self.segments, parts, strict=True)
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


NEVER_CALL: Mapping[str, tuple[Endpoint, ...]] = {
    # NGP VAN: findOrCreate and its alias, merges, deletes, bulk imports (CreateOrUpdateContact).
    "van": (
        Endpoint("POST", "/people/findOrCreate"),
        Endpoint("POST", "/people/{vanId}"),
        Endpoint("PUT", "/people/{vanId}/mergeInto"),
        Endpoint("DELETE", "/people/{vanId}"),
        Endpoint("POST", "/bulkImportJobs"),
        Endpoint("POST", "/bulkImportJobs/{jobId}"),
        Endpoint("POST", "/bulkImportMappingTypes"),
    ),
    # PDI: creating or changing a contact, or adding phones, e-mails, addresses to one.
    "pdi": (
        Endpoint("POST", "/contacts"),
        Endpoint("PUT", "/contacts/{id}"),
        Endpoint("DELETE", "/contacts/{id}"),
        Endpoint("POST", "/contacts/{id}/phones"),
        Endpoint("POST", "/contacts/{id}/emails"),
        Endpoint("POST", "/contacts/{id}/addresses"),
    ),
    # Salsa: creating segments, merging or deleting supporters.
    "salsa": (
        Endpoint("PUT", "/segments"),
        Endpoint("POST", "/supporters/merge"),
        Endpoint("DELETE", "/supporters"),
    ),
}
"""Endpoints that create, merge or delete a person: never on any allow-list."""

GUARD_REQUIRED: tuple[Endpoint, ...] = (Endpoint("PUT", "/supporters"),)
"""Endpoints that add a person unless the body says otherwise: only allowed with a guard."""


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


def _time_left() -> float | None:
    at: float | None = getattr(_deadlines, "at", None)
    return None if at is None else max(0.0, at - time.monotonic())


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]

    def object(self, provider: str) -> dict[str, Any]:
        """The body as a JSON object, or PermanentCrmError."""
        if not isinstance(self.body, dict):
            raise PermanentCrmError(provider, "unexpected response shape", status=self.status)
        return self.body

    def array(self, provider: str) -> list[Any]:
        if not isinstance(self.body, list):
            raise PermanentCrmError(provider, "unexpected response shape", status=self.status)
        return self.body


class NoAuth(AuthBase):
    """Explicitly no authentication (e.g. PDI's sign-in call)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r

    def __repr__(self) -> str:
        return "NoAuth()"


_MIN_CALL_SECONDS = 0.25
_CREDENTIAL_HEADERS = {"authorization", "authtoken", "x-api-key", "api-key", "token"}
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def _maybe_sent(exc: Exception) -> bool:
    """Whether a failed request may have reached the server (so a retry could repeat it)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        text = repr(exc)
        return not ("NewConnectionError" in text or "Connection refused" in text)
    return True


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


def default_error_text(body: Any) -> str | None:
    """Best effort: a `message`, or a string body."""
    if isinstance(body, dict):
        for key in ("message", "Message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body
    return None


def check_base_url(base_url: str) -> str:
    """HTTPS only (plain HTTP is allowed to a loopback host: tests, the local stack)."""
    parts = urlsplit(base_url)
    if parts.username or parts.password:
        raise ValueError("the CRM base URL must not carry credentials")
    if not parts.hostname:
        raise ValueError("the CRM base URL needs a host")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise ValueError("the CRM base URL must be https")
    if parts.query or parts.fragment:
        raise ValueError("the CRM base URL must not carry a query")
    return base_url.rstrip("/")


class HttpCore:
    """HTTP to one provider: allow-list, auth, timeouts, retries and error translation."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        endpoints: Iterable[Endpoint],
        auth: AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Callable[[], Iterable[str]] = lambda: (),
        error_text: Callable[[Any], str | None] = default_error_text,
        throttled: Callable[[int, Any], bool] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        session: requests.Session | None = None,
        rate_limit: RateLimit | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = check_base_url(base_url)
        self._endpoints = tuple(endpoints)
        for endpoint in self._endpoints:
            for forbidden in (e for group in NEVER_CALL.values() for e in group):
                if endpoint.overlaps(forbidden):
                    raise EndpointNotAllowed(provider, f"{endpoint} (creates or merges a person)")
            for guarded in GUARD_REQUIRED:
                if endpoint.overlaps(guarded) and endpoint.guard is None:
                    raise EndpointNotAllowed(provider, f"{endpoint} without a guard")
        self._allowed = {(e.method, e.path): e for e in self._endpoints}
        self._auth: AuthBase = auth if auth is not None else NoAuth()
        self._secrets = secrets
        self._error_text = error_text
        self._throttled = throttled
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._sleep = time.sleep if sleep is None else sleep
        self._rand = random.random if rand is None else rand
        self.limiter = limiter or shared_limiter(provider, self.base_url, secrets(), rate_limit)
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=10, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Accept": "application/json"})
        if headers:
            self._session.headers.update(headers)

    # -- the allow-list -----------------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return self._endpoints

    def _resolve(
        self, method: str, template: str, path_params: Mapping[str, str | int] | None, body: Any
    ) -> str:
        endpoint = self._allowed.get((method, template))
        if endpoint is None:
            raise EndpointNotAllowed(self.provider, f"{method} {template} (not on the allow-list)")
        given = dict(path_params or {})
        if set(given) != set(endpoint.params):
            raise EndpointNotAllowed(self.provider, f"{endpoint} with the wrong path parameters")
        concrete: list[str] = []
        for segment in endpoint.segments:
            m = _PARAM.match(segment)
            if m is None:
                concrete.append(segment)
                continue
            value = str(given[m.group(1)])
            if value.strip() in ("", ".", "..") or "/" in value or "\\" in value:
                raise EndpointNotAllowed(self.provider, f"{endpoint} with a malformed parameter")
            concrete.append(value)
        path = "/" + "/".join(concrete)
        for forbidden in (e for group in NEVER_CALL.values() for e in group):
            if forbidden.matches_path(method, path):
                raise EndpointNotAllowed(self.provider, f"{method} {template} (creates a person)")
        if endpoint.guard is not None:
            reason = endpoint.guard(body)
            if reason is not None:
                raise EndpointNotAllowed(self.provider, f"{endpoint}: {reason}")
        return "/" + "/".join(quote(part, safe="") for part in concrete)

    def check(
        self,
        method: str,
        template: str,
        path_params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> None:
        """Raise EndpointNotAllowed if `request` would refuse this call (no I/O)."""
        self._resolve(method, template, path_params, body)

    def params_from_link(self, link: str, template: str) -> dict[str, str]:
        """The query of a provider's "next page" link, if it points back at `template` on our
        own host; anything else is refused (following it could send our credentials away)."""
        target = urlsplit(urljoin(self.base_url + "/", link))
        base = urlsplit(self.base_url)
        expected = base.path.rstrip("/") + template
        if (target.scheme, target.netloc) != (base.scheme, base.netloc) or target.path != expected:
            raise PermanentCrmError(self.provider, "refused a next-page link to another location")
        return dict(parse_qsl(target.query, keep_blank_values=True))

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: Collection[int] = (),
        authenticate: bool = True,
        idempotent: bool = True,
    ) -> Reply:
        """Call an allowed endpoint. Returns 2xx replies (and any status in `accept`); raises
        `CrmError` subclasses for everything else, `EndpointNotAllowed` before any I/O.

        A write that is not `idempotent` is retried only when it surely did not arrive
        (no connection, 429, 5xx); a read timeout after sending it raises OutcomeUnknown."""
        path = self._resolve(method, template, path_params, body)
        url = self.base_url + path
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": "application/json"} if data is not None else {}
        slept = 0.0
        attempt = 0
        resumed = False  # after a throttle this caller slept out itself
        while True:
            attempt += 1
            left = _time_left()
            max_wait = (
                self.retry.max_queue_wait if left is None else min(left, self.retry.max_queue_wait)
            )
            self.limiter.acquire(max_wait, resumed=resumed)
            resumed = False
            sent_at = self.limiter.now()
            left = _time_left()
            if left is not None and left < _MIN_CALL_SECONDS:
                raise DeadlineExceeded(
                    self.provider, f"{method} {template}: no time left to ask the provider"
                )
            connect, read = self.timeouts.connect, self.timeouts.read
            if left is not None:  # one call never outlasts the caller's deadline
                connect, read = min(connect, left), min(read, left)
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth if authenticate else NoAuth(),
                    timeout=(connect, read),
                    allow_redirects=False,
                )
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                what = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                after = _time_left()
                if isinstance(exc, requests.Timeout) and after is not None and after < 0.5:
                    raise DeadlineExceeded(
                        self.provider, f"{method} {template} did not answer in time"
                    ) from None
                if not idempotent and _maybe_sent(exc):
                    raise OutcomeUnknown(
                        self.provider,
                        f"{method} {template} {what} after it was sent: it may have arrived",
                    ) from None
                delay = self.retry.backoff(attempt, self._rand)
                if self._may_retry(attempt, delay, slept):
                    self._log_retry(method, template, attempt, delay, what)
                    self._sleep(delay)
                    slept += delay
                    continue
                raise TransientCrmError(
                    self.provider, f"{method} {template} {what} after {attempt} attempt(s)"
                ) from None
            except requests.RequestException as exc:
                raise PermanentCrmError(
                    self.provider, f"{method} {template} failed: {type(exc).__name__}"
                ) from None

            status = response.status_code
            reply = Reply(status, _parse_body(response), dict(response.headers))
            throttled = self._throttled is not None and self._throttled(status, reply.body)
            if not throttled and (status in accept or 200 <= status < 300):
                self.limiter.accepted()
                return reply
            if status >= 500 and not idempotent and not throttled:
                # a 5xx does not prove the write did not land: never sent again by itself
                self.limiter.accepted()
                raise OutcomeUnknown(
                    self.provider,
                    f"{method} {template} answered HTTP {status}: it may have arrived",
                    status=status,
                )
            if status == 429 or throttled or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    delay = retry_after
                else:
                    delay = self.retry.backoff(attempt, self._rand)
                if status == 429 or throttled:
                    self.limiter.throttled(sent_at, delay)
                else:
                    self.limiter.accepted()
                if self._may_retry(attempt, delay, slept):
                    self._log_retry(method, template, attempt, delay, f"HTTP {status}")
                    self._sleep(delay)
                    slept += delay
                    resumed = status == 429 or throttled
                    continue
                message = self.safe_message(reply.body, status)
                if status == 429 or throttled:
                    raise RateLimited(
                        self.provider,
                        f"rate limited after {attempt} attempt(s): {message}",
                        status=status,
                        retry_after=retry_after,
                    )
                raise TransientCrmError(
                    self.provider, f"failed after {attempt} attempt(s): {message}", status=status
                )
            self.limiter.accepted()
            message = self.safe_message(reply.body, status)
            if status in (401, 403):
                raise CredentialsRejected(self.provider, message, status=status)
            if 300 <= status < 400:
                raise PermanentCrmError(self.provider, "unexpected redirect", status=status)
            raise PermanentCrmError(self.provider, message, status=status)

    def _may_retry(self, attempt: int, delay: float, slept: float) -> bool:
        left = _time_left()
        if left is not None and delay > left:
            return False
        return attempt < self.retry.max_attempts and slept + delay <= self.retry.max_total_sleep

    def _log_retry(self, method: str, template: str, attempt: int, delay: float, why: str) -> None:
        logger.warning(
            "crm retry",
            extra={
                "kind": "crm",
                "provider": self.provider,
                "method": method,
                "endpoint": template,  # the template: never a person's id, never a credential
                "attempt": attempt,
                "sleep_s": round(delay, 3),
                "reason": why,
            },
        )

    def safe_message(self, body: Any, status: int | None = None) -> str:
        """The provider's explanation, with every credential we know of blanked out."""
        text = None
        try:
            text = self._error_text(body)
        except Exception:  # a malformed error body must not hide the error itself
            text = None
        if not text:
            text = f"HTTP {status}" if status is not None else "no explanation given"
        return self.redact(text)

    def _credential_forms(self) -> list[str]:
        """Every form a credential may come back in: each secret, and each value the
        client's auth sends (an Authorization header), with their base64 and URL-encoded
        forms."""
        values = {s for s in self._secrets() if s}
        try:
            prepared = requests.Request("GET", self.base_url + "/", auth=self._auth).prepare()
            headers = {**self._session.headers, **prepared.headers}
        except Exception:  # an auth that needs I/O: its secrets are listed anyway
            headers = dict(self._session.headers)
        for name, value in headers.items():
            if name.lower() in _CREDENTIAL_HEADERS and isinstance(value, str) and value:
                values.add(value)
                values.add(value.split(" ", 1)[-1])
        forms = set(values)
        for value in values:
            forms.add(quote(value, safe=""))
            encoded = base64.b64encode(value.encode()).decode()
            forms.update(
                {encoded, encoded.rstrip("="), base64.urlsafe_b64encode(value.encode()).decode()}
            )
        return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every credential blanked out, in clear or encoded; any base64 run
        that decodes to text holding a secret is blanked too."""
        forms = self._credential_forms()
        for form in forms:
            text = text.replace(form, "***")
        secrets = [s for s in self._secrets() if s and len(s) >= 4]
        if secrets:

            def hides_secret(match: re.Match[str]) -> str:
                token = match.group(0)
                for candidate in (token, token.replace("-", "+").replace("_", "/")):
                    padded = candidate + "=" * (-len(candidate) % 4)
                    try:
                        decoded = base64.b64decode(padded).decode("utf-8", "ignore")
                    except (ValueError, binascii.Error):
                        continue
                    if any(secret in decoded for secret in secrets):
                        return "***"
                return token

            text = _BASE64_RUN.sub(hides_secret, text)
        text = " ".join(text.split())
        if len(text) > _MAX_MESSAGE:
            text = text[: _MAX_MESSAGE - 1] + "…"
        return text

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return (
            f"HttpCore(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"endpoints={len(self._endpoints)})"
        )


def _parse_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def redacted(value: str) -> str:
    """What a repr shows in place of a credential."""
    return "***" if value else "''"


class Transport(TypedDict, total=False):
    """How a client reaches its provider, passed on to its `HttpCore` as given. Each has a
    default; tests inject `sleep`, `rand` and short timeouts."""

    timeouts: Timeouts | None
    retry: RetryPolicy | None
    sleep: Callable[[float], None] | None
    rand: Callable[[], float] | None
    session: requests.Session | None


class ClientBase:
    """What every provider client shares: its core, closing, and use as a context manager."""

    _core: HttpCore

    @property
    def core(self) -> HttpCore:
        return self._core

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
