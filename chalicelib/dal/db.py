"""Transactions and error inspection shared by the repositories."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.dal.models import _region, with_shared_client

_connection: Connection | None = None


def transaction() -> TransactWrite:
    """A write transaction on the configured endpoint (all or nothing), through the
    process's one DynamoDB client."""
    global _connection
    if _connection is None:
        _connection = Connection(region=_region())
    return TransactWrite(connection=with_shared_client(_connection))


def reset() -> None:
    """Forget the shared connection (after the endpoint changed)."""
    global _connection
    _connection = None


def conflicted(error: TransactWriteError) -> bool:
    """Whether a concurrent transaction on the same items cancelled this one."""
    return any(r and r.code == "TransactionConflict" for r in error.cancellation_reasons or [])


def failed_conditions(error: TransactWriteError) -> list[bool]:
    """For each item of a cancelled transaction, whether its condition failed.

    pynamodb orders transaction items as: condition checks, deletes, puts, updates.
    """
    reasons = error.cancellation_reasons or []
    return [bool(r and r.code == "ConditionalCheckFailed") for r in reasons]
