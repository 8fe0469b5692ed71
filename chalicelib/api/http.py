"""HTTP plumbing shared by every blueprint: errors, headers, request parsing.

- `translate_errors` is the one place domain errors become HTTP responses.
- `http_middleware` adds the security headers and writes one log line per request.
- `parse` validates a body with a pydantic schema and names the offending field.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from chalice import Blueprint, ChaliceViewError, Response
from chalice.app import Request

from chalicelib import errors
from chalicelib.observability import count, log_auth, log_request, logger

if TYPE_CHECKING:
    from chalicelib.logic.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

# domain error -> (status, Code); the first that matches wins (subclasses first)
_TRANSLATION: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.InvalidInput, 400, "BadRequestError"),
    (errors.NotAuthenticated, 401, "UnauthorizedError"),
    (errors.Forbidden, 403, "ForbiddenError"),
    (errors.NotFound, 404, "NotFoundError"),
    (errors.Conflict, 409, "ConflictError"),
    (errors.Refused, 422, "UnprocessableEntityError"),
    (errors.Throttled, 429, "TooManyRequestsError"),
    (errors.Unavailable, 503, "ServiceUnavailableError"),
    (errors.TimedOut, 504, "GatewayTimeoutError"),
]


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str | list[str]] | None = None,
    **extra: str,
) -> Response:
    """The API's error shape: `Code` and `Message`, and `Field` / `Reason` when known."""
    return Response(
        body={"Code": code, "Message": message, **extra},
        status_code=status,
        headers=headers or {},
    )


def domain_error_response(exc: errors.DomainError) -> Response:
    found = next(((s, c) for t, s, c in _TRANSLATION if isinstance(exc, t)), None)
    if found is None:  # a DomainError of no known kind is a bug
        return _internal_error()
    status, code = found
    extra: dict[str, str] = {}
    if isinstance(exc, errors.InvalidInput):
        extra["Field"] = exc.field
    if exc.reason:
        extra["Reason"] = exc.reason
    headers: dict[str, str | list[str]] = {}
    if isinstance(exc, errors.Throttled | errors.Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Throttled):
        count("Throttled")
    return error_response(status, code, exc.message, headers, **extra)


def _internal_error() -> Response:
    """Called handling an unexpected exception: log it, count it, answer a plain 500."""
    logger.exception("unhandled error")
    count("UnhandledErrors")
    return error_response(500, "InternalServerError", "An internal server error occurred.")


def translate_errors(view: F) -> F:
    """Turn domain errors raised below a view into the API's error responses."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.DomainError as exc:
            return domain_error_response(exc)
        except ChaliceViewError:
            raise
        except Exception:  # a bug: logged with its traceback, counted, answered 500
            return _internal_error()

    return wrapper  # type: ignore[return-value]


def request_id(request: Request) -> str:
    context = request.context or {}
    return str(context.get("requestId") or context.get("extendedRequestId") or uuid.uuid4())


def source_ip(request: Request) -> str | None:
    """The caller's address: API Gateway's, or, for a request the console's CloudFront
    distribution proved it sent (`X-Origin-Verify` holds the origin secret), the viewer's
    that CloudFront adds (`CloudFront-Viewer-Address`, `address:port`)."""
    identity = (request.context or {}).get("identity") or {}
    value = identity.get("sourceIp")
    proof = request.headers.get("x-origin-verify")
    viewer = request.headers.get("cloudfront-viewer-address")
    if proof and viewer and ":" in viewer:
        import hmac

        from chalicelib import config

        expected = config.origin_secret()
        if expected and hmac.compare_digest(proof.encode(), expected.encode()):
            return viewer.rsplit(":", 1)[0].strip("[]")
    return str(value) if value else None


def principal(request: Request) -> Principal:
    """The signed-in caller, checked on every request: the bearer token against Cognito's
    keys (JWKS) and its server-side session, so a logout or a revoked session takes effect
    on the next request. 401 for a missing or bad token or an ended session; 503 when the
    check cannot be made now (not the caller's fault)."""
    from chalicelib.logic import principal as principals

    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.NotAuthenticated("not signed in: send 'Authorization: Bearer <token>'")
        caller = principals.authenticate(token.strip())
    except errors.NotAuthenticated as exc:
        log_auth("token", "failure", exc.message)
        raise
    except errors.Unavailable as exc:
        log_auth("token", "unavailable", exc.message)
        raise
    (request.context or {})[_CALLER] = caller.user_id  # for the request's log line
    return caller


_CALLER = "callerId"


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of a route (`chalicelib/api/openapi.py`)."""

    method: str
    path: str
    view: Callable[..., Any]
    public: bool
    idempotent: bool
    body: str | None  # the request schema's name in `chalicelib.logic.inputs`
    status: int  # the answer when all goes well
    paged: bool  # takes ?limit= and ?cursor=
    response: str | None  # its model in `chalicelib.api.responses`; "Page[X]" for a page
    query: dict[str, dict[str, Any]]  # its query parameters (but paging's): name -> schema


ROUTES: list[RouteDoc] = []


def route(
    bp: Blueprint,
    path: str,
    *,
    methods: list[str],
    public: bool = False,
    idempotent: bool = False,
    body: str | None = None,
    status: int = 200,
    paged: bool = False,
    response: str | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> Callable[[F], F]:
    """Register a view: errors translated, and (unless public) for signed-in callers only,
    with the checked `Principal` passed as its first argument. An `idempotent` view
    honours an `Idempotency-Key` header (`chalicelib.logic.idempotency`). `body`
    (a schema of `chalicelib.logic.inputs`, by name), `status`, `paged` and `response`
    (a model of `chalicelib.api.responses`, by name) and `query` (its query parameters'
    JSON schemas, by name) describe the route for the OpenAPI document; they change
    nothing it does."""

    def register(view: F) -> F:
        for method in methods:
            ROUTES.append(
                RouteDoc(
                    method,
                    path,
                    view,
                    public,
                    idempotent,
                    body,
                    status,
                    paged,
                    response,
                    dict(query or {}),
                )
            )
        if public:

            @functools.wraps(view)
            def checked(*args: Any, **kwargs: Any) -> Any:
                _check_query(bp.current_request)
                return view(*args, **kwargs)

            bp.route(path, methods=methods, **options)(translate_errors(checked))
            return view

        @functools.wraps(view)
        def with_principal(*args: Any, **kwargs: Any) -> Any:
            caller = principal(bp.current_request)
            request = bp.current_request
            _check_query(request)
            key = request.headers.get("idempotency-key") if idempotent else None
            if key is None:
                return view(caller, *args, **kwargs)
            return _once(caller, key, request, lambda: view(caller, *args, **kwargs))

        bp.route(path, methods=methods, **options)(translate_errors(with_principal))
        return view

    return register


def _check_query(request: Request) -> None:
    """A query string's parameters must have names (`?=x` is malformed)."""
    params: Any = request.query_params or {}
    if any(not str(name).strip() for name in params):
        raise errors.InvalidInput("query", "has a parameter without a name")


def _once(caller: Principal, key: str, request: Request, serve: Callable[[], Any]) -> Response:
    """Serve a request that carries an idempotency key: a repeat gets the first answer."""
    from chalicelib.logic import idempotency

    def answer() -> tuple[int, Any]:
        result = serve()
        if isinstance(result, Response):
            return result.status_code, result.body
        return 200, result

    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    path = str((request.context or {}).get("path") or request.path)
    done = idempotency.once(caller.user_id, key, (request.method, path, body), answer)
    headers: dict[str, str | list[str]] = {"Idempotent-Replayed": "true"} if done.replayed else {}
    return Response(body=done.body, status_code=done.status, headers=headers)


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Security headers on every response, and one structured log line per request."""
    started = time.perf_counter()
    rid = request_id(event)
    logger.set_correlation_id(rid)
    try:
        response = get_response(event)
    except Exception:  # a bug outside a view: the same
        response = _internal_error()
    response.headers.update(SECURITY_HEADERS)
    response.headers["X-Request-Id"] = rid
    resource = str((event.context or {}).get("resourcePath", ""))
    if (
        event.headers.get("authorization") is not None
        or resource.startswith("/auth/")
        or response.status_code == 401
    ):
        # signed-in answers, the sign-in routes' answers (they carry tokens), refusals
        response.headers["Cache-Control"] = "no-store"
    log_request(
        request_id=rid,
        method=event.method,
        route=resource,
        path=str((event.context or {}).get("path", "")),
        status=response.status_code,
        latency_ms=(time.perf_counter() - started) * 1000,
        user_id=(event.context or {}).get(_CALLER),
        source_ip=source_ip(event),
        user_agent=event.headers.get("user-agent"),
    )
    return response


# ---- input ---------------------------------------------------------------------------


MAX_BODY_BYTES = 256 * 1024  # a route that takes more says so (contacts, lists)
MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> Any:
    raise errors.InvalidInput("body", f"{name} is not a JSON number")


def _depth(value: Any, limit: int) -> int:
    """How deep `value` nests, counting no further than `limit + 1` (no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _nesting(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, outside strings, without parsing it
    (Python's parser recurses and would overflow on a hostile document)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise): at most `max_bytes`, nested at
    most MAX_JSON_DEPTH deep, numbers finite; checked before anything is parsed."""
    import json

    raw = request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise errors.InvalidInput("body", f"is larger than {max_bytes} bytes")
    if _nesting(data) > MAX_JSON_DEPTH:
        raise errors.InvalidInput("body", f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(data or b"null", parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise errors.InvalidInput("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.InvalidInput("body", "must be a JSON object")
    if _depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise errors.InvalidInput("body", f"nests deeper than {MAX_JSON_DEPTH} levels")
    return body


S = TypeVar("S")


def parse(schema: type[S], data: Any) -> S:
    """Validate data with a pydantic schema; the error names the first bad field."""
    from pydantic import ValidationError

    try:
        return schema.model_validate(data)  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = [part for part in first["loc"] if part != "[key]"]  # a bad key: the key's path
        field = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in where)
        field = field.replace(".[", "[")
        raise errors.InvalidInput(field or "body", first["msg"].lower()) from None


def query_param(request: Request, name: str) -> str | None:
    params: Any = request.query_params or {}
    value = params.get(name)
    return None if value is None else str(value)


def page_params(request: Request) -> tuple[int, str | None]:
    """`?limit=` (default 50, 1..200) and `?cursor=`."""
    raw = query_param(request, "limit")
    if raw is None or raw == "":
        limit = DEFAULT_LIMIT
    else:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
            raise errors.InvalidInput("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise errors.InvalidInput("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return limit, query_param(request, "cursor") or None


def bool_param(request: Request, name: str) -> bool:
    raw = (query_param(request, name) or "false").lower()
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0", ""):
        return False
    raise errors.InvalidInput(name, "must be true or false")


def page_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
