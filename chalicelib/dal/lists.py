"""Voter lists: metadata, rows, and the match index of their phones and e-mails."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.dal import batch
from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.models import ListKeyModel, ListModel, ListRowModel
from chalicelib.domain import ListRow, Page, VoterList
from chalicelib.errors import NotFound


@dataclass(frozen=True)
class ListMatch:
    external_id: str
    list_id: str
    row_id: str
    provider: str | None  # the CRM the external id is for; None: any


@dataclass(frozen=True)
class RowToStore:
    row: ListRow
    keys: list[str]  # match keys of the row's phone and e-mail


def _meta(item: ListModel) -> VoterList:
    return VoterList(
        campaign_id=item.campaign_id,
        list_id=item.list_id,
        name=item.name,
        row_count=int(item.row_count or 0),
        rejected_count=int(item.rejected_count or 0),
        status=item.status,
        created_at=item.created_at,
        created_by=item.created_by,
        provider=item.provider,
    )


def _row(item: ListRowModel) -> ListRow:
    return ListRow(
        campaign_id=item.campaign_id,
        list_id=item.list_id,
        row_id=item.row_id,
        external_id=item.external_id,
        first_name=item.first_name,
        last_name=item.last_name,
        phone=item.phone,
        email=item.email,
        provider=item.provider,
    )


def create_list(
    campaign_id: str, list_id: str, name: str, actor: str, provider: str | None = None
) -> VoterList:
    stamp = now_iso()
    item = ListModel(
        f"CAMPAIGN#{campaign_id}",
        f"LIST#{list_id}",
        entity="list",
        campaign_id=campaign_id,
        list_id=list_id,
        name=name,
        row_count=0,
        rejected_count=0,
        status="importing",
        provider=provider,
        created_by=actor,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    item.save(condition=ListModel.pk.does_not_exist())
    return _meta(item)


def store_rows(
    campaign_id: str,
    list_id: str,
    rows: Iterable[RowToStore],
    actor: str,
    provider: str | None = None,
) -> int:
    """Write rows and their match keys, streaming, 25 items a call. Returns the calls.

    `provider` is the list's: each row and match key carries it, so that a match says
    which CRM its external id is for.

    The items are the attribute maps `ListRowModel` and `ListKeyModel` serialise to,
    built directly: constructing and serialising a pynamodb model per item cost more
    than the rest of an upload's work on our side.
    """
    stamp = {"S": now_iso()}
    by = {"S": actor}
    campaign = {"S": campaign_id}
    listed = {"S": list_id}
    row_pk = {"S": f"LIST#{list_id}"}
    row_entity = {"S": "list_row"}
    key_entity = {"S": "list_key"}
    key_prefix = f"LKEY#{campaign_id}#"
    extra = {"provider": {"S": provider}} if provider else {}

    def items() -> Iterator[dict[str, Any]]:
        for entry in rows:
            row = entry.row
            if not row.row_id or not row.external_id:
                raise ValueError("a list row needs a row id and an external id")
            row_id = {"S": row.row_id}
            external_id = {"S": row.external_id}
            shared = {  # what the row and its match keys both carry
                "created_at": stamp,
                "updated_at": stamp,
                "updated_by": by,
                "campaign_id": campaign,
                "list_id": listed,
                "row_id": row_id,
                "external_id": external_id,
                **extra,
            }
            item: dict[str, Any] = {
                "pk": row_pk,
                "sk": {"S": f"ROW#{row.row_id}"},
                "entity": row_entity,
                **shared,
            }
            for name, value in (
                ("first_name", row.first_name),
                ("last_name", row.last_name),
                ("phone", row.phone),
                ("email", row.email),
            ):
                if value is not None:
                    item[name] = {"S": value}
            yield item
            key_sk = {"S": f"{list_id}#{row.row_id}"}
            for key in entry.keys:
                yield {"pk": {"S": key_prefix + key}, "sk": key_sk, "entity": key_entity, **shared}

    return batch.write(config.settings().main_table, puts=items())


def finish_list(
    campaign_id: str, list_id: str, *, row_count: int, rejected_count: int, actor: str
) -> VoterList:
    item = ListModel(f"CAMPAIGN#{campaign_id}", f"LIST#{list_id}")
    item.update(
        actions=[
            ListModel.row_count.set(row_count),
            ListModel.rejected_count.set(rejected_count),
            ListModel.status.set("ready"),
            ListModel.updated_at.set(now_iso()),
            ListModel.updated_by.set(actor),
        ],
        condition=ListModel.pk.exists(),
    )
    return _meta(item)


def get_list(campaign_id: str, list_id: str) -> VoterList | None:
    try:
        return _meta(ListModel.get(f"CAMPAIGN#{campaign_id}", f"LIST#{list_id}"))
    except DoesNotExist:
        return None


def list_lists(campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    return paged_query(
        ListModel,
        f"CAMPAIGN#{campaign_id}",
        scope=f"lists:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_meta,
        range_key_condition=ListModel.sk.startswith("LIST#"),
        newest_first=True,
    )


def get_row(list_id: str, row_id: str) -> ListRow | None:
    try:
        return _row(ListRowModel.get(f"LIST#{list_id}", f"ROW#{row_id}"))
    except DoesNotExist:
        return None


def rows_of(list_id: str) -> Iterator[ListRow]:
    for item in ListRowModel.query(
        f"LIST#{list_id}", range_key_condition=ListRowModel.sk.startswith("ROW#")
    ):
        yield _row(item)


def match_for_key(campaign_id: str, key: str) -> ListMatch | None:
    """The first list row of the campaign with this match key."""
    for item in ListKeyModel.query(f"LKEY#{campaign_id}#{key}", limit=1):
        return ListMatch(str(item.external_id), str(item.list_id), str(item.row_id), item.provider)
    return None


def delete_list(
    campaign_id: str, list_id: str, row_keys: Iterable[tuple[str, list[str]]], actor: str
) -> None:
    """Erase a list: its rows, its match keys, then its metadata.

    `row_keys` gives (row_id, match keys) for every row. The list is marked
    `deleting` first, so a crash half-way leaves a visible, re-deletable list.
    """
    meta = ListModel(f"CAMPAIGN#{campaign_id}", f"LIST#{list_id}")
    try:
        meta.update(
            actions=[
                ListModel.status.set("deleting"),
                ListModel.updated_at.set(now_iso()),
                ListModel.updated_by.set(actor),
            ],
            condition=ListModel.pk.exists(),
        )
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound("no such list") from None
        raise

    def keys() -> Iterator[dict]:
        for row_id, match_keys in row_keys:
            yield {"pk": {"S": f"LIST#{list_id}"}, "sk": {"S": f"ROW#{row_id}"}}
            for key in match_keys:
                yield {"pk": {"S": f"LKEY#{campaign_id}#{key}"}, "sk": {"S": f"{list_id}#{row_id}"}}

    batch.write(config.settings().main_table, deletes=keys())
    meta.delete()
