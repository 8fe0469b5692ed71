"""Writing and reading audit records."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import config
from chalicelib.audit.models import RETENTION_DAYS, AuditModel
from chalicelib.dal import batch
from chalicelib.dal.common import iso, now, paged_query
from chalicelib.domain.paging import Page

ANONYMOUS_SCOPE = "AUTH#anonymous"
OPERATOR_SCOPE = "OPERATOR"  # operators' commands (tools/): grants, erasures, incidents


@dataclass(frozen=True)
class AuditRecord:
    event_id: str
    at: str  # ISO 8601 UTC, milliseconds
    actor_id: str | None
    event: str
    target: str
    campaign_id: str | None = None
    user_id: str | None = None
    fields: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    operator: bool = False  # an operator's command: kept apart from any campaign's trail

    @property
    def scope(self) -> str:
        if self.operator:
            return OPERATOR_SCOPE
        if self.campaign_id:
            return f"CAMPAIGN#{self.campaign_id}"
        if self.user_id:
            return f"USER#{self.user_id}"
        return ANONYMOUS_SCOPE

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        if not self.operator:
            del found["operator"]  # lines archived before operators' records read the same
        return found


def _expiry(at: str) -> int:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return int((moment + timedelta(days=RETENTION_DAYS)).timestamp())


def _item(record: AuditRecord) -> AuditModel:
    sk = f"{record.at}#{record.event_id}"
    return AuditModel(
        record.scope,
        sk,
        gsi1pk=day_key(record.at[:10], record.event_id),
        gsi1sk=sk,
        event_id=record.event_id,
        at=record.at,
        actor_id=record.actor_id,
        event=record.event,
        target=record.target,
        campaign_id=record.campaign_id,
        user_id=record.user_id,
        fields=list(record.fields),
        values=dict(record.values),
        expires_at=_expiry(record.at),
    )


def _record(item: AuditModel) -> AuditRecord:
    return AuditRecord(
        event_id=item.event_id,
        at=item.at,
        actor_id=item.actor_id,
        event=item.event,
        target=item.target,
        campaign_id=item.campaign_id,
        user_id=item.user_id,
        fields=[str(f) for f in item.fields or []],
        values=dict(item.values or {}),
        operator=item.pk == OPERATOR_SCOPE,
    )


def write(records: Iterable[AuditRecord]) -> int:
    """Batch-write records (25 a call). The key is the stream record's id and time, so a
    redelivered record overwrites itself: no duplicates. Returns the calls made."""
    return batch.write(config.settings().audit_table, puts=(_item(r).serialize() for r in records))


def new_event_id() -> str:
    return uuid.uuid4().hex


def record(
    event: str,
    target: str,
    *,
    actor_id: str | None,
    campaign_id: str | None = None,
    user_id: str | None = None,
    fields: list[str] | None = None,
    values: dict[str, Any] | None = None,
    operator: bool = False,
) -> AuditRecord:
    """Record one event that is not a table change (a sign-in, a staff access, an
    operator's command: `operator` keeps it in the operators' trail)."""
    entry = AuditRecord(
        event_id=new_event_id(),
        at=iso(now()),
        actor_id=actor_id,
        event=event,
        target=target,
        campaign_id=campaign_id,
        user_id=user_id,
        fields=fields or [],
        values=values or {},
        operator=operator,
    )
    _item(entry).save()
    return entry


def campaign_record_keys(campaign_id: str, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` keys of the campaign's records still in the table (for its erasure)."""
    return [
        (item.pk, item.sk)
        for item in AuditModel.query(
            f"CAMPAIGN#{campaign_id}", limit=limit, attributes_to_get=["pk", "sk"]
        )
    ]


def campaign_records_between(campaign_id: str, first: str, last: str) -> Iterator[AuditRecord]:
    """The campaign's records still in the table from `first` to `last` (ISO), oldest first."""
    for item in AuditModel.query(
        f"CAMPAIGN#{campaign_id}", range_key_condition=AuditModel.sk.between(first, last + "~")
    ):
        yield _record(item)


def campaign_records(
    campaign_id: str, *, since: str | None, limit: int, cursor: str | None
) -> Page:
    """A campaign's records, newest first, at or after `since`."""
    return paged_query(
        AuditModel,
        f"CAMPAIGN#{campaign_id}",
        scope=f"audit:{campaign_id}:{since or ''}",
        limit=limit,
        cursor=cursor,
        convert=_record,
        range_key_condition=AuditModel.sk >= since if since else None,
        newest_first=True,
    )


DAY_SHARDS = 8  # a day's records are spread over this many index keys: no hot partition


def day_key(day: str, event_id: str) -> str:
    """The index key of a record of `day`: one of the day's DAY_SHARDS, by its event id."""
    shard = int(hashlib.sha256(event_id.encode()).hexdigest()[:8], 16) % DAY_SHARDS
    return f"DAY#{day}#{shard}"


def records_of_day(day: str) -> Iterator[AuditRecord]:
    """Every record of one UTC day (`YYYY-MM-DD`), oldest first (the day's shards, each
    read in order and merged)."""
    import heapq

    shards = [AuditModel.day.query(f"DAY#{day}#{n}") for n in range(DAY_SHARDS)]
    for item in heapq.merge(*shards, key=lambda found: found.gsi1sk):
        yield _record(item)  # type: ignore[arg-type]


def anonymous_target(value: str) -> str:
    """A stable name for something we must not store (an unknown e-mail): keyed with the
    app secret, so a dictionary of addresses cannot reverse it."""
    import hmac

    from chalicelib.config import app_secret

    digest = hmac.new(app_secret(), f"audit-target:{value.lower()}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]
