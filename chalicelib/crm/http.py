"""The one HTTP core every CRM client uses.

- One `requests.Session` per client, connect and read timeouts, no redirects followed (a redirect
  could carry an auth header to another host).
- Retries with exponential backoff and full jitter on 429, 5xx, connection errors and timeouts (and
  on whatever a client's `throttled` hook recognises, e.g. Salsa's throttle inside a 200), honouring
  `Retry-After` (seconds, or an HTTP date) when present; a bounded number of attempts and a bounded
  total sleep. `sleep` and `rand` are injectable so tests run fast.
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

import json
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from chalicelib.crm.errors import (
    CredentialsRejected,
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

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("bad retry policy")
        if self.max_total_sleep < 0:
            raise ValueError("bad retry policy")

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return max(0.0, min(1.0, rand())) * ceiling


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
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
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
        self._sleep = sleep
        self._rand = rand
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
        while True:
            attempt += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=self._auth if authenticate else NoAuth(),
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    allow_redirects=False,
                )
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                what = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
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
            if status in accept and not throttled:
                return reply
            if 200 <= status < 300 and not throttled:
                return reply
            if status == 429 or throttled or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    delay = retry_after
                else:
                    delay = self.retry.backoff(attempt, self._rand)
                if self._may_retry(attempt, delay, slept):
                    self._log_retry(method, template, attempt, delay, f"HTTP {status}")
                    self._sleep(delay)
                    slept += delay
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
            message = self.safe_message(reply.body, status)
            if status in (401, 403):
                raise CredentialsRejected(self.provider, message, status=status)
            if 300 <= status < 400:
                raise PermanentCrmError(self.provider, "unexpected redirect", status=status)
            raise PermanentCrmError(self.provider, message, status=status)

    def _may_retry(self, attempt: int, delay: float, slept: float) -> bool:
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

    def redact(self, text: str) -> str:
        for secret in sorted((s for s in self._secrets() if s), key=len, reverse=True):
            text = text.replace(secret, "***")
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
