"""From a stream record of the main table to exactly one audit record.

The event is named from the kind of item and what changed (`action.deleted` when
`deleted_at` appears, `member.role_changed` when `role` changes, ...). The actor
is the item's `updated_by` (for a removal: the remover, stamped just before).
`fields` names what changed; `values` carries the new value only of fields that
are neither secret nor personal (an allow-list per kind of item): never a
credential, phone, e-mail, contact name or note.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.audit.store import AuditRecord

BOOKKEEPING = {"pk", "sk", "gsi1pk", "gsi1sk", "entity", "created_at", "updated_at", "updated_by"}

# kind of item -> (the attribute naming it, fields whose values may be shown)
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "campaign": ("campaign_id", frozenset({"name", "admin_count"})),
    "member": ("user_id", frozenset({"role", "reports_count"})),
    "action": ("action_id", frozenset({"type", "title", "status", "deleted_at", "deleted_by"})),
    "join_code": ("campaign_id", frozenset({"expires_at", "max_uses", "uses", "revoked_at"})),
    "removed_member": ("user_id", frozenset()),
    "list": ("list_id", frozenset({"name", "status", "row_count", "rejected_count", "provider"})),
    "list_row": ("row_id", frozenset()),
    "list_key": ("row_id", frozenset()),
    "list_error": ("row", frozenset()),
    "report": ("report_id", frozenset({"action_id", "result", "external_provider"})),
    "integration": ("provider", frozenset({"provider", "configured_at", "paused_at"})),
    "sync": ("report_id", frozenset({"provider", "state", "attempts", "retryable"})),
    "export": ("export_id", frozenset({"kind", "state", "since", "rows"})),
    "user": (
        "user_id",
        frozenset({"is_staff", "staff_trained_at", "mfa_enabled", "contacts_count"}),
    ),
    "totp": ("user_id", frozenset({"verified"})),
    "contact": ("contact_id", frozenset()),
    "contact_digest": ("user_id", frozenset()),
    "staff_grant": (
        "grant_id",
        frozenset({"staff_user_id", "granted_by", "expires_at", "revoked_at", "revoked_by"}),
    ),
    "deletion": ("campaign_id", frozenset({"state", "scheduled_for", "cancelled_at"})),
    "erasure_chunk": ("name", frozenset()),
    "assignment": ("row_id", frozenset()),
    "assign_cursor": ("campaign_id", frozenset()),
    "assign_pool": ("campaign_id", frozenset()),
    "target": ("contact_id", frozenset()),
}
# Changes that are bookkeeping of something recorded otherwise: a grant's read counter
# (each read is its own `staff.access` record), an erasure's progress (its receipt and
# `campaign.erased` record tell it whole).
QUIET = {
    # an import's progress: its list's records name each state, with the counts
    "list": frozenset(
        {"row_count", "rejected_count", "rows_total", "chunks_total", "done_chunks", "erased_parts"}
    ),
    "staff_grant": frozenset({"accesses"}),
    "deletion": frozenset(
        {"runner", "lease_until", "started_at", "notify", "reminded", "skipped_grace"}
    ),
}
USER_SCOPED = {"user", "totp", "contact"}
# written and erased by the thousand: their batch's record tells them (an import's list
# states, `assignment.created` / `assignment.returned`, an erasure's receipt, a contact
# sync's `contacts.synced` and a deletion's `contacts.deleted`, from the profile's counts)
BULK = {
    "contact",
    "contact_digest",
    "list_row",
    "list_key",
    "list_error",
    "assignment",
    "assign_cursor",
    "assign_pool",
    "target",  # computed in the background from a volunteer's contacts: theirs, not audited
}


class UnknownRecord(ValueError):
    """A stream record this consumer cannot read (it fails alone)."""


def _plain(image: dict[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in image.items()}


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _when(record: dict[str, Any], item: dict[str, Any]) -> str:
    """The change's time: the item's own stamp, else the stream's approximate time."""
    stamp = item.get("updated_at")
    if isinstance(stamp, str) and len(stamp) >= 20:
        return stamp
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, int | float):
        moment = datetime.fromtimestamp(created, UTC)
    elif isinstance(created, datetime):
        moment = created.astimezone(UTC)
    else:
        raise UnknownRecord("no time on the record")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    names = (set(old) | set(new)) - BOOKKEEPING
    return sorted(n for n in names if old.get(n) != new.get(n))


def _event(
    kind: str, action: str, old: dict[str, Any], new: dict[str, Any], fields: list[str]
) -> str:
    if action == "INSERT":
        return {
            "staff_grant": "staff.grant_issued",
            "deletion": "campaign.deletion_scheduled",
            "member": "member.joined",
            "integration": "integration.updated",
            "totp": "totp.enrolment_started",
            "sync": "sync.pending",
            "export": "export.requested",
        }.get(kind, f"{kind}.created")
    if action == "REMOVE":
        return {"member": "member.removed", "integration": "integration.removed"}.get(
            kind, f"{kind}.deleted"
        )
    if kind == "action" and "deleted_at" in fields:
        return "action.deleted" if new.get("deleted_at") else "action.restored"
    if kind == "member" and "role" in fields:
        return "member.role_changed"
    if kind == "user" and "last_sync" in fields:
        return "contacts.synced"
    if kind == "user" and "contacts_epoch" in fields:
        return "contacts.deleted"
    if kind == "user" and "is_staff" in fields:
        return "user.staff_changed"
    if kind == "totp" and "verified" in fields:
        return "totp.enrolled"
    if kind == "sync" and "state" in fields:
        return f"sync.{new.get('state')}"
    if kind == "staff_grant":
        return "staff.grant_ended" if new.get("revoked_at") else "staff.grant_issued"
    if kind == "export" and "state" in fields:
        return f"export.{new.get('state')}"
    if kind == "list" and "status" in fields:
        return f"list.{new.get('status')}"
    if kind == "deletion":
        return f"campaign.deletion_{new.get('state')}"
    return f"{kind}.updated"


def derive(record: dict[str, Any]) -> AuditRecord | None:
    """The audit record of one stream record (None for a change that changes nothing)."""
    action = record.get("eventName")
    event_id = record.get("eventID")
    if action not in ("INSERT", "MODIFY", "REMOVE") or not event_id:
        raise UnknownRecord("not a DynamoDB stream record")
    stream = record.get("dynamodb", {})
    old, new = _plain(stream.get("OldImage")), _plain(stream.get("NewImage"))
    item = new or old
    kind = item.get("entity")
    if kind not in KINDS:
        raise UnknownRecord(f"an item of unknown kind {kind!r} ({stream.get('Keys')})")
    if kind in BULK:
        return None  # one record per import or erasure, on its list: not one per row
    if kind == "erasure_chunk" or (kind == "deletion" and new.get("state") in ("erasing", "done")):
        return None  # an erasure under way: its receipt and operators' record tell it
    fields = _changed(old, new)
    if action == "MODIFY" and not set(fields) - QUIET.get(str(kind), frozenset()):
        return None  # nothing changed, or only bookkeeping
    id_attribute, shown = KINDS[kind]
    values: dict[str, Any] = {}
    if kind == "user" and "last_sync" in fields:
        counts = new.get("last_sync")
        if isinstance(counts, str):  # a JSON attribute
            counts = json.loads(counts)
        if isinstance(counts, dict):
            values["last_sync"] = {
                k: v
                for k, v in _jsonable(counts).items()
                if k in ("received", "created", "updated", "at")
            }
    if kind == "user" and action == "MODIFY" and "contacts_epoch" in fields:
        values["deleted"] = _jsonable(old.get("contacts_count", 0)) - _jsonable(
            new.get("contacts_count", 0)
        )
    for name in fields:
        if name in shown and name in new:
            values[name] = _jsonable(new[name])
    if kind == "list" and "status" in fields:  # the import's (or erasure's) summary
        for name in ("rows_total", "row_count", "rejected_count"):
            if name in new:
                values[name] = _jsonable(new[name])
    campaign_id = None if kind in USER_SCOPED else item.get("campaign_id")
    user_id = item.get("user_id") if kind in USER_SCOPED else None
    if kind == "campaign":
        campaign_id = item.get("campaign_id")
    target_id = item.get(id_attribute)
    if kind == "sync":
        target_id = f"{item.get('report_id')}/{item.get('provider')}"
    elif kind in ("list_row", "list_key"):
        target_id = f"{item.get('list_id')}/{item.get('row_id')}"
    return AuditRecord(
        event_id=str(event_id),
        at=_when(record, item),
        actor_id=item.get("updated_by"),
        event=_event(str(kind), str(action), old, new, fields),
        target=f"{kind}:{target_id}",
        campaign_id=campaign_id,
        user_id=user_id,
        fields=fields,
        values=values,
    )
