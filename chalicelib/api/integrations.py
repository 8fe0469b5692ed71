"""/campaigns/{cid}/integrations and /sync: CRM credentials, catalog, instructions, sync state.

A credential is never returned, logged or put in an audit record: views show the
redacted view only (`key_hint`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, query_param, route

if TYPE_CHECKING:
    from chalicelib.domain.integrations import Integration, SyncRecord
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def integration_body(integration: Integration) -> dict[str, Any]:
    return {
        "provider": integration.provider,
        "configured": True,
        "key_hint": integration.key_hint,
        "configured_at": integration.configured_at,
        "instructions": integration.instructions or {"actions": {}},
        "paused": integration.paused_at is not None,  # by the platform, during an incident
    }


def sync_body(record: SyncRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": record.report_id,
        "provider": record.provider,
        "state": record.state,
        "attempts": record.attempts,
        "updated_at": record.updated_at,
    }
    if record.last_error:
        body["last_error"] = record.last_error
    if record.state == "failed":
        body["retrying_at"] = record.next_attempt_at if record.retryable else None
    return body


@route(
    bp,
    "/campaigns/{cid}/integrations/{provider}",
    methods=["PUT"],
    body="object",
    response="Integration",
)
def configure(principal: Principal, cid: str, provider: str) -> dict[str, Any]:
    from chalicelib.logic import integrations

    body = json_body(bp.current_request)
    return integration_body(integrations.configure(principal, cid, provider, body))


@route(bp, "/campaigns/{cid}/integrations", methods=["GET"], response="Page[Integration]")
def list_integrations(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import integrations

    found = integrations.list_integrations(principal, cid)
    return page_body([integration_body(i) for i in found], None)


@route(bp, "/campaigns/{cid}/integrations/{provider}", methods=["DELETE"], status=204)
def remove(principal: Principal, cid: str, provider: str) -> Response:
    from chalicelib.logic import integrations

    integrations.remove(principal, cid, provider)
    return Response(body="", status_code=204)


@route(bp, "/campaigns/{cid}/integrations/{provider}/catalog", methods=["GET"], response="Catalog")
def catalog(principal: Principal, cid: str, provider: str) -> dict[str, Any]:
    from chalicelib.logic import integrations

    return integrations.catalog(principal, cid, provider)


@route(
    bp,
    "/campaigns/{cid}/integrations/{provider}/instructions",
    methods=["PUT"],
    body="InstructionsIn",
    response="Integration",
)
def set_instructions(principal: Principal, cid: str, provider: str) -> dict[str, Any]:
    from chalicelib.logic import inputs, integrations

    body = parse(inputs.InstructionsIn, json_body(bp.current_request))
    return integration_body(integrations.set_instructions(principal, cid, provider, body))


@route(
    bp,
    "/campaigns/{cid}/sync",
    methods=["GET"],
    paged=True,
    response="Page[SyncRecord]",
    query={"state": {"type": "string", "enum": ["pending", "synced", "failed", "skipped"]}},
)
def list_sync(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import sync_records

    request = bp.current_request
    limit, cursor = page_params(request)
    page = sync_records.list_records(
        principal, cid, state=query_param(request, "state"), limit=limit, cursor=cursor
    )
    return page_body([sync_body(r) for r in page.items], page.next_cursor)


@route(
    bp,
    "/campaigns/{cid}/integrations/{provider}/retry",
    methods=["POST"],
    status=202,
    response="Requeued",
)
def retry(principal: Principal, cid: str, provider: str) -> Response:
    """Accepted: the failed records go back to pending in the background, within moments."""
    from chalicelib.logic import sync_records

    sync_records.retry_failed(principal, cid, provider)
    return Response(body={"provider": provider, "accepted": True}, status_code=202)
