"""Voter lists on DynamoDB Local: rows and match keys carry the list's provider, and a
deleted list leaves no row or key behind."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.dal import lists
from chalicelib.domain.lists import ListRow

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


def _row(list_id: str, number: int, external_id: str) -> ListRow:
    return ListRow("c1", list_id, f"{number:06d}", external_id, "Ann", None, None, None)


def _store(list_id: str, provider: str | None, rows: dict[str, list[str]]) -> None:
    lists.create_list("c1", list_id, f"List {list_id}", "admin", provider)
    to_store = [
        lists.RowToStore(_row(list_id, n, external_id), keys)
        for n, (external_id, keys) in enumerate(rows.items(), start=1)
    ]
    lists.store_rows("c1", list_id, iter(to_store), "admin", provider)
    lists.mark_ready("c1", list_id)


def test_rows_and_match_keys_carry_the_lists_provider(ddb: Tables) -> None:
    _store("pdilist", "pdi", {"2001": ["key-a", "key-b"]})
    _store("anylist", None, {"3001": ["key-c"]})

    assert lists.get_list("c1", "pdilist").provider == "pdi"  # type: ignore[union-attr]
    assert lists.get_list("c1", "anylist").provider is None  # type: ignore[union-attr]
    assert lists.get_row("pdilist", "000001") == replace(_row("pdilist", 1, "2001"), provider="pdi")
    assert lists.match_for_key("c1", "key-b") == lists.ListMatch("2001", "pdilist", "000001", "pdi")
    assert lists.match_for_key("c1", "key-c") == lists.ListMatch("3001", "anylist", "000001", None)
    assert lists.match_for_key("c2", "key-a") is None  # another campaign's index
    stored = ddb.main.get_item(Key={"pk": "LKEY#c1#key-a", "sk": "pdilist#000001"})["Item"]
    assert stored["provider"] == "pdi"
    assert (
        "provider"
        not in ddb.main.get_item(Key={"pk": "LKEY#c1#key-c", "sk": "anylist#000001"})["Item"]
    )


def test_only_a_ready_list_matches(ddb: Tables) -> None:
    _store("ready", "van", {"1001": ["key-a"]})
    lists.create_list("c1", "loading", "Loading", "admin", "van")
    lists.store_rows(
        "c1", "loading", iter([lists.RowToStore(_row("loading", 1, "2001"), ["key-b"])]), "a", "van"
    )
    assert lists.match_for_key("c1", "key-a") == lists.ListMatch("1001", "ready", "000001", "van")
    assert lists.match_for_key("c1", "key-b") is None  # still importing
    lists.mark_ready("c1", "loading")
    assert lists.match_for_key("c1", "key-b") == lists.ListMatch("2001", "loading", "000001", "van")
    lists.mark_deleting("c1", "ready", "admin")
    assert lists.match_for_key("c1", "key-a") is None  # stops matching at once


def test_a_chunk_counts_once_and_the_last_makes_the_list_ready(ddb: Tables) -> None:
    lists.create_list("c1", "big", "Big", "admin", None, status="waiting_upload")
    assert lists.start_import("c1", "big", rows_total=5, chunks_total=2)
    assert not lists.start_import("c1", "big", rows_total=5, chunks_total=2)  # redelivered
    first = lists.chunk_done("c1", "big", 0, imported=3, rejected=0)
    assert first is not None and first.status == "importing"
    assert lists.chunk_done("c1", "big", 0, imported=3, rejected=0) is None  # counted once
    last = lists.chunk_done("c1", "big", 1, imported=1, rejected=1)
    assert last is not None and last.status == "ready"
    done = lists.get_list("c1", "big")
    assert done is not None and (done.row_count, done.rejected_count) == (4, 1)
