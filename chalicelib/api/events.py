"""Event handlers: the main table's stream and the schedules.

The stream handlers report partial batch failures: one bad record fails alone and
is delivered again; the rest of the batch is done. The stream ARN comes from the
environment at deploy time (`infra/` points the event source at the table).
"""

from __future__ import annotations

import os
from typing import Any

from chalice import Blueprint, Cron, Rate

from chalicelib.observability import count, logger

bp = Blueprint(__name__)

MAIN_STREAM_ARN = os.environ.get(
    "MAIN_TABLE_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/vo-main/stream/placeholder",
)


_ERASED: set[str] = set()  # campaigns this container saw being erased (for good)


def being_erased(campaign_id: str) -> bool:
    """Whether a removal is part of the campaign's erasure: its receipt counts those (one
    record each would be noise, and would outlive the erasure of the campaign's trail).
    Asked only for removals, which normal work seldom makes: one read for the first."""
    if campaign_id in _ERASED:
        return True
    from chalicelib.dal import deletion

    found = deletion.get(campaign_id)
    if found is not None and found.state in ("erasing", "done"):
        _ERASED.add(campaign_id)
        return True
    return False


def process_batch(event: Any, handle_record: Any) -> dict[str, Any]:
    """Run `handle_record(raw_record)` on each record; collect the failures for Lambda."""
    raw = event.to_dict() if hasattr(event, "to_dict") else event
    failures = []
    for record in raw.get("Records", []):
        try:
            handle_record(record)
        except Exception:
            sequence = record.get("dynamodb", {}).get("SequenceNumber")
            logger.exception("stream record failed", extra={"sequence_number": sequence})
            failures.append({"itemIdentifier": sequence})
    if failures:
        count("StreamRecordFailures", len(failures))
    return {"batchItemFailures": failures}


@bp.on_dynamodb_record(stream_arn=MAIN_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def crm_sync_consumer(event: Any) -> dict[str, Any]:
    """New reports -> their sync records, then a first attempt at each CRM for the
    whole batch at once (so PDI gets one array of flags)."""
    from chalicelib.dal.reports import report_from_image
    from chalicelib.logic import sync

    first: list[sync.Attempt] = []  # new reports' records, created claimed for a first try
    integrations: dict[str, Any] = {}  # read once per campaign in the batch
    contacts_changed: set[str] = set()  # volunteers whose targets to recompute
    joined: set[tuple[str, str]] = set()
    left: set[tuple[str, str]] = set()  # memberships that ended
    recounted: set[str] = set()  # users whose synced-contact count moved

    def record_report(record: dict[str, Any]) -> None:
        image = record.get("dynamodb", {})
        entity = (image.get("NewImage") or image.get("OldImage") or {}).get("entity", {})
        kind = entity.get("S") if isinstance(entity, dict) else None
        event_name = record.get("eventName")
        if kind == "contact":
            contacts_changed.add(str(image["Keys"]["pk"]["S"]).removeprefix("USER#"))
            return
        if kind == "user":
            old, new = image.get("OldImage") or {}, image.get("NewImage") or {}
            if old.get("contacts_count") != new.get("contacts_count"):
                recounted.add(str(image["Keys"]["pk"]["S"]).removeprefix("USER#"))
            return
        if kind == "member" and event_name == "REMOVE":
            old = image.get("OldImage", {})
            left.add((old["campaign_id"]["S"], old["user_id"]["S"]))
            return
        if event_name != "INSERT":
            return
        if kind == "member":
            new = image.get("NewImage", {})
            joined.add((new["campaign_id"]["S"], new["user_id"]["S"]))
            return
        report = report_from_image(image.get("NewImage", {}))
        if report is not None:
            first.extend(sync.open_records(report, integrations))

    result = process_batch(event, record_report)
    sync.first_attempts(first)  # failures stay on the records, not the batch
    if contacts_changed or joined or left or recounted:
        from chalicelib.dal import campaigns
        from chalicelib.logic import stats, work_queue

        memberships = {
            user_id: [m.campaign_id for m in campaigns.list_user_memberships(user_id)]
            for user_id in contacts_changed | recounted
        }

        def of(users: set[str]) -> set[tuple[str, str]]:
            return {(cid, user_id) for user_id in users for cid in memberships[user_id]}

        # a failure in either fails the batch, which is sent again: both are idempotent
        if contacts_changed or joined:
            work_queue.refresh_targets(joined | of(contacts_changed))
        # an erasure's removals are its own: the counters go with the campaign, uncounted
        ended = {(cid, user_id) for cid, user_id in left if not being_erased(cid)}
        stats.reconcile_members(joined | ended | of(recounted))
    return result


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def crm_sync_retry(event: Any) -> None:
    """Retry the sync records that are due (pending or failed, with backoff)."""
    from chalicelib.logic import sync

    sync.run_due()


@bp.on_dynamodb_record(stream_arn=MAIN_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def audit_consumer(event: Any) -> dict[str, Any]:
    """Every change to the main table -> exactly one audit record (a redelivered
    record rewrites its own key); a record that cannot be read fails alone."""
    from chalicelib.audit import store
    from chalicelib.audit.derive import derive

    derived: list[tuple[str, store.AuditRecord]] = []

    def record_change(record: dict[str, Any]) -> None:
        entry = derive(record)
        if entry is None:
            return
        removed = record.get("eventName") == "REMOVE" and entry.campaign_id
        if removed and being_erased(str(entry.campaign_id)):
            return
        derived.append((record["dynamodb"]["SequenceNumber"], entry))

    result = process_batch(event, record_change)
    try:
        store.write(entry for _sequence, entry in derived)
    except Exception:
        logger.exception("audit records could not be written; the batch is delivered again")
        count("AuditWriteFailures", len(derived))
        result["batchItemFailures"] += [{"itemIdentifier": seq} for seq, _entry in derived]
    return result


@bp.schedule(Cron(30, 2, "*", "*", "?", "*"))
def audit_archive(event: Any) -> None:
    """Daily: each settled day's audit records to the log bucket, with the day's digest."""
    from chalicelib.audit.archive import archive_pending

    archive_pending()


@bp.schedule(Rate(1, unit=Rate.HOURS))
def logs_export(event: Any) -> None:
    """Hourly: export the application logs of settled days to the log bucket (one task at
    a time, as CloudWatch allows)."""
    from chalicelib.audit.logs_export import export_pending

    export_pending()


@bp.schedule(Rate(1, unit=Rate.HOURS))
def campaign_erasure(event: Any) -> None:
    """Hourly: tell admins of a campaign erasure a day ahead; erase what is due, and
    resume an erasure a crash or the time limit interrupted (from where it stopped)."""
    import time

    from chalicelib.logic import deletion

    context = getattr(event, "context", None)  # Lambda's: how long this run may take
    remaining = context.get_remaining_time_in_millis() / 1000 if context else 900.0
    # stop taking pages a minute before Lambda's limit (a quarter of a short one)
    deletion.run_due(deadline=time.monotonic() + remaining - min(60.0, remaining / 4))


# As the stream's: the real ARN is the template's (`infra/` points the event source at it).
IMPORT_QUEUE_ARN = os.environ.get(
    "IMPORT_QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:vo-imports-placeholder"
)


@bp.on_sqs_message(queue_arn=IMPORT_QUEUE_ARN, batch_size=1)
def import_worker(event: Any) -> dict[str, Any]:
    """The import queue: a file arrived (plan it), a chunk of rows to import, or a page of
    a list's rows to erase. A message that fails alone is delivered again (up to five
    times: the last failure fails its list)."""
    from chalicelib.logic import imports

    raw = event.to_dict() if hasattr(event, "to_dict") else event
    failures = []
    for record in raw.get("Records", []):
        receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            imports.handle(record["body"], receives)
        except Exception:
            logger.exception("import message failed", extra={"message_id": record["messageId"]})
            failures.append({"itemIdentifier": record["messageId"]})
    if failures:
        count("ImportMessageFailures", len(failures))
    return {"batchItemFailures": failures}
