"""The one HTTP core every CRM client uses. Its parts live beside it: the allow-list in
`endpoints`, timeouts, retries and deadlines in `retries`, pacing in `ratelimit`.

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
import json
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypedDict
from urllib.parse import SplitResult, parse_qsl, quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from chalicelib.crm.endpoints import (
    GUARD_REQUIRED,
    NEVER_CALL,
    PATH_PARAM,
    Endpoint,
    check_base_url,
)
from chalicelib.crm.errors import (
    CredentialsRejected,
    DeadlineExceeded,
    EndpointNotAllowed,
    OutcomeUnknown,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)
from chalicelib.crm.ratelimit import RateLimit, RateLimiter, shared_limiter
from chalicelib.crm.retries import RetryPolicy, Timeouts, parse_retry_after, time_left
from chalicelib.observability import logger

_MAX_MESSAGE = 300


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


def default_error_text(body: Any) -> str | None:
    """Best effort: a `message`, or a string body."""
    if isinstance(body, dict):
        for key in ("message", "Message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body
    return None


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
            m = PATH_PARAM.match(segment)
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
        try:
            same = _origin(target) == _origin(base) and not target.username
        except ValueError:  # a port that is not a number
            same = False
        if not same or target.path != expected:
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
            left = time_left()
            max_wait = (
                self.retry.max_queue_wait if left is None else min(left, self.retry.max_queue_wait)
            )
            self.limiter.acquire(max_wait, resumed=resumed)
            resumed = False
            sent_at = self.limiter.now()
            left = time_left()
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
                after = time_left()
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
        left = time_left()
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


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: SplitResult) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: `https://h/` and `https://h:443/` are one origin."""
    return (url.scheme, (url.hostname or "").lower(), url.port or _DEFAULT_PORTS.get(url.scheme))


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
