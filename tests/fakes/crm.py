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

What the fakes model from the providers' public material and the client code the field runs
(Parsons, Spoke, goengage, Salsa's own examples):
- PDI ids are opaque (16 bytes in base64, `pdi_id`): flags, questions, acquisition types.
  `flagEntryDate` must be an ISO date and time (`2026-11-01T00:00:00`): a bare date is
  refused. One bad flag refuses its whole `POST /flags` array (400).
- VAN's `nextPageLink` is absolute and names the fake's port; VAN's own links name `:443`
  outright (the clients' tests cover both). Contact types carry `channelTypeName` (Phone,
  Walk, Text, Other: SMS Text is "Text"), and a Phone or Text contact wants a phone.
- Salsa answers each supporter of a segment add (ADDED, UPDATED when already a member,
  NOT_FOUND, NOT_ALLOWED for a segment the API may not manage) and reports a refused custom
  field on the field (`customFieldValues[].errors`) of an UPDATED supporter.

Not settled by public material, so modelled as the best evidence suggests (whoever holds a
real account should confirm them; the README's CRM section lists them too):
- PDI: the body of a `POST /flags` answer; whether one bad flag refuses the whole array
  (public clients behave as if it does); the largest array it takes (200 is what field code
  sends); whether a bare `flagEntryDate` is refused (one client's authors say so).
- VAN: whether a phone is still required for Phone and Text contact types (Parsons stopped
  requiring it in 2024; it is sent whenever the list row has one); which time zone VAN reads
  a `dateCanvassed` in (the campaign's local day is sent, without a time).
- Salsa: every result a segment add may give (ADDED, UPDATED and NOT_ALLOWED are goengage's
  constants); whether a non-CRM segment answers per item or with HTTP 405 (its docs say 405);
  whether `PUT /supporters` with only `supporterId` and custom fields needs the e-mail too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

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


def _is_date_time(value: Any) -> bool:
    """An ISO date and time ("2026-11-01T00:00:00"), as PDI's flags want it."""
    return isinstance(value, str) and "T" in value and _is_date(value)


def _is_date(value: Any) -> bool:
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


def _int(value: Any) -> int | None:
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


def _route(method: str, pattern: str, handler: Callable[..., Answer]) -> Route:
    return (method, re.compile(pattern), handler)


def _basic_auth(headers: dict[str, str]) -> tuple[str, str] | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if not value.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


# ----------------------------------------------------------------------------------------------
# NGP VAN
# ----------------------------------------------------------------------------------------------


class FakeVan(FakeCrmServer):
    """NGP VAN API v4 under ``/v4``: Basic auth ``application_name`` / ``"{api_key}|{db_mode}"``."""

    provider = "van"
    base_path = "/v4"
    default_reject_reason = "Authorization has been denied for this request."

    def __init__(
        self,
        *,
        application_name: str = "vo-test-app",
        api_key: str = "van-test-key-5f1c2a9e",
        db_mode: int = 1,
        people: Iterable[int] = (1001, 1002, 1003),
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.application_name = application_name
        self.api_key = api_key
        self.db_mode = db_mode
        self.people: dict[int, dict[str, Any]] = {}
        for van_id in people:
            self.add_person(van_id)
        self.canvass_responses: list[tuple[int, dict[str, Any]]] = []
        self.activist_codes = [
            _ac(4482459, "Volunteer: Canvass"),
            _ac(4482460, "Volunteer: Phone bank"),
            _ac(4482461, "Yard sign"),
            _ac(4482462, "Event attendee"),
            _ac(4482463, "Donor prospect"),
            _ac(4482464, "Old code", status="Archived"),
        ]
        self.survey_questions = [
            _sq(378552, "Measure A", [(1555791, "Yes"), (1555792, "No"), (1555793, "Undecided")]),
            _sq(378553, "Support level", [(1555801, "1 Strong"), (1555802, "2 Lean")]),
            _sq(378554, "Volunteer?", [(1555811, "Yes"), (1555812, "No")]),
            _sq(378555, "Retired question", [(1555821, "Yes")], status="Archived"),
        ]
        self.result_codes = [
            {"resultCodeId": 1, "name": "Busy", "mediumName": "Busy", "shortName": "BZ"},
            {"resultCodeId": 2, "name": "Left Message", "mediumName": "LM", "shortName": "LM"},
            {"resultCodeId": 4, "name": "Not Home", "mediumName": "NH", "shortName": "NH"},
            {"resultCodeId": 5, "name": "Refused", "mediumName": "Ref", "shortName": "RF"},
            {"resultCodeId": 18, "name": "Wrong Number", "mediumName": "WN", "shortName": "WN"},
            {"resultCodeId": 20, "name": "Moved", "mediumName": "Moved", "shortName": "MV"},
            {"resultCodeId": 3, "name": "Deceased", "mediumName": "Dec", "shortName": "DC"},
        ]
        self.contact_types = [
            {"contactTypeId": 1, "name": "Phone", "channelTypeName": "Phone"},
            {"contactTypeId": 2, "name": "Walk", "channelTypeName": "Walk"},
            {"contactTypeId": 37, "name": "SMS Text", "channelTypeName": "Text"},
            {"contactTypeId": 67, "name": "Phone Bank", "channelTypeName": "Phone"},
            {"contactTypeId": 132, "name": "Relational Text", "channelTypeName": "Text"},
            {"contactTypeId": 145, "name": "Relational Canvass", "channelTypeName": "Other"},
        ]
        self.input_types = [{"inputTypeId": 11, "name": "API"}, {"inputTypeId": 4, "name": "Bulk"}]

    @property
    def credentials(self) -> dict[str, Any]:
        return {
            "application_name": self.application_name,
            "api_key": self.api_key,
            "db_mode": self.db_mode,
        }

    def add_person(self, van_id: int | str, **fields: Any) -> None:
        with self._lock:
            self.people[int(van_id)] = {"vanId": int(van_id), "firstName": "Pat", **fields}

    def remove_person(self, van_id: int | str) -> None:
        with self._lock:
            self.people.pop(int(van_id), None)

    def _error(self, status: int, text: str, code: str | None = None) -> Answer:
        default = {400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND"}
        code = code or default.get(status, "SERVER_ERROR" if status >= 500 else "ERROR")
        return Answer(status, {"errors": [{"code": code, "text": text}]})

    def _invalid(self, text: str, *properties: str) -> Answer:
        return Answer(
            400,
            {
                "errors": [
                    {"code": "INVALID_PARAMETER", "text": text, "properties": list(properties)}
                ]
            },
        )

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "POST" and re.fullmatch(r"/people/[^/]+", path):
            return "findOrCreate creates people"
        if method == "PUT" and re.fullmatch(r"/people/[^/]+/mergeInto", path):
            return "merging people"
        if method == "DELETE" and re.fullmatch(r"/people/[^/]+", path):
            return "deleting people"
        if method == "POST" and re.fullmatch(r"/bulkImport\w*(/.*)?", path):
            return "bulk imports create or update contacts"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        given = _basic_auth(headers)
        expected = (self.application_name, f"{self.api_key}|{self.db_mode}")
        if self.rejected_reason is not None or given != expected:
            reason = self.rejected_reason or self.default_reject_reason
            return Answer(401, {"errors": [{"code": "UNAUTHORIZED", "text": reason}]})
        return None

    def _routes(self) -> list[Route]:
        return [
            _route("POST", r"/echoes", self._echo),
            _route("GET", r"/people/(?P<id>[^/]+)", self._person),
            _route("POST", r"/people/(?P<id>[^/]+)/canvassResponses", self._canvass),
            _route("GET", r"/activistCodes", self._activist_codes),
            _route("GET", r"/surveyQuestions", self._survey_questions),
            _route(
                "GET",
                r"/canvassResponses/resultCodes",
                lambda m, q, b: Answer(200, self.result_codes),
            ),
            _route(
                "GET",
                r"/canvassResponses/contactTypes",
                lambda m, q, b: Answer(200, self.contact_types),
            ),
            _route(
                "GET",
                r"/canvassResponses/inputTypes",
                lambda m, q, b: Answer(200, self.input_types),
            ),
        ]

    def _echo(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return self._invalid("'message' is required", "message")
        return Answer(200, {"message": body["message"]})

    def _known(self, raw: str) -> int | None:
        van_id = _int(raw)
        return van_id if van_id is not None and van_id in self.people else None

    def _person(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        van_id = self._known(m["id"])
        if van_id is None:
            return self._error(404, "The specified resource cannot be found.", "NOT_FOUND")
        return Answer(200, self.people[van_id])

    def _page(self, path: str, items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        status = query.get("statuses")
        if status:
            wanted = {s.strip() for s in status.split(",")}
            items = [i for i in items if i.get("status") in wanted]
        top = _int(query.get("$top", "50"))
        skip = _int(query.get("$skip", "0"))
        if top is None or not 1 <= top <= 200:
            return self._invalid("'$top' must be between 1 and 200", "$top")
        if skip is None or skip < 0:
            return self._invalid("'$skip' must be a non-negative integer", "$skip")
        top = min(top, self.page_size)
        page = items[skip : skip + top]
        next_link = None
        if skip + top < len(items):
            params = {k: v for k, v in query.items() if k not in ("$top", "$skip")}
            params.update({"$top": str(top), "$skip": str(skip + top)})
            origin = self.next_link_origin or self.origin
            next_link = f"{origin}{self.base_path}{path}?{urlencode(params)}"
        return Answer(200, {"items": page, "nextPageLink": next_link, "count": len(items)})

    def _activist_codes(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return self._page("/activistCodes", self.activist_codes, query)

    def _survey_questions(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return self._page("/surveyQuestions", self.survey_questions, query)

    def _canvass(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        van_id = self._known(m["id"])
        if van_id is None:
            return self._error(404, "The specified resource cannot be found.", "NOT_FOUND")
        if not isinstance(body, dict):
            return self._invalid("A request body is required")
        unknown = set(body) - {"canvassContext", "resultCodeId", "responses"}
        if unknown:
            return self._invalid(f"Unknown properties: {sorted(unknown)}", *sorted(unknown))
        ctx = body.get("canvassContext")
        if not isinstance(ctx, dict):
            return self._invalid("'canvassContext' is required", "canvassContext")
        allowed_ctx = {
            "contactTypeId",
            "inputTypeId",
            "dateCanvassed",
            "omitActivistCodeContactHistory",
            "phone",
            "phoneId",
        }
        unknown = set(ctx) - allowed_ctx
        if unknown:
            return self._invalid(f"Unknown canvassContext properties: {sorted(unknown)}")
        contact_type = next(
            (t for t in self.contact_types if t["contactTypeId"] == ctx.get("contactTypeId")),
            None,
        )
        if contact_type is None:
            return self._invalid("'contactTypeId' is invalid", "canvassContext.contactTypeId")
        if "inputTypeId" in ctx and ctx["inputTypeId"] not in {
            t["inputTypeId"] for t in self.input_types
        }:
            return self._invalid("'inputTypeId' is invalid", "canvassContext.inputTypeId")
        if "dateCanvassed" in ctx and not _is_date(ctx["dateCanvassed"]):
            return self._invalid("'dateCanvassed' is not a date", "canvassContext.dateCanvassed")
        if contact_type["channelTypeName"] in ("Phone", "Text"):  # as VAN long required
            phone = ctx.get("phone")
            has_phone = isinstance(phone, dict) and bool(phone.get("phoneNumber"))
            if not has_phone and not isinstance(ctx.get("phoneId"), int):
                return self._invalid(
                    "A phone or phoneId is required for this contact type",
                    "canvassContext.phone",
                )
        result_code = body.get("resultCodeId")
        responses = body.get("responses")
        if result_code is not None and responses:
            return self._invalid(
                "'resultCodeId' and 'responses' cannot both be specified",
                "resultCodeId",
                "responses",
            )
        if result_code is None and not responses:
            return self._invalid("Either 'resultCodeId' or 'responses' is required")
        if result_code is not None and result_code not in {
            r["resultCodeId"] for r in self.result_codes
        }:
            return self._invalid("'resultCodeId' is invalid", "resultCodeId")
        for i, response in enumerate(responses or []):
            problem = self._check_response(response)
            if problem:
                return self._invalid(problem, f"responses[{i}]")
        self.canvass_responses.append((van_id, body))
        return Answer(204)

    def _check_response(self, response: Any) -> str | None:
        if not isinstance(response, dict):
            return "A response must be an object"
        kind = response.get("type")
        if kind == "ActivistCode":
            codes = {c["activistCodeId"] for c in self.activist_codes if c["status"] == "Active"}
            if response.get("activistCodeId") not in codes:
                return "'activistCodeId' is invalid"
            if response.get("action") not in ("Apply", "Remove"):
                return "'action' must be Apply or Remove"
            return None
        if kind == "SurveyResponse":
            question = next(
                (
                    q
                    for q in self.survey_questions
                    if q["surveyQuestionId"] == response.get("surveyQuestionId")
                ),
                None,
            )
            if question is None:
                return "'surveyQuestionId' is invalid"
            if response.get("surveyResponseId") not in {
                r["surveyResponseId"] for r in question["responses"]
            }:
                return "'surveyResponseId' is not a response of this question"
            return None
        return "'type' must be ActivistCode or SurveyResponse"


def _ac(code_id: int, name: str, *, status: str = "Active") -> dict[str, Any]:
    return {
        "activistCodeId": code_id,
        "type": "Volunteer",
        "name": name,
        "mediumName": name[:20],
        "shortName": name[:8],
        "description": None,
        "scriptQuestion": None,
        "status": status,
    }


def _sq(
    question_id: int, name: str, responses: list[tuple[int, str]], *, status: str = "Active"
) -> dict[str, Any]:
    return {
        "surveyQuestionId": question_id,
        "type": "Candidate",
        "cycle": 2026,
        "name": name,
        "mediumName": name[:20],
        "shortName": name[:8],
        "scriptQuestion": f"{name}?",
        "status": status,
        "responses": [
            {"surveyResponseId": rid, "name": rname, "mediumName": rname, "shortName": rname[:3]}
            for rid, rname in responses
        ],
    }


# ----------------------------------------------------------------------------------------------
# PDI
# ----------------------------------------------------------------------------------------------


class FakePdi(FakeCrmServer):
    """PDI: ``POST /sessions`` gives a bearer token (valid `token_ttl` seconds)."""

    provider = "pdi"
    base_path = ""
    default_reject_reason = "Invalid username, password or API token."

    def __init__(
        self,
        *,
        username: str = "pdi-test-user",
        password: str = "pdi-test-password-8d2e",
        api_token: str = "pdi-test-api-token-41b7",
        people: Iterable[str] = ("2001", "2002", "2003"),
        token_ttl: float = 3600.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.username = username
        self.password = password
        self.api_token = api_token
        self.token_ttl = token_ttl
        self.people: dict[str, dict[str, Any]] = {}
        for person in people:
            self.add_person(person)
        self.tokens: dict[str, datetime] = {}
        self.sign_ins = 0
        self.flags: list[dict[str, Any]] = []
        flag = PDI_FLAGS
        self.flag_ids = [
            _flag_id(flag["SUP"], "SUP", "Strong support"),
            _flag_id(flag["MAYBE"], "MAYBE", "Undecided"),
            _flag_id(flag["NO"], "NO", "Opposed"),
            _flag_id(flag["NAH"], "NAH", "Not at home"),
            _flag_id(flag["REF"], "REF", "Refused"),
            _flag_id(flag["VOL"], "VOL", "Volunteer"),
        ]
        question = PDI_QUESTIONS
        self.questions = [
            _question(
                question["measure"],
                "Will you vote for Measure A?",
                [
                    (pdi_id("option:3011"), flag["SUP"], "Yes"),
                    (pdi_id("option:3012"), flag["NO"], "No"),
                ],
            ),
            _question(
                question["support"],
                "Can we count on your support?",
                [
                    (pdi_id("option:3021"), flag["SUP"], "Yes"),
                    (pdi_id("option:3022"), flag["MAYBE"], "Maybe"),
                ],
            ),
            _question(
                question["volunteer"],
                "Will you volunteer?",
                [(pdi_id("option:3031"), flag["VOL"], "Yes")],
            ),
        ]
        self.acquisition_types = [
            {
                "id": PDI_ACQUISITIONS["Phone"],
                "acquisitionType": "Phone",
                "acquisitionDescription": "Phone bank",
                "acquisitionMethod": "Phone",
                "pageDefault": None,
            },
            {
                "id": PDI_ACQUISITIONS["Walk"],
                "acquisitionType": "Walk",
                "acquisitionDescription": "Door to door",
                "acquisitionMethod": "Walk",
                "pageDefault": None,
            },
            {
                "id": PDI_ACQUISITIONS["Text"],
                "acquisitionType": "Text",
                "acquisitionDescription": "Peer to peer SMS",
                "acquisitionMethod": "Text",
                "pageDefault": None,
            },
        ]

    @property
    def credentials(self) -> dict[str, Any]:
        return {"username": self.username, "password": self.password, "api_token": self.api_token}

    def add_person(self, pdi_id: str | int, **fields: Any) -> None:
        with self._lock:
            self.people[str(pdi_id)] = {"id": str(pdi_id), "firstName": "Pat", **fields}

    def remove_person(self, pdi_id: str | int) -> None:
        with self._lock:
            self.people.pop(str(pdi_id), None)

    def expire_tokens(self) -> None:
        """Every issued token stops working (the next call answers 401)."""
        with self._lock:
            self.tokens.clear()

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "POST" and path.rstrip("/") == "/contacts":
            return "creates a contact"
        if method in ("PUT", "PATCH", "DELETE") and re.fullmatch(r"/contacts/[^/]+", path):
            return "changes or deletes a contact"
        if method == "POST" and re.fullmatch(r"/contacts/[^/]+/(phones|emails|addresses)", path):
            return "adds contact details to a contact"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        if method == "POST" and path == "/sessions":
            return None
        value = _header(headers, "Authorization") or ""
        token = value[7:] if value.startswith("Bearer ") else None
        expires = self.tokens.get(token or "")
        if expires is None or expires <= datetime.now(UTC):
            return Answer(401, {"message": "Authorization has been denied for this request."})
        return None

    def _routes(self) -> list[Route]:
        return [
            _route("POST", r"/sessions", self._sessions),
            _route("GET", r"/contacts/(?P<id>[^/]+)", self._contact),
            _route("GET", r"/flag_ids", lambda m, q, b: self._list(self.flag_ids, q)),
            _route("GET", r"/questions", lambda m, q, b: self._list(self.questions, q)),
            _route(
                "GET", r"/acquisition_types", lambda m, q, b: self._list(self.acquisition_types, q)
            ),
            _route("POST", r"/flags", self._post_flags),
        ]

    def _sessions(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        fields = ("Username", "Password", "ApiToken")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(f), str) and body[f] for f in fields
        ):
            return Answer(400, {"message": "Username, Password and ApiToken are required."})
        given = (body["Username"], body["Password"], body["ApiToken"])
        if self.rejected_reason is not None or given != (
            self.username,
            self.password,
            self.api_token,
        ):
            return Answer(401, {"message": self.rejected_reason or self.default_reject_reason})
        token = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(seconds=self.token_ttl)
        self.tokens[token] = expires
        self.sign_ins += 1
        # .NET style: seven fractional digits and a Z.
        stamp = expires.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        return Answer(200, {"AccessToken": token, "ExpirationDate": stamp})

    def _contact(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        person = self.people.get(m["id"])
        if person is None:
            return Answer(404, {"message": "Contact not found."})
        return Answer(200, person)

    def _list(self, items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        limit = _int(query.get("limit", "20"))
        cursor = _int(query.get("cursor", "1"))
        if limit is None or not 1 <= limit <= 2000:
            return Answer(400, {"message": "limit must be between 1 and 2000."})
        if cursor is None or cursor < 1:
            return Answer(400, {"message": "cursor must be a positive integer."})
        size = min(limit, self.page_size)
        page = items[(cursor - 1) * size : cursor * size]
        return Answer(200, {"data": page, "totalCount": len(items)})

    def _post_flags(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, list) or not body:
            return Answer(400, {"message": "The request body must be a non-empty array of flags."})
        allowed = {
            "pdiId",
            "flagEntryDate",
            "acquisitionTypeId",
            "flagId",
            "questionId",
            "contactId",
        }
        flag_ids = {f["id"] for f in self.flag_ids}
        acquisition = {a["id"] for a in self.acquisition_types}
        questions = {q["id"]: q for q in self.questions}
        for i, flag in enumerate(body):
            if not isinstance(flag, dict):
                return Answer(400, {"message": f"flags[{i}] must be an object."})
            unknown = set(flag) - allowed
            if unknown:
                return Answer(400, {"message": f"flags[{i}]: unknown fields {sorted(unknown)}."})
            for name in ("pdiId", "flagEntryDate", "acquisitionTypeId", "flagId"):
                if not isinstance(flag.get(name), str) or not flag[name]:
                    return Answer(400, {"message": f"flags[{i}]: {name} is required."})
            if flag["pdiId"] not in self.people:
                return Answer(400, {"message": f"flags[{i}]: pdiId {flag['pdiId']} not found."})
            if not _is_date_time(flag["flagEntryDate"]):  # a bare date is refused
                return Answer(
                    400, {"message": f"flags[{i}]: flagEntryDate is not a date and time."}
                )
            if flag["acquisitionTypeId"] not in acquisition:
                return Answer(400, {"message": f"flags[{i}]: acquisitionTypeId is invalid."})
            if flag["flagId"] not in flag_ids:
                return Answer(400, {"message": f"flags[{i}]: flagId is invalid."})
            if "questionId" in flag:
                question = questions.get(flag["questionId"])
                if question is None:
                    return Answer(400, {"message": f"flags[{i}]: questionId is invalid."})
                if flag["flagId"] not in {o["flagId"] for o in question["answerOptions"]}:
                    return Answer(
                        400, {"message": f"flags[{i}]: flagId is not an answer to that question."}
                    )
        created = []
        for flag in body:
            record = {"id": str(len(self.flags) + 1), **flag}
            self.flags.append(record)
            created.append(record)
        return Answer(200, created)


def pdi_id(label: str) -> str:
    """An id as PDI makes them: 16 opaque bytes in base64 ("w6we79BXkuCsBbb9QCyiLA==" is a
    real acquisition type's), never a small number."""
    return base64.b64encode(hashlib.sha256(f"pdi:{label}".encode()).digest()[:16]).decode()


PDI_FLAGS = {code: pdi_id(f"flag:{code}") for code in ("SUP", "MAYBE", "NO", "NAH", "REF", "VOL")}
PDI_QUESTIONS = {name: pdi_id(f"question:{name}") for name in ("measure", "support", "volunteer")}
PDI_ACQUISITIONS = {name: pdi_id(f"acquisition:{name}") for name in ("Phone", "Walk", "Text")}


def _flag_id(record_id: str, code: str, description: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "flagId": code,
        "flagIdDescription": description,
        "compile": description,
        "isDefault": False,
    }


def _question(question_id: str, text: str, options: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "id": question_id,
        "question": text,
        "questionLabel": text[:20],
        "questionDescription": None,
        "type": "Candidate",
        "category": "Survey",
        "answerOptions": [
            {"id": oid, "flagId": fid, "displayDescription": label, "displayCode": label[:1]}
            for oid, fid, label in options
        ],
    }


# ----------------------------------------------------------------------------------------------
# Salsa Engage
# ----------------------------------------------------------------------------------------------

SALSA_THROTTLE_MESSAGE = "Call rate has been exceeded"


class FakeSalsa(FakeCrmServer):
    """Salsa Engage integration API under ``/api/integration/ext/v1``: header ``authToken``."""

    provider = "salsa"
    base_path = "/api/integration/ext/v1"
    default_reject_reason = "Invalid authentication token"

    def __init__(
        self,
        *,
        api_token: str = "salsa-test-token-93ac7f",
        people: Iterable[str] = (
            "5c7a0d0e-0000-4000-8000-000000000001",
            "5c7a0d0e-0000-4000-8000-000000000002",
            "5c7a0d0e-0000-4000-8000-000000000003",
        ),
        max_batch_size: int = 20,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.api_token = api_token
        self.max_batch_size = max_batch_size
        self.people: dict[str, dict[str, Any]] = {}
        for supporter_id in people:
            self.add_person(supporter_id)
        self.segments: list[dict[str, Any]] = [
            {"segmentId": f"seg-000{i}", "name": name, "type": "CUSTOM", "totalMembers": 0}
            for i, name in enumerate(
                ["Volunteers", "Yard signs", "Event RSVPs", "Donor prospects", "Phone bankers"],
                start=1,
            )
        ]
        self.segment_members: dict[str, set[str]] = {s["segmentId"]: set() for s in self.segments}
        self.custom_fields: dict[str, dict[str, Any]] = {}
        self.unmanaged_segments: set[str] = set()  # not CRM segments: members NOT_ALLOWED
        self.refused_fields: dict[str, str] = {}  # field id -> the error Salsa gives for it
        self.total_calls = 0

    @property
    def credentials(self) -> dict[str, Any]:
        return {"api_token": self.api_token}

    def add_person(self, supporter_id: str, **fields: Any) -> None:
        with self._lock:
            self.people[supporter_id] = {"supporterId": supporter_id, "firstName": "Pat", **fields}

    def remove_person(self, supporter_id: str) -> None:
        with self._lock:
            self.people.pop(supporter_id, None)

    def throttle_in_body_next(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next `times` matching calls 200 with the throttle message in `errors`."""
        self.fail_next(200, times=times, method=method, path=path, body=self._throttle_body().body)

    def _envelope(self, payload: Any = None, errors: list[dict[str, Any]] | None = None) -> Any:
        out: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "timestamp": datetime.now(UTC).isoformat(),
            "header": {"processingTime": 1, "serverId": "fake-salsa"},
        }
        if payload is not None:
            out["payload"] = payload
        if errors:
            out["errors"] = errors
        return out

    def _error(self, status: int, text: str, code: str | None = None) -> Answer:
        if status == 429:
            text = SALSA_THROTTLE_MESSAGE
        code = code or ("SYSTEM_ERROR" if status >= 500 else "VALIDATION_ERROR")
        return Answer(status, self._envelope(errors=[{"code": code, "message": text}]))

    def _invalid(self, text: str, field_name: str | None = None) -> Answer:
        err: dict[str, Any] = {"code": "VALIDATION_ERROR", "message": text}
        if field_name:
            err["fieldName"] = field_name
        return Answer(400, self._envelope(errors=[err]))

    def _throttle_body(self) -> Answer:
        return Answer(
            200,
            self._envelope(
                errors=[{"code": "TOO_MANY_REQUESTS", "message": SALSA_THROTTLE_MESSAGE}]
            ),
        )

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "PUT" and path == "/segments":
            return "creates segments"
        if method == "POST" and path == "/supporters/merge":
            return "merges supporters"
        if method == "DELETE" and path == "/supporters":
            return "deletes supporters"
        if method == "PUT" and path == "/supporters":
            payload = body.get("payload") if isinstance(body, dict) else None
            supporters = payload.get("supporters") if isinstance(payload, dict) else None
            if not isinstance(supporters, list) or any(
                not isinstance(s, dict) or not s.get("supporterId") for s in supporters
            ):
                return "PUT /supporters without a supporterId adds a supporter"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        if self.rejected_reason is not None or _header(headers, "authToken") != self.api_token:
            reason = self.rejected_reason or self.default_reject_reason
            return Answer(
                401, self._envelope(errors=[{"code": "AUTHENTICATION_FAILED", "message": reason}])
            )
        with self._lock:
            self.total_calls += 1
        return None

    def _routes(self) -> list[Route]:
        return [
            _route("GET", r"/metrics", self._metrics),
            _route("POST", r"/supporters/search", self._search_supporters),
            _route("POST", r"/segments/search", self._search_segments),
            _route("PUT", r"/segments/members", self._segment_members),
            _route("PUT", r"/supporters", self._put_supporters),
        ]

    def _request_payload(self, body: Any) -> dict[str, Any] | Answer:
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            return self._invalid("A request needs a 'payload' object", "payload")
        if "header" in body and not isinstance(body["header"], dict):
            return self._invalid("'header' must be an object", "header")
        return body["payload"]

    def _paging(self, payload: dict[str, Any]) -> tuple[int, int] | Answer:
        offset, count = payload.get("offset", 0), payload.get("count", 20)
        if _int(offset) is None or int(offset) < 0:
            return self._invalid("'offset' must be a non-negative integer", "offset")
        if _int(count) is None or not 1 <= int(count) <= self.max_batch_size:
            return self._invalid(f"'count' must be between 1 and {self.max_batch_size}", "count")
        return int(offset), int(count)

    def _metrics(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return Answer(
            200,
            self._envelope(
                {
                    "rateLimit": 300,
                    "maxBatchSize": self.max_batch_size,
                    "currentRateLimit": max(0, 300 - self.total_calls),
                    "totalAPICalls": self.total_calls,
                    "lastAPICall": datetime.now(UTC).isoformat(),
                }
            ),
        )

    def _search_supporters(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        paging = self._paging(payload)
        if isinstance(paging, Answer):
            return paging
        identifiers = payload.get("identifiers")
        if (
            not isinstance(identifiers, list)
            or not identifiers
            or len(identifiers) > self.max_batch_size
        ):
            return self._invalid("'identifiers' must hold 1 to 20 identifiers", "identifiers")
        kind = payload.get("identifierType")
        if kind not in ("SUPPORTER_ID", "EMAIL_ADDRESS", "EXTERNAL_ID"):
            return self._invalid("'identifierType' is invalid", "identifierType")
        supporters = []
        for ident in identifiers:
            found = kind == "SUPPORTER_ID" and ident in self.people
            entry = dict(self.people[ident]) if found else {"supporterId": ident}
            entry["result"] = "FOUND" if found else "NOT_FOUND"
            supporters.append(entry)
        offset, count = paging
        page = supporters[offset : offset + count]
        return Answer(
            200,
            self._envelope(
                {"count": len(page), "offset": offset, "total": len(supporters), "supporters": page}
            ),
        )

    def _search_segments(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        paging = self._paging(payload)
        if isinstance(paging, Answer):
            return paging
        offset, count = paging
        page = self.segments[offset : offset + min(count, self.page_size)]
        return Answer(
            200,
            self._envelope(
                {
                    "count": len(page),
                    "offset": offset,
                    "total": len(self.segments),
                    "segments": page,
                }
            ),
        )

    def _segment_members(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        segment_id = payload.get("segmentId")
        if segment_id not in self.segment_members:
            return self._invalid("'segmentId' does not name a segment", "segmentId")
        ids = payload.get("supporterIds")
        if not isinstance(ids, list) or not ids:
            return self._invalid("'supporterIds' is required", "supporterIds")
        if len(ids) > self.max_batch_size:
            return self._invalid(
                f"Too many items: the maximum batch size is {self.max_batch_size}", "supporterIds"
            )
        members = self.segment_members[segment_id]
        manageable = segment_id not in self.unmanaged_segments
        results = []
        for sid in ids:
            if sid not in self.people:
                result = "NOT_FOUND"
            elif not manageable:  # not a CRM segment: per item, inside a 200 (see the README)
                result = "NOT_ALLOWED"
            elif sid in members:  # goengage's segment constants: ADDED, UPDATED, NOT_ALLOWED
                result = "UPDATED"
            else:
                members.add(sid)
                result = "ADDED"
            results.append({"supporterId": sid, "result": result})
        return Answer(200, self._envelope({"segmentId": segment_id, "supporters": results}))

    def _put_supporters(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        supporters = payload["supporters"]  # shape vetted by _forbidden
        if len(supporters) > self.max_batch_size:
            return self._invalid("Too many supporters in one call", "supporters")
        results = []
        for supporter in supporters:
            sid = supporter["supporterId"]
            if sid not in self.people:
                results.append({"supporterId": sid, "result": "NOT_FOUND"})
                continue
            values = supporter.get("customFieldValues") or []
            errors = [
                {"code": "VALIDATION_ERROR", "message": "a custom field needs fieldId or name"}
                for v in values
                if not isinstance(v, dict) or not (v.get("fieldId") or v.get("name"))
            ]
            if errors:
                results.append({"supporterId": sid, "result": "VALIDATION_ERROR", "errors": errors})
                continue
            # Salsa reports a field it refuses on the field itself, and the supporter is
            # still UPDATED (Salsa's own examples look for customFieldValues[].errors)
            stored = self.custom_fields.setdefault(sid, {})
            echoed = []
            for v in values:
                key = v.get("fieldId") or v["name"]
                if key in self.refused_fields:
                    refusal = {"code": "VALIDATION_ERROR", "message": self.refused_fields[key]}
                    echoed.append({**v, "errors": [refusal]})
                    continue
                stored[key] = v.get("value")
                echoed.append(dict(v))
            results.append({"supporterId": sid, "result": "UPDATED", "customFieldValues": echoed})
        return Answer(200, self._envelope({"supporters": results}))
