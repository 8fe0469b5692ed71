"""Bulk writes: 25 items a call, unprocessed items retried until every one is in."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

from chalicelib import aws
from chalicelib.dal.common import chunks

BATCH_SIZE = 25
MAX_ROUNDS = 12  # about a minute of backoff in all before giving up loudly


class BatchIncomplete(RuntimeError):
    """DynamoDB kept items unprocessed through every retry."""


def _send(table: str, requests: list[dict[str, Any]]) -> int:
    """Send one batch; retry what comes back unprocessed. Returns the calls made."""
    client = aws.dynamodb()
    pending = requests
    for round_number in range(MAX_ROUNDS):
        out = client.batch_write_item(RequestItems={table: pending})
        pending = out.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return round_number + 1
        time.sleep(min(0.05 * 2**round_number, 5.0) * (0.5 + random.random() / 2))  # noqa: S311
    raise BatchIncomplete(f"{len(pending)} items stayed unprocessed in {table}")


def write(
    table: str,
    puts: Iterable[dict[str, Any]] = (),
    deletes: Iterable[dict[str, Any]] = (),
) -> int:
    """Put and delete items (raw DynamoDB attribute maps), streaming, 25 a call.

    Returns the number of BatchWriteItem calls. Iterables are consumed lazily, so a
    caller can stream rows through without holding them all. One batch must not
    name the same key twice (DynamoDB refuses it): callers de-duplicate.
    """
    calls = 0
    for chunk in chunks(puts, BATCH_SIZE):
        calls += _send(table, [{"PutRequest": {"Item": item}} for item in chunk])
    for chunk in chunks(deletes, BATCH_SIZE):
        calls += _send(table, [{"DeleteRequest": {"Key": key}} for key in chunk])
    return calls
