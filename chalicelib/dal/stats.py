"""A campaign's dashboard counters (`GET /campaigns/{cid}/stats`): kept, never recounted.

The counters live in the ops table (they are derived, not business data: nothing to audit).
A report filed adds to its action's counters in the report's own transaction (exact). A
sync record's change of state moves one count between states with an ADD right after the
record's conditional write: not in a transaction, because the sync's worker threads would
contend for the counter items and a refused transaction must never cost a record its
attempt (a process that dies between the two writes leaves that count one off). Each
write goes to one of SHARDS items of its scope, chosen at random, so no one item takes
every write; a read sums them (one Query).

Members and their synced contacts are counted by reconciliation instead
(`reconcile_member`): a member's tally item holds what they add; bringing it to what is
true now (a member or not, how many contacts) moves the counters by the difference, once,
however often it runs.
"""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from chalicelib import aws, config
from chalicelib.dal.db import conflicted, failed_conditions, transaction
from chalicelib.dal.models import MemberTallyModel, StatsModel

SHARDS = 16
_COUNTER = "n:"
MEMBERS = "MEMBERS"
SYNC = "SYNC_STATES"


ACTION = "ACTION#"  # an action's scope: `ACTION#<action_id>`


def action_scope(action_id: str) -> str:
    return ACTION + action_id


def _pk(campaign_id: str) -> str:
    return f"STATS#{campaign_id}"


def counter_update(
    campaign_id: str, scope: str, deltas: dict[str, int]
) -> tuple[StatsModel, list[Action]]:
    """The item and actions that add `deltas` to a scope's counters: for a transaction."""
    item = StatsModel(_pk(campaign_id), f"{scope}#{secrets.randbelow(SHARDS):02d}")
    actions: list[Action] = [StatsModel.campaign_id.set(campaign_id)]
    actions += [
        Path([_COUNTER + name]).add(Value({"N": str(delta)}))
        for name, delta in sorted(deltas.items())
        if delta
    ]
    return item, actions


def add(campaign_id: str, scope: str, deltas: dict[str, int]) -> None:
    """Add `deltas` to a scope's counters (one UpdateItem, outside any transaction)."""
    item, actions = counter_update(campaign_id, scope, deltas)
    item.update(actions=actions)


def read(campaign_id: str) -> dict[str, dict[str, int]]:
    """Every counter of the campaign, by scope, its shards summed."""
    totals: dict[str, dict[str, int]] = {}
    request: dict[str, Any] = {
        "TableName": config.settings().ops_table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": _pk(campaign_id)}},
    }
    while True:
        page = aws.dynamodb().query(**request)
        for item in page.get("Items", []):
            scope = item["sk"]["S"].rsplit("#", 1)[0]
            counters = totals.setdefault(scope, {})
            for name, value in item.items():
                if name.startswith(_COUNTER) and "N" in value:
                    key = name.removeprefix(_COUNTER)
                    counters[key] = counters.get(key, 0) + int(value["N"])
        if "LastEvaluatedKey" not in page:
            return totals
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _tally_key(campaign_id: str, user_id: str) -> tuple[str, str]:
    return f"STATS#MEMBER#{campaign_id}", user_id


def reconcile_member(campaign_id: str, user_id: str, *, member: bool, contacts: int) -> bool:
    """Bring what the user adds to the campaign's member and synced-contact counters to the
    truth (`member`, `contacts`): whether anything moved. A race with another
    reconciliation is lost and tried again against what the winner wrote."""
    pk, sk = _tally_key(campaign_id, user_id)
    for _ in range(5):
        try:
            current: MemberTallyModel | None = MemberTallyModel.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            current = None
        was_member, was_contacts = (1, int(current.contacts)) if current else (0, 0)
        now_member, now_contacts = (1, contacts) if member else (0, 0)
        if (was_member, was_contacts) == (now_member, now_contacts):
            return False
        version = int(current.version) if current else 0
        unchanged = (
            MemberTallyModel.version == version if current else MemberTallyModel.pk.does_not_exist()
        )
        try:
            with transaction() as tx:
                if member:
                    tx.save(
                        MemberTallyModel(
                            pk,
                            sk,
                            contacts=now_contacts,
                            version=version + 1,
                            campaign_id=campaign_id,
                        ),
                        condition=unchanged,
                    )
                else:
                    tx.delete(MemberTallyModel(pk, sk), condition=unchanged)
                tx.update(
                    *counter_update(
                        campaign_id,
                        MEMBERS,
                        {
                            "members": now_member - was_member,
                            "synced_contacts": now_contacts - was_contacts,
                        },
                    )
                )
            return True
        except TransactWriteError as exc:
            if any(failed_conditions(exc)) or conflicted(exc):
                continue  # another reconciliation moved it first: look again
            raise
    raise RuntimeError("member counters kept changing under reconciliation")
