"""Exports: a campaign's reports, members or audit trail as a CSV file to download.

Asking for one answers at once (202) and records the export (so the audit trail shows who
took a copy of what); the file is written in the background by the work queue's worker,
page by page, into one S3 multipart upload: a part goes up each time PART_BYTES of rows
are ready, and the part and the cursor after its last row are recorded together, so an
invocation that stops (its time is up, or it died) leaves the next one to go on from
there, and a message delivered twice sends no part twice. Cells a spreadsheet would run
as a formula are neutralised (`csv_out`). The file is kept KEEP_DAYS (the bucket's
lifecycle rule); a download link lasts URL_SECONDS.

What an export holds is what the admin may already see through the API: reports with the
disclosed name and external id only, members with their counts (never their contacts),
the audit trail (never a secret).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import aws, config
from chalicelib.auth.policy import Permission
from chalicelib.dal import exports as exports_dal
from chalicelib.dal.common import iso, new_id, now, now_iso
from chalicelib.domain.exports import Export, ExportKind, ExportState
from chalicelib.errors import NotFound
from chalicelib.logic import csv_out, normalize, work_queue
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.logic.inputs import ExportIn

PART_BYTES = 5 * 1024 * 1024  # S3's least size of a part but the last
PAGE = 200
BUDGET = 200.0  # seconds an invocation writes for (the worker stops at 300)
URL_SECONDS = 900
KEEP_DAYS = 7  # the data bucket's lifecycle rule for exports/

HEADERS: dict[ExportKind, list[str]] = {
    ExportKind.REPORTS: [
        "report_id",
        "created_at",
        "action_id",
        "action",
        "user_id",
        "contact_name",
        "external_id",
        "provider",
        "result",
        "answers",
        "notes",
        "sync",
    ],
    ExportKind.MEMBERS: [
        "user_id",
        "name",
        "email",
        "role",
        "synced_contacts_count",
        "reports_count",
    ],
    ExportKind.AUDIT: ["event_id", "at", "actor_id", "event", "target", "fields"],
}


@dataclass(frozen=True)
class Download:
    export: Export
    url: str | None
    url_expires_at: str | None
    available_until: str | None


def object_key(campaign_id: str, export_id: str) -> str:
    return f"exports/{campaign_id}/{export_id}.csv"


def start(principal: Principal, campaign_id: str, given: ExportIn) -> Export:
    require(principal, campaign_id, Permission.EXPORT_DATA)
    since = normalize.since(given.since)
    stamp = now_iso()
    export = exports_dal.create_export(
        Export(
            campaign_id=campaign_id,
            export_id=new_id(),
            kind=given.kind,
            state=ExportState.RUNNING,
            since=iso(since) if since else None,
            rows=0,
            created_at=stamp,
            created_by=principal.user_id,
            updated_at=stamp,
        )
    )
    work_queue.send([{"kind": "export", "cid": campaign_id, "eid": export.export_id}])
    return export


def get(principal: Principal, campaign_id: str, export_id: str) -> Download:
    require(principal, campaign_id, Permission.EXPORT_DATA)
    export = exports_dal.get_export(campaign_id, export_id)
    if export is None:
        raise NotFound("no such export")
    if export.state != ExportState.READY:
        return Download(export, None, None, None)
    finished = datetime.fromisoformat(export.updated_at.replace("Z", "+00:00"))
    until = finished + timedelta(days=KEEP_DAYS)
    if now() >= until:  # the file is gone with the bucket's lifecycle
        return Download(export, None, None, iso(until))
    day = export.created_at[:10]
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": config.settings().data_bucket,
            "Key": object_key(campaign_id, export_id),
            "ResponseContentType": "text/csv; charset=utf-8",
            "ResponseContentDisposition": f'attachment; filename="{export.kind}-{day}.csv"',
        },
        ExpiresIn=URL_SECONDS,
    )
    return Download(export, str(url), iso(now() + timedelta(seconds=URL_SECONDS)), iso(until))


def list_exports(
    principal: Principal, campaign_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Export], str | None]:
    require(principal, campaign_id, Permission.EXPORT_DATA)
    page = exports_dal.list_exports(campaign_id, limit=limit, cursor=cursor)
    return list(page.items), page.next_cursor


# ---- the worker --------------------------------------------------------------------------


class _Source:
    """The export's rows, a page at a time from a cursor."""

    def __init__(self, export: Export) -> None:
        self.export = export
        self._actions: dict[str, Any] = {}

    def page(self, cursor: str | None) -> tuple[list[list[Any]], str | None]:
        kind, cid = self.export.kind, self.export.campaign_id
        if kind == ExportKind.REPORTS:
            return self._reports(cursor)
        if kind == ExportKind.MEMBERS:
            from chalicelib.dal import campaigns as campaigns_dal
            from chalicelib.dal import users as users_dal

            page = campaigns_dal.list_members(cid, limit=PAGE, cursor=cursor)
            users = users_dal.get_users([m.user_id for m in page.items])
            rows = [
                [
                    m.user_id,
                    m.name,
                    m.email,
                    m.role.value,
                    users[m.user_id].contacts_count if m.user_id in users else 0,
                    m.reports_count,
                ]
                for m in page.items
            ]
            return rows, page.next_cursor
        from chalicelib.audit import store

        page = store.campaign_records(cid, since=self.export.since, limit=PAGE, cursor=cursor)
        rows = [
            [r.event_id, r.at, r.actor_id, r.event, r.target, " ".join(r.fields)]
            for r in page.items
        ]
        return rows, page.next_cursor

    def _reports(self, cursor: str | None) -> tuple[list[list[Any]], str | None]:
        from chalicelib.dal import actions as actions_dal
        from chalicelib.dal import integrations as integrations_dal
        from chalicelib.dal import reports as reports_dal

        cid = self.export.campaign_id
        page = reports_dal.list_campaign_reports(
            cid, limit=PAGE, cursor=cursor, since=normalize.since(self.export.since)
        )
        missing = {r.action_id for r in page.items} - set(self._actions)
        self._actions.update(actions_dal.get_actions(cid, sorted(missing)))
        states = integrations_dal.records_for_reports(cid, [r.report_id for r in page.items])
        rows = []
        for r in page.items:
            action = self._actions.get(r.action_id)
            texts = {
                (q.question_id, a.response_id): (q.text, a.text)
                for q in (action.questions if action else [])
                for a in q.responses
            }
            answers = [
                ": ".join(texts.get((x["question_id"], x["response_id"]), ("?", "?")))
                for x in r.responses
            ]
            sync = [f"{s.provider}: {s.state}" for s in states.get(r.report_id, [])]
            rows.append(
                [
                    r.report_id,
                    r.created_at,
                    r.action_id,
                    action.title if action else "",
                    r.user_id,
                    r.contact_name,
                    r.external_id,
                    r.external_provider,
                    r.result,
                    "; ".join(answers),
                    r.notes,
                    "; ".join(sync),
                ]
            )
        return rows, page.next_cursor


def run(campaign_id: str, export_id: str) -> None:
    """Write (more of) the export's file: from where the last invocation left it, until the
    file is complete or BUDGET is spent (then the rest is queued)."""
    export = exports_dal.get_export(campaign_id, export_id)
    if export is None or export.state != ExportState.RUNNING:
        return  # finished already (a message delivered again), or erased
    s3, bucket, key = aws.client("s3"), config.settings().data_bucket, object_key(*_ids(export))
    progress = exports_dal.get_progress(export_id)
    if progress is None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="text/csv")[
            "UploadId"
        ]
        if not exports_dal.start_progress(campaign_id, export_id, upload_id):
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        progress = exports_dal.get_progress(export_id)
        assert progress is not None
    upload_id = progress.upload_id
    parts: list[dict[str, Any]] = list(progress.parts or [])
    cursor: str | None = progress.cursor  # None: from the start (or, with parts, all done)
    rows = int(progress.rows or 0)
    if parts and cursor is None:  # every row is up: only the completion is left
        _complete(export, parts, rows, upload_id)
        return
    source = _Source(export)
    deadline = time.monotonic() + BUDGET
    chunks = [] if parts else [csv_out.csv_lines([HEADERS[export.kind]]).encode()]
    size = sum(map(len, chunks))
    pending = 0  # rows in `chunks`
    while True:
        page, cursor = source.page(cursor)
        chunks.append(csv_out.csv_lines(page).encode())
        size += len(chunks[-1])
        pending += len(page)
        if cursor is not None and size < PART_BYTES:
            continue
        body = b"".join(chunks)
        if body or not parts:
            number = len(parts) + 1
            etag = s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )["ETag"]
            parts = [*parts, {"PartNumber": number, "ETag": etag}]
            rows += pending
            if not exports_dal.record_part(export_id, parts=parts, cursor=cursor, rows=rows):
                return  # another invocation recorded this part first: it goes on
        chunks, size, pending = [], 0, 0
        if cursor is None:
            _complete(export, parts, rows, upload_id)
            return
        if time.monotonic() > deadline:  # the rest in the next invocation
            work_queue.send([{"kind": "export", "cid": campaign_id, "eid": export_id}])
            return


def _ids(export: Export) -> tuple[str, str]:
    return export.campaign_id, export.export_id


def _complete(export: Export, parts: list[dict[str, Any]], rows: int, upload_id: str) -> None:
    from botocore.exceptions import ClientError

    s3, bucket = aws.client("s3"), config.settings().data_bucket
    key = object_key(*_ids(export))
    try:
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
            raise
        s3.head_object(Bucket=bucket, Key=key)  # completed by an earlier delivery
    exports_dal.finish(*_ids(export), state=ExportState.READY, rows=rows, error=None)
    logger.info("export ready", extra={"kind": export.kind.value, "rows": rows})


def fail(campaign_id: str, export_id: str) -> None:
    """The export cannot be written (its message ran out of tries): failed, its upload
    abandoned."""
    exports_dal.finish(
        campaign_id,
        export_id,
        state=ExportState.FAILED,
        rows=0,
        error="the file could not be written: ask for a new export",
    )
    progress = exports_dal.get_progress(export_id)
    if progress is not None:
        aws.client("s3").abort_multipart_upload(
            Bucket=config.settings().data_bucket,
            Key=object_key(campaign_id, export_id),
            UploadId=progress.upload_id,
        )
