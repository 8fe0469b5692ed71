"""Actions on DynamoDB Local (`dal.actions`): what is stored, updates, soft delete and
restore, filtered lists paged."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import pytest
from pynamodb.exceptions import PutError

from chalicelib.dal import actions
from chalicelib.domain.actions import Question, Response
from chalicelib.domain.paging import Page
from chalicelib.errors import Conflict, NotFound
from tests.ddblocal.helpers import (
    BOOKKEEPING,
    add_volunteer,
    make_campaign,
    new_action,
    pages,
    stored,
    without,
)

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


def test_create_action_stores_it_and_get_action_reads_it_back(ddb: Tables) -> None:
    make_campaign("c1")

    action = new_action("c1", "A1")

    assert actions.get_action("c1", "A1") == action
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert item is not None
    assert item["entity"] == "action"
    assert item["title"] == "Action A1"
    assert item["created_by"] == "founder"
    assert "deleted_at" not in item
    assert actions.get_action("c1", "nope") is None
    assert actions.get_action("nope", "A1") is None


def test_create_action_without_instructions_or_questions(ddb: Tables) -> None:
    make_campaign("c1")

    action = new_action("c1", "A1", instructions=None, questions=[])

    got = actions.get_action("c1", "A1")
    assert got == action
    assert got is not None
    assert got.instructions is None
    assert got.questions == []
    assert "instructions" not in (stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") or {})


def test_create_action_never_overwrites(ddb: Tables) -> None:
    make_campaign("c1")
    first = new_action("c1", "A1")

    with pytest.raises(PutError):
        new_action("c1", "A1", status="draft", instructions="other")

    assert actions.get_action("c1", "A1") == first


def test_update_action_sets_and_removes_fields(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    questions = [Question("q9", "New question", [Response("r9", "Maybe")])]

    updated = actions.update_action(
        "c1",
        "A1",
        {"title": "Call voters", "instructions": None, "questions": questions, "status": "closed"},
        "editor",
    )

    assert updated.title == "Call voters"
    assert updated.instructions is None
    assert updated.questions == questions
    assert updated.status == "closed"
    assert updated.updated_by == "editor"
    assert updated.created_by == "founder"
    assert actions.get_action("c1", "A1") == updated
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert item is not None
    assert "instructions" not in item


def test_update_action_of_nothing_raises_not_found_and_creates_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        actions.update_action("c1", "nope", {"title": "x"}, "editor")
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#nope") is None


def test_update_of_a_deleted_action_is_refused_and_changes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    actions.soft_delete_action("c1", "A1", "remover")
    before = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    with pytest.raises(Conflict):
        actions.update_action("c1", "A1", {"title": "x"}, "editor")

    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == before


def test_soft_delete_keeps_every_field_and_restore_brings_it_back_exactly(ddb: Tables) -> None:
    make_campaign("c1")
    original = new_action("c1", "A1")
    original_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    deleted = actions.soft_delete_action("c1", "A1", "remover")

    assert deleted.deleted
    assert deleted.deleted_by == "remover"
    assert deleted.updated_by == "remover"
    assert actions.get_action("c1", "A1") == deleted
    deleted_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    # a deleted action leaves the live index (its keys are bookkeeping), and keeps all else
    assert without(deleted_item, *BOOKKEEPING, "deleted_at", "deleted_by") == without(
        original_item, *BOOKKEEPING, "gsi1pk", "gsi1sk"
    )
    assert replace(deleted, updated_at="", updated_by="", deleted_at=None, deleted_by=None) == (
        replace(original, updated_at="", updated_by="")
    )

    restored = actions.restore_action("c1", "A1", "restorer")

    assert not restored.deleted
    assert restored.deleted_by is None
    assert restored.updated_by == "restorer"
    assert actions.get_action("c1", "A1") == restored
    restored_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert without(restored_item, *BOOKKEEPING) == without(original_item, *BOOKKEEPING)
    assert {k: v for k, v in asdict(restored).items() if k not in BOOKKEEPING} == {
        k: v for k, v in asdict(original).items() if k not in BOOKKEEPING
    }


def test_soft_delete_twice_changes_nothing_the_second_time(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    first = actions.soft_delete_action("c1", "A1", "first")
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    second = actions.soft_delete_action("c1", "A1", "second")

    assert second == first
    assert second.deleted_by == "first"
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == item


def test_restore_of_a_live_action_changes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    action = new_action("c1", "A1")
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    assert actions.restore_action("c1", "A1", "restorer") == action
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == item


def test_soft_delete_and_restore_of_nothing_raise_not_found(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        actions.soft_delete_action("c1", "nope", "remover")
    with pytest.raises(NotFound):
        actions.restore_action("c1", "nope", "restorer")
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#nope") is None


def test_list_actions_filters(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")  # members are not actions
    new_action("c1", "A1", status="live")
    new_action("c1", "A2", status="draft")
    new_action("c1", "A3", status="live")
    new_action("c1", "A4", status="closed")
    new_action("c1", "A5", status="draft")
    actions.soft_delete_action("c1", "A3", "remover")
    actions.soft_delete_action("c1", "A5", "remover")

    def ids(live_only: bool, include_deleted: bool) -> list[str]:
        page = actions.list_actions(
            "c1", live_only=live_only, include_deleted=include_deleted, limit=50, cursor=None
        )
        assert page.next_cursor is None
        return [a.action_id for a in page.items]

    assert ids(False, False) == ["A1", "A2", "A4"]
    assert ids(True, False) == ["A1"]
    assert ids(False, True) == ["A1", "A2", "A3", "A4", "A5"]
    assert ids(True, True) == ["A1", "A3"]
    assert actions.list_actions(
        "other", live_only=False, include_deleted=True, limit=5, cursor=None
    ) == Page(items=[], next_cursor=None)


@pytest.mark.parametrize(
    ("live_only", "include_deleted"), [(False, False), (True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize("limit", [1, 3, 4])
def test_list_actions_pages_with_filters_return_every_match_exactly_once(
    ddb: Tables, live_only: bool, include_deleted: bool, limit: int
) -> None:
    make_campaign("c1")
    statuses = ["live", "draft", "closed", "live"]
    expected = []
    for i in range(17):
        status = statuses[i % len(statuses)]
        new_action("c1", f"A{i:02d}", status=status)
        deleted = i % 3 == 0
        if deleted:
            actions.soft_delete_action("c1", f"A{i:02d}", "remover")
        if (include_deleted or not deleted) and (not live_only or status == "live"):
            expected.append(f"A{i:02d}")

    got = pages(
        lambda c: actions.list_actions(
            "c1", live_only=live_only, include_deleted=include_deleted, limit=limit, cursor=c
        )
    )

    assert [a.action_id for p in got for a in p] == expected
    assert all(len(p) == limit for p in got[:-1]), [len(p) for p in got]
    assert len(got[-1]) <= limit
