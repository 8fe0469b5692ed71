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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pynamodb.models import Model

from chalicelib import config
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput

T = TypeVar("T")
M = TypeVar("M", bound=Model)
T_co = TypeVar("T_co", covariant=True)

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


@dataclass(frozen=True)
class ItemKey(Generic[T_co]):
    """One item's key, with its model and how it becomes a domain object: what a caller
    asks `get_together` for without knowing the model."""

    model: type[Model]
    hash_key: str
    range_key: str
    convert: Callable[[Any], T_co]


def get_together(*keys: ItemKey[Any]) -> list[Any]:
    """A few items of one table, strongly consistent, in one BatchGetItem where a request
    would otherwise make as many GetItems one after the other: each as its domain object,
    or None where there is none (in the order asked)."""
    model = keys[0].model
    assert all(k.model.Meta.table_name == model.Meta.table_name for k in keys), keys
    asked = {(k.hash_key, k.range_key): k for k in keys}
    found: dict[tuple[str, str], Any] = {}
    pending: list[Any] = [{"pk": pk, "sk": sk} for pk, sk in asked]
    while pending:  # keys DynamoDB left unprocessed are asked again
        page, pending = model._batch_get_page(  # pynamodb: one page
            pending, consistent_read=True, attributes_to_get=None
        )
        for raw in page:
            key = asked[(raw["pk"]["S"], raw["sk"]["S"])]
            found[(key.hash_key, key.range_key)] = key.convert(key.model.from_raw_data(raw))
        pending = list(pending or [])
    return [found.get((k.hash_key, k.range_key)) for k in keys]


def chunks(items: Iterable[T], size: int) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
