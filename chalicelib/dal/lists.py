"""Voter lists: metadata, rows, and the match index of their phones and e-mails."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import config
from chalicelib.dal import batch
from chalicelib.dal.common import ItemKey, now_iso, paged_query
from chalicelib.dal.models import ListErrorModel, ListKeyModel, ListModel, ListRowModel
from chalicelib.domain.lists import ListRow, VoterList
from chalicelib.domain.paging import Page
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
        rows_total=None if item.rows_total is None else int(item.rows_total),
        failure=item.failure,
        crm_settings=dict(item.crm_settings or {}),
    )


def row_of(item: ListRowModel) -> ListRow:
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
    campaign_id: str,
    list_id: str,
    name: str,
    actor: str,
    provider: str | None = None,
    status: str = "importing",
    crm_settings: dict[str, Any] | None = None,
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
        status=status,
        provider=provider,
        crm_settings=crm_settings or None,
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


def list_key(campaign_id: str, list_id: str) -> ItemKey[VoterList]:
    return ItemKey(ListModel, f"CAMPAIGN#{campaign_id}", f"LIST#{list_id}", _meta)


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
        return row_of(ListRowModel.get(f"LIST#{list_id}", f"ROW#{row_id}"))
    except DoesNotExist:
        return None


MATCH_CANDIDATES = 10  # rows a match key is looked up in, at most


def match_for_key(campaign_id: str, key: str) -> ListMatch | None:
    """The first row with this match key in a `ready` list of the campaign."""
    return matches_for_keys(campaign_id, [key])[0]


def matches_for_keys(campaign_id: str, keys: list[str]) -> list[ListMatch | None]:
    """For each match key, the first row with it in a list of the campaign that is `ready`
    (a list importing, failed or being deleted matches nothing). One Query per key and one
    BatchGetItem for the lists' states, whatever matched: the calls, and so the time, are
    the same for a contact on a list and one that is not."""
    candidates = [
        [
            ListMatch(str(item.external_id), str(item.list_id), str(item.row_id), item.provider)
            for item in ListKeyModel.query(f"LKEY#{campaign_id}#{key}", limit=MATCH_CANDIDATES)
        ]
        for key in keys
    ]
    list_ids = [m.list_id for found in candidates for m in found]
    ready = ready_lists(campaign_id, list_ids)
    return [next((m for m in found if m.list_id in ready), None) for found in candidates]


def ready_lists(campaign_id: str, list_ids: list[str]) -> set[str]:
    """Which of these lists are `ready`: one BatchGetItem, made even for none (with the
    campaign's own item), so that asking costs the same whatever was found."""
    keys = [(f"CAMPAIGN#{campaign_id}", f"LIST#{lid}") for lid in dict.fromkeys(list_ids)]
    keys = [*keys[:99], (f"CAMPAIGN#{campaign_id}", "META")]
    return {
        str(item.list_id)
        for item in ListModel.batch_get(keys, attributes_to_get=["sk", "list_id", "status"])
        if item.sk.startswith("LIST#") and item.status == "ready"
    }


# ---- the import pipeline's bookkeeping ------------------------------------------------


def _meta_key(campaign_id: str, list_id: str) -> ListModel:
    return ListModel(f"CAMPAIGN#{campaign_id}", f"LIST#{list_id}")


def start_import(campaign_id: str, list_id: str, *, rows_total: int, chunks_total: int) -> bool:
    """The file is read and split: the list is importing its chunks. True the first time;
    False when it already was (a redelivered start), or is no longer waiting."""
    try:
        _meta_key(campaign_id, list_id).update(
            actions=[
                ListModel.status.set("importing"),
                ListModel.rows_total.set(rows_total),
                ListModel.chunks_total.set(chunks_total),
                ListModel.updated_at.set(now_iso()),
            ],
            condition=ListModel.status.is_in("waiting_upload", "importing")
            & ListModel.chunks_total.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def chunk_done(
    campaign_id: str, list_id: str, chunk: int, *, imported: int, rejected: int
) -> VoterList | None:
    """Count one chunk's rows, once (a redelivered chunk is not counted again); the list
    as it is after, or None when this chunk was counted already or the list is no longer
    importing. The last chunk makes the list `ready`."""
    item = _meta_key(campaign_id, list_id)
    try:
        item.update(
            actions=[
                ListModel.row_count.add(imported),
                ListModel.rejected_count.add(rejected),
                ListModel.done_chunks.add({str(chunk)}),
                ListModel.updated_at.set(now_iso()),
            ],
            condition=(ListModel.status == "importing")
            & ~ListModel.done_chunks.contains(str(chunk)),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    if len(item.done_chunks or ()) >= int(item.chunks_total or 0):
        return mark_ready(campaign_id, list_id) or _meta(item)
    return _meta(item)


def mark_ready(campaign_id: str, list_id: str) -> VoterList | None:
    item = _meta_key(campaign_id, list_id)
    try:
        item.update(
            actions=[ListModel.status.set("ready"), ListModel.updated_at.set(now_iso())],
            condition=ListModel.status == "importing",
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _meta(item)


def mark_failed(campaign_id: str, list_id: str, reason: str) -> bool:
    """The import failed: the list keeps its errors and no rows (the caller erases any)."""
    try:
        _meta_key(campaign_id, list_id).update(
            actions=[
                ListModel.status.set("failed"),
                ListModel.failure.set(reason[:500]),
                ListModel.updated_at.set(now_iso()),
            ],
            condition=ListModel.status.is_in("waiting_upload", "importing"),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_deleting(campaign_id: str, list_id: str, actor: str) -> VoterList:
    """The list stops matching at once; its rows go in the background."""
    item = _meta_key(campaign_id, list_id)
    try:
        item.update(
            actions=[
                ListModel.status.set("deleting"),
                ListModel.erased_parts.remove(),  # a failed list's rows were erased: count anew
                ListModel.updated_at.set(now_iso()),
                ListModel.updated_by.set(actor),
            ],
            condition=ListModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no such list") from None
        raise
    return _meta(item)


def erase_part_done(campaign_id: str, list_id: str, part: str, *, parts: int) -> bool:
    """Count one part of the list's rows erased; True for the call that completes them."""
    item = _meta_key(campaign_id, list_id)
    try:
        item.update(
            actions=[ListModel.erased_parts.add({part})],
            condition=ListModel.pk.exists() & ~ListModel.erased_parts.contains(part),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return len(item.erased_parts or ()) >= parts


def remove_meta(campaign_id: str, list_id: str) -> None:
    _meta_key(campaign_id, list_id).delete()


def put_errors(campaign_id: str, list_id: str, problems: Iterable[dict[str, Any]]) -> None:
    """Keep rows' problems (idempotent: one item per row and field)."""
    stamp = {"S": now_iso()}

    def items() -> Iterator[dict[str, Any]]:
        for problem in problems:
            yield {
                "pk": {"S": f"LIST#{list_id}"},
                "sk": {"S": f"ERROR#{int(problem['row']):09d}#{problem['field']}"},
                "entity": {"S": "list_error"},
                "campaign_id": {"S": campaign_id},
                "list_id": {"S": list_id},
                "row": {"N": str(int(problem["row"]))},
                "field": {"S": str(problem["field"])},
                "message": {"S": str(problem["reason"])[:300]},
                "stored": {"BOOL": bool(problem.get("stored"))},
                "created_at": stamp,
                "updated_at": stamp,
                "updated_by": {"S": "import"},
            }

    batch.write(config.settings().main_table, puts=items())


def list_errors(list_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The first `limit` problems, by row number."""
    return [
        {"row": int(item.row), "field": item.field, "message": item.message, "stored": item.stored}
        for item in ListErrorModel.query(
            f"LIST#{list_id}", ListErrorModel.sk.startswith("ERROR#"), limit=limit
        )
    ]


def error_keys(list_id: str, limit: int) -> list[tuple[str, str]]:
    return [
        (item.pk, item.sk)
        for item in ListErrorModel.query(
            f"LIST#{list_id}",
            ListErrorModel.sk.startswith("ERROR#"),
            limit=limit,
            attributes_to_get=["pk", "sk"],
        )
    ]
