"""/campaigns/{cid}/audit: every change to the campaign's data, and every staff access."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import page_body, page_params, query_param, route

if TYPE_CHECKING:
    from chalicelib.audit.store import AuditRecord
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def audit_body(entry: AuditRecord) -> dict[str, Any]:
    return {
        "event_id": entry.event_id,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "event": entry.event,
        "target": entry.target,
        "fields": entry.fields,
        "values": entry.values,
    }


@route(
    bp,
    "/campaigns/{cid}/audit",
    methods=["GET"],
    paged=True,
    response="Page[AuditEntry]",
    query={"since": {"type": "string", "format": "date-time"}},
)
def campaign_audit(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import audit

    request = bp.current_request
    limit, cursor = page_params(request)
    page = audit.campaign_audit(
        principal, cid, since=query_param(request, "since"), limit=limit, cursor=cursor
    )
    return page_body([audit_body(e) for e in page.items], page.next_cursor)
