"""Reports: volunteers file them on live actions; admins read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.domain.integrations import SyncRecord
    from chalicelib.domain.reports import Report
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def report_body(report: Report, sync_records: list[SyncRecord] | None = None) -> dict[str, Any]:
    """What a report shows: the disclosed name and external id, never the contact."""
    return {
        "report_id": report.report_id,
        "campaign_id": report.campaign_id,
        "action_id": report.action_id,
        "user_id": report.user_id,
        "contact": {
            "name": report.contact_name,
            "external_id": report.external_id,
            "provider": report.external_provider,
        },
        "list_row_id": report.list_row_id,
        "result": report.result,
        "responses": report.responses,
        "notes": report.notes,
        "created_at": report.created_at,
        "sync": [
            {
                "provider": r.provider,
                "state": r.state,
                **({"error": r.last_error} if r.last_error else {}),
            }
            for r in sync_records or []
        ],
    }


def filed_body(report: Report) -> dict[str, Any]:
    """What the filer sees of their report (the answer to filing it, and `GET /me/reports`):
    what they sent and the report's id, the same shape whether or not, and to whom, the
    contact matched, so no list is ever seen through it."""
    return {
        "report_id": report.report_id,
        "campaign_id": report.campaign_id,
        "action_id": report.action_id,
        "contact_id": report.contact_id,
        "result": report.result,
        "responses": report.responses,
        "notes": report.notes,
        "created_at": report.created_at,
    }


@route(
    bp,
    "/campaigns/{cid}/actions/{aid}/reports",
    methods=["POST"],
    idempotent=True,
    body="ReportIn",
    status=201,
    response="FiledReport",
)
def file_report(principal: Principal, cid: str, aid: str) -> Response:
    from chalicelib.logic import inputs, reports

    body = parse(inputs.ReportIn, json_body(bp.current_request))
    report = reports.file_report(principal, cid, aid, body)
    return Response(body=filed_body(report), status_code=201)


@route(bp, "/campaigns/{cid}/reports", methods=["GET"], paged=True, response="Page[Report]")
def list_reports(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import reports, sync_records

    limit, cursor = page_params(bp.current_request)
    page = reports.list_reports(principal, cid, limit=limit, cursor=cursor)
    states = sync_records.records_for_reports(cid, [r.report_id for r in page.items])
    present = reports.authors_present(page.items)
    items = []
    for r in page.items:
        body = report_body(r, states.get(r.report_id))
        if r.user_id not in present:
            body["user_id"] = None  # the author deleted their account
        items.append(body)
    return page_body(items, page.next_cursor)
