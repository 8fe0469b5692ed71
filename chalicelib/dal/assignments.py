"""Assignments: rows of a list handed to volunteers for an action (main table, under the
campaign: erased with it).

A row is assigned to one volunteer at a time per action: its assignment item's key is the
(action, list, row), written only if absent. An action takes a list's rows in order, from a
cursor; rows given back (a volunteer's unreported ones) wait in a pool and go out first.
Each round is one transaction: the rows' assignments (and the pool items they come from)
with the cursor's move, conditioned on the cursor being where it was read, so two admins
assigning at once never hand out a row twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.db import transaction
from chalicelib.dal.lists import row_of
from chalicelib.dal.models import (
    AssignCursorModel,
    AssignmentModel,
    AssignPoolModel,
    ListRowModel,
)
from chalicelib.domain.lists import ListRow
from chalicelib.domain.paging import Page

ROUND = 40  # rows a transaction assigns (each is one item; pool rows two): under 100 items


@dataclass(frozen=True)
class Assignment:
    campaign_id: str
    action_id: str
    list_id: str
    row_id: str
    user_id: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None
    reported: bool


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _sk(action_id: str, list_id: str, row_id: str) -> str:
    return f"ASSIGN#{action_id}#{list_id}#{row_id}"


def _assignment(item: AssignmentModel) -> Assignment:
    return Assignment(
        campaign_id=item.campaign_id,
        action_id=item.action_id,
        list_id=item.list_id,
        row_id=item.row_id,
        user_id=item.user_id,
        first_name=item.first_name,
        last_name=item.last_name,
        phone=item.phone,
        email=item.email,
        reported=bool(item.reported),
    )


def _item(row: ListRow, action_id: str, user_id: str, actor: str, stamp: str) -> AssignmentModel:
    return AssignmentModel(
        _pk(row.campaign_id),
        _sk(action_id, row.list_id, row.row_id),
        entity="assignment",
        gsi1pk=f"ASSIGNEE#{row.campaign_id}#{user_id}",
        gsi1sk=f"{action_id}#{row.list_id}#{row.row_id}",
        campaign_id=row.campaign_id,
        action_id=action_id,
        list_id=row.list_id,
        row_id=row.row_id,
        user_id=user_id,
        first_name=row.first_name,
        last_name=row.last_name,
        phone=row.phone,
        email=row.email,
        reported=False,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )


def _cursor_row(campaign_id: str, action_id: str, list_id: str) -> str:
    """The last row the action took from the list ("" before the first)."""
    try:
        found = AssignCursorModel.get(
            _pk(campaign_id), f"ASSIGNCURSOR#{action_id}#{list_id}", consistent_read=True
        )
    except DoesNotExist:
        return ""
    return str(found.last_row or "")


def assign(
    campaign_id: str, action_id: str, list_id: str, user_id: str, count: int, actor: str
) -> int:
    """Hand up to `count` unassigned rows of the list to the volunteer; how many were."""
    assigned = 0
    while assigned < count:
        want = min(ROUND, count - assigned)
        done: int | None = _from_pool(campaign_id, action_id, list_id, user_id, want, actor)
        if not done:
            done = _from_cursor(campaign_id, action_id, list_id, user_id, want, actor)
        if done is None:
            continue  # another admin moved the cursor meanwhile: read it again
        if done == 0:
            break  # the list is all handed out
        assigned += done
    return assigned


def _from_pool(
    campaign_id: str, action_id: str, list_id: str, user_id: str, want: int, actor: str
) -> int:
    pooled = list(
        AssignPoolModel.query(
            _pk(campaign_id),
            AssignPoolModel.sk.startswith(f"ASSIGNPOOL#{action_id}#{list_id}#"),
            limit=min(want, ROUND // 2),
            consistent_read=True,
        )
    )
    if not pooled:
        return 0
    row_ids = [item.sk.rsplit("#", 1)[1] for item in pooled]
    rows = {
        r.row_id: row_of(r)
        for r in ListRowModel.batch_get([(f"LIST#{list_id}", f"ROW#{rid}") for rid in row_ids])
    }
    stamp = now_iso()
    try:
        with transaction() as tx:
            for item, row_id in zip(pooled, row_ids, strict=True):
                tx.delete(item, condition=AssignPoolModel.pk.exists())
                if row_id in rows:
                    tx.save(
                        _item(rows[row_id], action_id, user_id, actor, stamp),
                        condition=AssignmentModel.pk.does_not_exist(),
                    )
    except TransactWriteError:
        return 0  # taken by another admin at the same moment: the cursor's turn
    return sum(1 for row_id in row_ids if row_id in rows)


def _from_cursor(
    campaign_id: str, action_id: str, list_id: str, user_id: str, want: int, actor: str
) -> int | None:
    last = _cursor_row(campaign_id, action_id, list_id)
    condition = ListRowModel.sk > f"ROW#{last}" if last else ListRowModel.sk.startswith("ROW#")
    rows = [row_of(item) for item in ListRowModel.query(f"LIST#{list_id}", condition, limit=want)]
    rows = [r for r in rows if r.row_id]
    if not rows:
        return 0
    stamp = now_iso()
    cursor_condition = (
        AssignCursorModel.last_row == last if last else AssignCursorModel.pk.does_not_exist()
    )
    try:
        with transaction() as tx:
            for row in rows:
                tx.save(
                    _item(row, action_id, user_id, actor, stamp),
                    condition=AssignmentModel.pk.does_not_exist(),
                )
            tx.save(
                AssignCursorModel(
                    _pk(campaign_id),
                    f"ASSIGNCURSOR#{action_id}#{list_id}",
                    entity="assign_cursor",
                    campaign_id=campaign_id,
                    last_row=rows[-1].row_id,
                    created_at=stamp,
                    updated_at=stamp,
                    updated_by=actor,
                ),
                condition=cursor_condition,
            )
    except TransactWriteError:
        return None
    return len(rows)


def get(campaign_id: str, action_id: str, list_id: str, row_id: str) -> Assignment | None:
    try:
        return _assignment(
            AssignmentModel.get(
                _pk(campaign_id), _sk(action_id, list_id, row_id), consistent_read=True
            )
        )
    except DoesNotExist:
        return None


def of_user(campaign_id: str, user_id: str, *, limit: int, cursor: str | None) -> Page:
    """The volunteer's assignments in the campaign, by action and row."""
    return paged_query(
        AssignmentModel,
        f"ASSIGNEE#{campaign_id}#{user_id}",
        scope=f"assignments:{campaign_id}:{user_id}",
        limit=limit,
        cursor=cursor,
        convert=_assignment,
        index=AssignmentModel.gsi1,
    )


def give_back(campaign_id: str, action_id: str, user_id: str, actor: str) -> int:
    """The volunteer's unreported rows of the action go back to the pool; how many."""
    returned = 0
    stamp = now_iso()
    for item in AssignmentModel.gsi1.query(
        f"ASSIGNEE#{campaign_id}#{user_id}",
        AssignmentModel.gsi1sk.startswith(f"{action_id}#"),
    ):
        given = _assignment(item)  # type: ignore[arg-type]
        if given.reported:
            continue
        try:
            with transaction() as tx:
                tx.delete(
                    AssignmentModel(item.pk, item.sk),
                    condition=(AssignmentModel.user_id == user_id)
                    & (AssignmentModel.reported == False),  # noqa: E712
                )
                tx.save(
                    AssignPoolModel(
                        _pk(campaign_id),
                        f"ASSIGNPOOL#{action_id}#{given.list_id}#{given.row_id}",
                        entity="assign_pool",
                        campaign_id=campaign_id,
                        created_at=stamp,
                        updated_at=stamp,
                        updated_by=actor,
                    )
                )
        except TransactWriteError:
            continue  # reported meanwhile: it stays theirs
        returned += 1
    return returned


def mark_reported(campaign_id: str, action_id: str, list_id: str, row_id: str) -> None:
    """The volunteer reported on their row (kept as theirs: it does not go back)."""
    AssignmentModel(_pk(campaign_id), _sk(action_id, list_id, row_id)).update(
        actions=[AssignmentModel.reported.set(True)], condition=AssignmentModel.pk.exists()
    )
