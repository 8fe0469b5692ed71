"""Exports of a campaign's data: the export item (main table, so asking for one is in the
audit trail) and how far its file has been written (ops table)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.models import ExportModel, ExportProgressModel
from chalicelib.domain.exports import Export, ExportKind, ExportState
from chalicelib.domain.paging import Page


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _sk(export_id: str) -> str:
    return f"EXPORT#{export_id}"


def _export(item: ExportModel) -> Export:
    return Export(
        campaign_id=item.campaign_id,
        export_id=item.export_id,
        kind=ExportKind(item.kind),
        state=ExportState(item.state),
        since=item.since,
        rows=int(item.rows or 0),
        created_at=item.created_at,
        created_by=item.created_by,
        updated_at=item.updated_at,
        error=item.error,
    )


def create_export(export: Export) -> Export:
    ExportModel(
        _pk(export.campaign_id),
        _sk(export.export_id),
        entity="export",
        campaign_id=export.campaign_id,
        export_id=export.export_id,
        kind=export.kind.value,
        state=export.state.value,
        since=export.since,
        rows=0,
        created_at=export.created_at,
        created_by=export.created_by,
        updated_at=export.created_at,
        updated_by=export.created_by,
    ).save(condition=ExportModel.pk.does_not_exist())
    return export


def get_export(campaign_id: str, export_id: str) -> Export | None:
    try:
        item = ExportModel.get(_pk(campaign_id), _sk(export_id), consistent_read=True)
    except DoesNotExist:
        return None
    return _export(item)


def finish(
    campaign_id: str, export_id: str, *, state: ExportState, rows: int, error: str | None
) -> bool:
    """A running export becomes ready or failed; False when it had finished already."""
    actions: list[Any] = [
        ExportModel.state.set(state.value),
        ExportModel.rows.set(rows),
        ExportModel.updated_at.set(now_iso()),
        ExportModel.updated_by.set("system:export"),
    ]
    if error:
        actions.append(ExportModel.error.set(error))
    try:
        ExportModel(_pk(campaign_id), _sk(export_id)).update(
            actions=actions, condition=ExportModel.state == ExportState.RUNNING.value
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---- progress ----------------------------------------------------------------------------


def _progress_key(export_id: str) -> tuple[str, str]:
    return f"EXPORT#{export_id}", "PROGRESS"


def get_progress(export_id: str) -> ExportProgressModel | None:
    try:
        return ExportProgressModel.get(*_progress_key(export_id), consistent_read=True)
    except DoesNotExist:
        return None


def start_progress(campaign_id: str, export_id: str, upload_id: str) -> bool:
    """Record the file's multipart upload; False when another attempt recorded one first."""
    try:
        ExportProgressModel(
            *_progress_key(export_id),
            upload_id=upload_id,
            parts=[],
            part_count=0,
            rows=0,
            campaign_id=campaign_id,
        ).save(condition=ExportProgressModel.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def record_part(
    export_id: str, *, parts: list[dict[str, Any]], cursor: str | None, rows: int
) -> bool:
    """One more part sent (`parts`: all of them now), and where the next one starts; only if
    no other attempt recorded that part first (the part count is the condition)."""
    try:
        ExportProgressModel(*_progress_key(export_id)).update(
            actions=[
                ExportProgressModel.parts.set(parts),
                ExportProgressModel.part_count.set(len(parts)),
                ExportProgressModel.cursor.set(cursor)
                if cursor
                else ExportProgressModel.cursor.remove(),
                ExportProgressModel.rows.set(rows),
            ],
            condition=ExportProgressModel.part_count == len(parts) - 1,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def list_exports(campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    """The campaign's exports, newest first."""
    return paged_query(
        ExportModel,
        _pk(campaign_id),
        scope=f"exports:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_export,
        range_key_condition=ExportModel.sk.startswith("EXPORT#"),
        newest_first=True,
    )
