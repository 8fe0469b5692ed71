"""Campaign deletions: the request, the erasure's resumable parts, the receipt.

The request lives at DELETION#<cid> / STATE, beside the campaign rather than in it, so
that erasing every CAMPAIGN#<cid> item leaves it standing as the receipt. While a
deletion is scheduled or under way it sits in gsi1 (DELETIONS, <scheduled_for>#<cid>),
where the daily run finds what is due with one query.

Each part of an erasure (CHUNK#<name>) keeps its counts and a running digest of the
keys it erased. Before deleting a page of keys it writes them to `pending`; after, it
folds them into its counts and digest. A crash between the two leaves `pending` set,
and the next run deletes those keys again (a no-op for the ones already gone) and
counts them once: the receipt's counts are exact whatever happened in between.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import aws, config
from chalicelib.dal import batch
from chalicelib.dal.common import iso, now, now_iso
from chalicelib.dal.models import (
    CampaignModel,
    DeletionModel,
    ErasureChunkModel,
    JoinCodeModel,
    ListModel,
    ListRowModel,
)
from chalicelib.domain.lists import ListRow
from chalicelib.domain.privacy import Deletion
from chalicelib.errors import Conflict, NotFound

DUE_INDEX = "DELETIONS"
ERASED_INDEX = "ERASED"  # erased, their audit trail to sweep once more
LEASE = timedelta(minutes=20)  # a run that stops answering for this long is taken over


def _pk(campaign_id: str) -> str:
    return f"DELETION#{campaign_id}"


def _deletion(item: DeletionModel) -> Deletion:
    return Deletion(
        campaign_id=item.campaign_id,
        state=item.state,
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        campaign_name=item.campaign_name,
        scheduled_for=item.scheduled_for,
        cancelled_by=item.cancelled_by,
        cancelled_at=item.cancelled_at,
        reminded=bool(item.reminded),
        skipped_grace=item.skipped_grace,
        notify=[str(address) for address in item.notify or []],
        started_at=item.started_at,
        erased_at=item.erased_at,
        counts=dict(item.counts or {}),
        digest=item.digest,
    )


def get(campaign_id: str) -> Deletion | None:
    try:
        return _deletion(DeletionModel.get(_pk(campaign_id), "STATE", consistent_read=True))
    except DoesNotExist:
        return None


def schedule(campaign_id: str, campaign_name: str, *, actor: str, when: datetime) -> Deletion:
    """Schedule the campaign's erasure at `when`. 409 while one is scheduled or under way."""
    stamp = now_iso()
    due = iso(when)
    item = DeletionModel(
        _pk(campaign_id),
        "STATE",
        entity="deletion",
        gsi1pk=DUE_INDEX,
        gsi1sk=f"{due}#{campaign_id}",
        campaign_id=campaign_id,
        campaign_name=campaign_name,
        state="scheduled",
        scheduled_for=due,
        requested_by=actor,
        requested_at=stamp,
        reminded=False,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    try:
        item.save(
            condition=DeletionModel.pk.does_not_exist() | (DeletionModel.state == "cancelled")
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("a deletion of this campaign is already scheduled") from None
        raise
    return _deletion(item)


def cancel(campaign_id: str, actor: str) -> Deletion:
    """Cancel a scheduled deletion: 404 when none is scheduled, 409 once it has begun."""
    item = DeletionModel(_pk(campaign_id), "STATE")
    stamp = now_iso()
    try:
        item.update(
            actions=[
                DeletionModel.state.set("cancelled"),
                DeletionModel.cancelled_by.set(actor),
                DeletionModel.cancelled_at.set(stamp),
                DeletionModel.gsi1pk.remove(),
                DeletionModel.gsi1sk.remove(),
                DeletionModel.updated_at.set(stamp),
                DeletionModel.updated_by.set(actor),
            ],
            condition=DeletionModel.state == "scheduled",
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = get(campaign_id)
        if current is not None and current.state in ("erasing", "done"):
            raise Conflict("the erasure has begun; it cannot be cancelled") from None
        raise NotFound("no deletion of this campaign is scheduled") from None
    return _deletion(item)


def due(until: datetime) -> list[Deletion]:
    """Deletions scheduled (or under way) for `until` or earlier, soonest first."""
    return [
        _deletion(item)  # type: ignore[arg-type]
        for item in DeletionModel.gsi1.query(
            DUE_INDEX, range_key_condition=DeletionModel.gsi1sk <= f"{iso(until)}#~"
        )
    ]


def pending() -> list[Deletion]:
    """Every deletion scheduled or under way."""
    return [_deletion(item) for item in DeletionModel.gsi1.query(DUE_INDEX)]  # type: ignore[arg-type]


def erased_before(until: datetime) -> list[Deletion]:
    """Erasures done before `until` whose audit trail has not been swept again."""
    return [
        _deletion(item)  # type: ignore[arg-type]
        for item in DeletionModel.gsi1.query(
            ERASED_INDEX, range_key_condition=DeletionModel.gsi1sk <= f"{iso(until)}#~"
        )
    ]


def close(campaign_id: str, swept: int) -> None:
    """The late sweep is done: its records join the receipt's count, and the receipt
    leaves the index."""
    item = DeletionModel.get(_pk(campaign_id), "STATE", consistent_read=True)
    counts = dict(item.counts or {})
    if swept:
        counts["audit_record"] = int(counts.get("audit_record", 0)) + swept
    item.update(
        actions=[
            DeletionModel.counts.set(counts),
            DeletionModel.gsi1pk.remove(),
            DeletionModel.gsi1sk.remove(),
        ],
        condition=DeletionModel.state == "done",
    )


def mark_reminded(campaign_id: str) -> None:
    DeletionModel(_pk(campaign_id), "STATE").update(
        actions=[DeletionModel.reminded.set(True)], condition=DeletionModel.state == "scheduled"
    )


def take(
    campaign_id: str,
    runner: str,
    *,
    notify: list[str],
    early: str | None = None,
) -> Deletion | None:
    """Begin (or resume) the erasure as `runner`, holding its lease. None when it is not
    due, already done, cancelled, or another runner holds a live lease. `early` (who ran
    it before its time, and why) lets a scheduled deletion start now."""
    stamp = now()
    item = DeletionModel(_pk(campaign_id), "STATE")
    actions: list[Any] = [
        DeletionModel.state.set("erasing"),
        DeletionModel.runner.set(runner),
        DeletionModel.lease_until.set(iso(stamp + LEASE)),
        DeletionModel.started_at.set(DeletionModel.started_at | iso(stamp)),
        DeletionModel.notify.set(DeletionModel.notify | notify),
        DeletionModel.updated_at.set(iso(stamp)),
    ]
    due_now: Any = DeletionModel.scheduled_for <= iso(stamp)
    if early is not None:
        actions.append(DeletionModel.skipped_grace.set(early))
        due_now = DeletionModel.scheduled_for.exists()
    condition = ((DeletionModel.state == "scheduled") & due_now) | (
        (DeletionModel.state == "erasing")
        & ((DeletionModel.lease_until < iso(stamp)) | (DeletionModel.runner == runner))
    )
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _deletion(item)


def release(campaign_id: str, runner: str) -> None:
    """The runner stopped on time (its deadline) and holds the lease no longer: the next
    run resumes at once, not once the lease has lapsed."""
    try:
        DeletionModel(_pk(campaign_id), "STATE").update(
            actions=[DeletionModel.lease_until.set(iso(now()))],
            condition=(DeletionModel.state == "erasing") & (DeletionModel.runner == runner),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def renew(campaign_id: str, runner: str) -> None:
    """Extend the runner's lease (a long erasure calls this between pages)."""
    DeletionModel(_pk(campaign_id), "STATE").update(
        actions=[DeletionModel.lease_until.set(iso(now() + LEASE))],
        condition=(DeletionModel.state == "erasing") & (DeletionModel.runner == runner),
    )


def finish(campaign_id: str, runner: str, *, counts: dict[str, int], digest: str) -> Deletion:
    """The erasure is done: the request becomes its receipt (no campaign name, no
    addresses), and its parts' progress items go."""
    stamp = now_iso()
    item = DeletionModel(_pk(campaign_id), "STATE")
    item.update(
        actions=[
            DeletionModel.state.set("done"),
            DeletionModel.erased_at.set(stamp),
            DeletionModel.counts.set(counts),
            DeletionModel.digest.set(digest),
            DeletionModel.campaign_name.remove(),
            DeletionModel.notify.remove(),
            DeletionModel.runner.remove(),
            DeletionModel.lease_until.remove(),
            DeletionModel.gsi1pk.set(ERASED_INDEX),  # for the late sweep of its audit trail
            DeletionModel.gsi1sk.set(f"{stamp}#{campaign_id}"),
            DeletionModel.updated_at.set(stamp),
        ],
        condition=(DeletionModel.state == "erasing") & (DeletionModel.runner == runner),
    )
    batch.write(
        config.settings().main_table,
        deletes=(
            {"pk": {"S": _pk(campaign_id)}, "sk": {"S": f"CHUNK#{c.name}"}}
            for c in ErasureChunkModel.query(
                _pk(campaign_id), ErasureChunkModel.sk.startswith("CHUNK#")
            )
        ),
    )
    return _deletion(item)


# ---- the parts of an erasure -------------------------------------------------------------


def chunk(campaign_id: str, name: str) -> ErasureChunkModel:
    """The part's progress, created empty the first time it is asked for."""
    try:
        return ErasureChunkModel.get(_pk(campaign_id), f"CHUNK#{name}", consistent_read=True)
    except DoesNotExist:
        stamp = now_iso()
        item = ErasureChunkModel(
            _pk(campaign_id),
            f"CHUNK#{name}",
            entity="erasure_chunk",
            campaign_id=campaign_id,
            name=name,
            done=False,
            counts={},
            digest="",
            created_at=stamp,
            updated_at=stamp,
            updated_by="erasure",
        )
        item.save()
        return item


def chunks_of(campaign_id: str) -> list[ErasureChunkModel]:
    return list(
        ErasureChunkModel.query(_pk(campaign_id), ErasureChunkModel.sk.startswith("CHUNK#"))
    )


def hold_pending(item: ErasureChunkModel, keys: list[list[str]]) -> None:
    """Write the page about to be deleted: [table, pk, sk, kind] each."""
    item.update(actions=[ErasureChunkModel.pending.set(keys)])


def fold_pending(item: ErasureChunkModel, counts: dict[str, int], digest: str) -> None:
    item.update(
        actions=[
            ErasureChunkModel.counts.set(counts),
            ErasureChunkModel.digest.set(digest),
            ErasureChunkModel.pending.remove(),
        ]
    )


def chunk_done(item: ErasureChunkModel) -> None:
    item.update(actions=[ErasureChunkModel.done.set(True)])


# ---- what there is to erase --------------------------------------------------------------


def delete_keys(table: str, keys: list[tuple[str, str]]) -> int:
    """Delete items by key from one table (25 a call); returns the calls."""
    return batch.write(
        table, deletes=({"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys))
    )


def campaign_items(campaign_id: str, limit: int, *, prefix: str = "") -> list[tuple[str, str, str]]:
    """Up to `limit` items of the campaign's partition, as (pk, sk, kind): keys only.

    A plain Query (not a model's): the partition holds items of every kind, and a base
    model's pynamodb connection would stand in for its subclasses' (without their index)."""
    condition = "pk = :pk"
    values: dict[str, Any] = {":pk": {"S": f"CAMPAIGN#{campaign_id}"}}
    if prefix:
        condition += " AND begins_with(sk, :prefix)"
        values[":prefix"] = {"S": prefix}
    out = aws.dynamodb().query(
        TableName=config.settings().main_table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        ProjectionExpression="pk, sk, entity",
        Limit=limit,
        ConsistentRead=True,
    )
    return [(i["pk"]["S"], i["sk"]["S"], i.get("entity", {}).get("S", "")) for i in out["Items"]]


def list_ids(campaign_id: str) -> list[str]:
    return [
        str(item.list_id)
        for item in ListModel.query(
            f"CAMPAIGN#{campaign_id}",
            ListModel.sk.startswith("LIST#"),
            attributes_to_get=["list_id"],
        )
    ]


def list_rows(list_id: str, prefix: str, limit: int) -> list[ListRow]:
    """Up to `limit` rows of the list whose row id starts with `prefix`."""
    from chalicelib.dal.lists import row_of

    return [
        row_of(item)
        for item in ListRowModel.query(
            f"LIST#{list_id}",
            range_key_condition=ListRowModel.sk.startswith(f"ROW#{prefix}"),
            limit=limit,
        )
    ]


def join_code_keys(campaign_id: str, limit: int) -> list[tuple[str, str]]:
    return [
        (item.pk, item.sk)
        for item in JoinCodeModel.gsi1.query(f"JOINCODES#{campaign_id}", limit=limit)
    ]


def campaign_exists(campaign_id: str) -> bool:
    try:
        CampaignModel.get(f"CAMPAIGN#{campaign_id}", "META", attributes_to_get=["pk"])
    except DoesNotExist:
        return False
    return True
