"""/campaigns/{cid}/stats and /exports: the campaign's dashboard, and its data as CSV files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.domain.exports import Export
    from chalicelib.logic.exports import Download
    from chalicelib.logic.principal import Principal
    from chalicelib.logic.stats import CampaignStats

bp = Blueprint(__name__)


def stats_body(stats: CampaignStats) -> dict[str, Any]:
    return {
        "members": {"admins": stats.admins, "volunteers": stats.volunteers},
        "synced_contacts": stats.synced_contacts,
        "reports": {"total": stats.reports, "by_result": stats.by_result},
        "actions": [
            {
                "action_id": a.action_id,
                "title": a.title,
                "deleted": a.deleted,
                "reports": a.reports,
                "by_result": a.by_result,
                "questions": [
                    {
                        "question_id": q.question_id,
                        "text": q.text,
                        "responses": [
                            {"response_id": rid, "text": text, "count": n}
                            for rid, text, n in q.responses
                        ],
                    }
                    for q in a.questions
                ],
            }
            for a in stats.actions
        ],
        "sync": stats.sync,
    }


@route(bp, "/campaigns/{cid}/stats", methods=["GET"], response="Stats")
def campaign_stats(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import stats

    return stats_body(stats.campaign_stats(principal, cid))


def export_body(export: Export, download: Download | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "export_id": export.export_id,
        "kind": export.kind.value,
        "state": export.state.value,
        "since": export.since,
        "rows": export.rows,
        "created_at": export.created_at,
        "created_by": export.created_by,
    }
    if export.error:
        body["error"] = export.error
    if download is not None and download.available_until:
        body["available_until"] = download.available_until
    if download is not None and download.url:
        body["download_url"] = download.url
        body["download_url_expires_at"] = download.url_expires_at
    return body


@route(
    bp,
    "/campaigns/{cid}/exports",
    methods=["POST"],
    idempotent=True,
    body="ExportIn",
    status=202,
    response="Export",
)
def start_export(principal: Principal, cid: str) -> Response:
    """Accepted: the file is written in the background; GET the export for its state."""
    from chalicelib.logic import exports, inputs

    body = parse(inputs.ExportIn, json_body(bp.current_request))
    return Response(body=export_body(exports.start(principal, cid, body)), status_code=202)


@route(bp, "/campaigns/{cid}/exports", methods=["GET"], paged=True, response="Page[Export]")
def list_exports(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import exports

    limit, cursor = page_params(bp.current_request)
    found, next_cursor = exports.list_exports(principal, cid, limit=limit, cursor=cursor)
    return page_body([export_body(e) for e in found], next_cursor)


@route(bp, "/campaigns/{cid}/exports/{eid}", methods=["GET"], response="Export")
def get_export(principal: Principal, cid: str, eid: str) -> dict[str, Any]:
    """A ready export carries a download link, valid for 15 minutes."""
    from chalicelib.logic import exports

    download = exports.get(principal, cid, eid)
    return export_body(download.export, download)
