"""Small pieces every repository uses: ids, clock, opaque cursors, paged queries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.models import Model

from chalicelib import config
from chalicelib.domain import Page
from chalicelib.errors import InvalidInput

T = TypeVar("T")
M = TypeVar("M", bound=Model)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    return iso(now())


def new_id() -> str:
    """A 26-character, time-ordered, random id (ULID layout)."""
    return _ulid((int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big"))


def id_floor(moment: datetime) -> str:
    """The lowest id `new_id` could have made at `moment`: ids sort by time, so a
    range of keys from here on holds exactly what was made since."""
    return _ulid(int(moment.timestamp() * 1000) << 80)


def _ulid(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _sign(scope: str, payload: bytes) -> str:
    key = config.app_secret()
    digest = hmac.new(key, scope.encode() + b"\0" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def encode_cursor(scope: str, key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    payload = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(scope, payload)}"


def decode_cursor(scope: str, cursor: str | None) -> dict[str, Any] | None:
    """The key a cursor stands for; a cursor made for another list is refused."""
    if not cursor:
        return None
    try:
        body, signature = cursor.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(signature.encode(), _sign(scope, payload).encode()):
            raise ValueError("bad signature")
        key = json.loads(payload)
        if not isinstance(key, dict):
            raise ValueError("not a key")
        return key
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a valid cursor for this list") from None


def paged_query(
    model: type[M],
    hash_key: str,
    *,
    scope: str,
    limit: int,
    cursor: str | None,
    convert: Callable[[M], T],
    range_key_condition: Any = None,
    filter_condition: Any = None,
    index: Any = None,
    newest_first: bool = False,
) -> Page:
    """One page of a Query (never a Scan), with an opaque, signed cursor."""
    source = index if index is not None else model
    results = source.query(
        hash_key,
        range_key_condition=range_key_condition,
        filter_condition=filter_condition,
        limit=limit,
        last_evaluated_key=decode_cursor(scope, cursor),
        scan_index_forward=not newest_first,
    )
    items = [convert(item) for item in results]
    next_key = results.last_evaluated_key if len(items) >= limit else None
    return Page(items=items, next_cursor=encode_cursor(scope, next_key))


def chunks(items: Iterable[T], size: int) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
