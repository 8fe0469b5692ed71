"""Voter lists on DynamoDB Local: rows and match keys carry the list's provider, and a
deleted list leaves no row or key behind."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.dal import lists
from chalicelib.domain import ListRow

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
    lists.finish_list("c1", list_id, row_count=len(rows), rejected_count=0, actor="admin")


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


def test_deleting_a_list_erases_its_rows_and_keys(ddb: Tables) -> None:
    _store("gone", "van", {"1001": ["key-a"], "1002": ["key-b", "key-c"]})
    _store("kept", "van", {"1003": ["key-d"]})
    lists.delete_list("c1", "gone", [("000001", ["key-a"]), ("000002", ["key-b", "key-c"])], "x")

    left = {(item["pk"], item["sk"]) for item in ddb.main.scan(ConsistentRead=True)["Items"]}
    assert not [key for key in left if "gone" in key[0] or key[1].startswith("gone")]
    assert ("LKEY#c1#key-d", "kept#000001") in left
    assert lists.get_list("c1", "gone") is None
    assert lists.match_for_key("c1", "key-b") is None
