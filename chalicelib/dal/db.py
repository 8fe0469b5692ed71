"""Transactions and error inspection shared by the repositories."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.dal.models import _region


def transaction() -> TransactWrite:
    """A write transaction on the configured endpoint (all or nothing)."""
    return TransactWrite(connection=Connection(region=_region()))


def failed_conditions(error: TransactWriteError) -> list[bool]:
    """For each item of a cancelled transaction, whether its condition failed.

    pynamodb orders transaction items as: condition checks, deletes, puts, updates.
    """
    reasons = error.cancellation_reasons or []
    return [bool(r and r.code == "ConditionalCheckFailed") for r in reasons]
