"""/campaigns/{cid}/actions: publish, list, change, soft-delete and restore actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import bool_param, json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.domain.actions import Action
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)

# an action's text is bounded in the schema (300 KB of UTF-8); as JSON with escapes it
# may take up to three times that
MAX_ACTION_BODY_BYTES = 1024 * 1024


def action_body(action: Action, *, admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action_id": action.action_id,
        "campaign_id": action.campaign_id,
        "type": action.type,
        "title": action.title,
        "instructions": action.instructions,
        "status": action.status,
        "questions": [
            {
                "question_id": q.question_id,
                "text": q.text,
                "responses": [{"response_id": r.response_id, "text": r.text} for r in q.responses],
            }
            for q in action.questions
        ],
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }
    if admin:
        body.update(
            created_by=action.created_by,
            updated_by=action.updated_by,
            deleted_at=action.deleted_at,
            deleted_by=action.deleted_by,
        )
    return body


@route(
    bp,
    "/campaigns/{cid}/actions",
    methods=["POST"],
    idempotent=True,
    body="ActionIn",
    status=201,
    response="Action",
)
def create_action(principal: Principal, cid: str) -> Response:
    from chalicelib.logic import actions, inputs

    body = parse(inputs.ActionIn, json_body(bp.current_request, max_bytes=MAX_ACTION_BODY_BYTES))
    action = actions.create_action(principal, cid, body)
    return Response(body=action_body(action, admin=True), status_code=201)


@route(
    bp,
    "/campaigns/{cid}/actions",
    methods=["GET"],
    paged=True,
    response="Page[Action]",
    query={"include_deleted": {"type": "boolean", "default": False}},
)
def list_actions(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import actions

    request = bp.current_request
    limit, cursor = page_params(request)
    page, access = actions.list_actions(
        principal,
        cid,
        include_deleted=bool_param(request, "include_deleted"),
        limit=limit,
        cursor=cursor,
    )
    return page_body([action_body(a, admin=access.is_admin) for a in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/actions/{aid}", methods=["GET"], response="Action")
def get_action(principal: Principal, cid: str, aid: str) -> dict[str, Any]:
    from chalicelib.logic import actions

    action, access = actions.get_action(principal, cid, aid)
    return action_body(action, admin=access.is_admin)


@route(
    bp, "/campaigns/{cid}/actions/{aid}", methods=["PATCH"], body="ActionPatch", response="Action"
)
def update_action(principal: Principal, cid: str, aid: str) -> dict[str, Any]:
    from chalicelib.logic import actions, inputs

    body = parse(inputs.ActionPatch, json_body(bp.current_request, max_bytes=MAX_ACTION_BODY_BYTES))
    return action_body(actions.update_action(principal, cid, aid, body), admin=True)


@route(bp, "/campaigns/{cid}/actions/{aid}", methods=["DELETE"], status=204)
def delete_action(principal: Principal, cid: str, aid: str) -> Response:
    from chalicelib.logic import actions

    actions.delete_action(principal, cid, aid)
    return Response(body="", status_code=204)


@route(bp, "/campaigns/{cid}/actions/{aid}/restore", methods=["POST"], response="Action")
def restore_action(principal: Principal, cid: str, aid: str) -> dict[str, Any]:
    from chalicelib.logic import actions

    return action_body(actions.restore_action(principal, cid, aid), admin=True)
