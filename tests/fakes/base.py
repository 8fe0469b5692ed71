"""Fake NGP VAN, PDI and Salsa Engage servers, on real sockets.

Each fake is an `http.server.ThreadingHTTPServer` on 127.0.0.1 (a free port) that enforces what
the shared CRM notes (crm/README.md) describe: authentication, field names, required fields,
status codes and error shapes. Use one as a context manager (or `start()` / `stop()`) and
point a client at `fake.url`::

    with FakeVan() as van:
        client = VanClient(van.url, van.credentials)
        ...
        assert van.calls_to("POST", r"/people/\\d+/canvassResponses")
        van.assert_no_forbidden_calls()

Control API (every fake):
- faults: `fail_next(status, times=, method=, path=, retry_after=, body=)` answers the next matching
  calls with `status` (429 with `Retry-After`, 500s...); `slow_next(seconds, ...)` answers them
  late (beyond a client's read timeout); `reject_credentials(reason)` / `accept_credentials()`;
  `clear_faults()`. `path` is a regular expression matched against the path below the base URL.
- load: `set_rate_limit(per_second, retry_after=1)` answers 429 with `Retry-After` once more than
  `per_second` calls arrive within a second (None switches it off); `set_delay(seconds)` delays
  every answer.
- people: `add_person(id)`, `remove_person(id)` (unknown people get the provider's "not found").
- recorded calls: `calls` (every call: method, path, query, headers with secrets redacted, parsed
  body, status), `calls_to(method, path_regex)`, `forbidden_calls`, `assert_no_forbidden_calls()`,
  `clear_calls()`.
- Any endpoint that would create, merge or delete a person answers 418 with a loud message, is
  printed to stderr and is recorded with `forbidden=True`.

Provider extras: `FakeVan.canvass_responses`; `FakePdi.flags`, `FakePdi.expire_tokens()`,
`FakePdi.sign_ins`, `token_ttl`; `FakeSalsa.segment_members`, `FakeSalsa.custom_fields`,
`FakeSalsa.unmanaged_segments`, `FakeSalsa.refused_fields`,
`FakeSalsa.throttle_in_body_next(times)`, `set_rate_limit(..., in_body=True)`.

What each fake models from the providers' public material and the client code the field runs
(Parsons, Spoke, goengage, Salsa's own examples), and what that material does not settle, is
written in its own module: `tests.fakes.van`, `tests.fakes.pdi`, `tests.fakes.salsa`. This
module holds what they share: the server, its control API and the recorded calls.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

SECRET_HEADERS = frozenset({"authorization", "authtoken", "cookie", "x-api-key"})


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str  # below the base URL, e.g. "/people/1001"
    query: dict[str, str]
    headers: dict[str, str]  # secrets redacted: "Basic <redacted>", "<redacted>"
    body: Any  # parsed JSON (or the raw text when it was not JSON)
    status: int | None = None
    forbidden: bool = False
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    status: int | None = None
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: str | None = None
    body: Any = None
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.fullmatch(self.path, path) is not None


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Route = tuple[str, "re.Pattern[str]", Callable[..., Answer]]


def _redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} <redacted>".strip()
        else:
            out[name] = value
    return out


def is_date_time(value: Any) -> bool:
    """An ISO date and time ("2026-11-01T00:00:00"), as PDI's flags want it."""
    return isinstance(value, str) and "T" in value and is_date(value)


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 10:
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    if len(value) > 10:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    return True


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is part of the game, not an error to print.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class FakeCrmServer:
    """What every fake shares: the socket server, recording, faults, rate limit and delay."""

    provider = ""
    base_path = ""

    def __init__(
        self,
        *,
        page_size: int = 2,
        delay: float = 0.0,
        rate_limit: int | None = None,
        rate_limit_retry_after: float = 1,
    ) -> None:
        self.page_size = page_size
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._window: deque[float] = deque()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.delay = delay
        self.rate_limit = rate_limit
        self.rate_limit_retry_after = rate_limit_retry_after
        self.rate_limit_in_body = False
        self.rejected_reason: str | None = None
        self.next_link_origin: str | None = None  # VAN: make nextPageLink point elsewhere

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive

            def _any(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake is not running")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL to give a client (what VAN_API_URL etc. would hold)."""
        return self.origin + self.base_path

    @property
    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- control ------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | str | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` matching calls with `status` (and `Retry-After`, `body`)."""
        with self._lock:
            self._faults.append(
                Fault(
                    status=status,
                    times=times,
                    method=method,
                    path=path,
                    retry_after=None if retry_after is None else str(retry_after),
                    body=body,
                )
            )

    def slow_next(
        self,
        seconds: float,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` matching calls only after `seconds` (then normally)."""
        with self._lock:
            self._faults.append(Fault(delay=seconds, times=times, method=method, path=path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reject_credentials(self, reason: str | None = None) -> None:
        """Refuse every credential from now on, with `reason` as the provider's message."""
        self.rejected_reason = reason or self.default_reject_reason

    def accept_credentials(self) -> None:
        self.rejected_reason = None

    def set_rate_limit(
        self, per_second: int | None, *, retry_after: float = 1, in_body: bool = False
    ) -> None:
        """At most `per_second` calls within any second; beyond: 429 with Retry-After (or, for
        Salsa with `in_body`, a 200 whose body carries the throttle message)."""
        if in_body and self.provider != "salsa":
            raise ValueError("only Salsa throttles inside a 200 body")
        with self._lock:
            self.rate_limit = per_second
            self.rate_limit_retry_after = retry_after
            self.rate_limit_in_body = in_body
            self._window.clear()

    def set_delay(self, seconds: float) -> None:
        """Delay every answer by `seconds`."""
        self.delay = seconds

    # -- recorded calls -----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str | None = None, path: str | None = None) -> list[Call]:
        """Recorded calls with this method and a path matching the regex `path`."""
        return [
            c
            for c in self.calls
            if (method is None or c.method == method)
            and (path is None or re.fullmatch(path, c.path) is not None)
        ]

    @property
    def forbidden_calls(self) -> list[Call]:
        return [c for c in self.calls if c.forbidden]

    def assert_no_forbidden_calls(self) -> None:
        bad = self.forbidden_calls
        assert not bad, f"{self.provider}: person-creating endpoints were called: " + ", ".join(
            f"{c.method} {c.path}" for c in bad
        )

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # -- provider hooks -----------------------------------------------------------------------

    default_reject_reason = "Unauthorized"

    def _routes(self) -> list[Route]:
        raise NotImplementedError

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        raise NotImplementedError

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        raise NotImplementedError

    def _error(self, status: int, text: str, code: str | None = None) -> Answer:
        return Answer(status, {"message": text})

    def _throttle_body(self) -> Answer:
        raise NotImplementedError

    def _default_fault_text(self, status: int) -> str:
        if status == 429:
            return "Too many requests"
        if status >= 500:
            return "Internal server error"
        return f"HTTP {status}"

    # -- the request path ---------------------------------------------------------------------

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, bad_json = raw.decode("utf-8", "replace"), True
        method = h.command
        inside = split.path.startswith(self.base_path)
        path = (split.path[len(self.base_path) :] or "/") if inside else split.path
        headers = dict(h.headers.items())
        call = Call(method, path, query, _redact_headers(h.headers.items()), body)
        with self._lock:
            self._calls.append(call)
        if inside:
            answer = self._answer(method, path, query, headers, body, bad_json, call)
        else:
            answer = self._error(404, f"No such endpoint: {method} {split.path}", "NOT_FOUND")
        call.status = answer.status
        self._send(h, answer)

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        bad_json: bool,
        call: Call,
    ) -> Answer:
        reason = self._forbidden(method, path, body)
        if reason is not None:
            call.forbidden = True
            message = f"FORBIDDEN ENDPOINT CALLED: {method} {path}: {reason}"
            print(f"\n!!! fake {self.provider}: {message}", file=sys.stderr)
            return self._error(418, message, "FORBIDDEN_ENDPOINT")

        if self.delay:
            self._stopping.wait(self.delay)

        with self._lock:
            if self.rate_limit is not None:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit:
                    if self.rate_limit_in_body:
                        return self._throttle_body()
                    answer = self._error(429, self._default_fault_text(429), "RATE_LIMITED")
                    answer.headers["Retry-After"] = f"{self.rate_limit_retry_after:g}"
                    return answer
                self._window.append(now)
            fault = next((f for f in self._faults if f.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)

        if fault is not None:
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.status is not None:
                if fault.body is not None:
                    answer = Answer(fault.status, fault.body)
                else:
                    answer = self._error(fault.status, self._default_fault_text(fault.status))
                if fault.retry_after is not None:
                    answer.headers["Retry-After"] = fault.retry_after
                return answer

        if bad_json:
            return self._error(400, "The request body is not valid JSON", "INVALID_JSON")
        denied = self._authenticate(method, path, headers)
        if denied is not None:
            return denied
        for route_method, pattern, handler in self._routes():
            match = pattern.fullmatch(path)
            if match and route_method == method:
                with self._lock:
                    return handler(match, query, body)
        if any(p.fullmatch(path) for _, p, _ in self._routes()):
            return self._error(405, f"{method} is not allowed on {path}")
        return self._error(404, f"No such endpoint: {method} {path}", "NOT_FOUND")

    def _send(self, h: BaseHTTPRequestHandler, answer: Answer) -> None:
        empty = answer.status == 204 or answer.body is None
        data = b"" if empty else json.dumps(answer.body).encode()
        try:
            h.send_response(answer.status)
            if data:
                h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                h.send_header(name, value)
            h.end_headers()
            if data:
                h.wfile.write(data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True


def route(method: str, pattern: str, handler: Callable[..., Answer]) -> Route:
    return (method, re.compile(pattern), handler)


def basic_auth(headers: dict[str, str]) -> tuple[str, str] | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if not value.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)
