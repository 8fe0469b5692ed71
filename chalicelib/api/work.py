"""Volunteers' work: rows assigned for an action (and, for the volunteer, their own)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.dal.assignments import Assignment
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def assignment_body(found: Assignment) -> dict[str, Any]:
    from chalicelib.logic import lists

    return {
        "list_row_id": lists.list_row_id(found.list_id, found.row_id),
        "action_id": found.action_id,
        "first_name": found.first_name,
        "last_name": found.last_name,
        "phone": found.phone,
        "email": found.email,
        "reported": found.reported,
    }


@route(
    bp,
    "/campaigns/{cid}/actions/{aid}/assignments",
    methods=["POST"],
    body="AssignIn",
    status=201,
    response="Assigned",
)
def assign(principal: Principal, cid: str, aid: str) -> Response:
    from chalicelib.logic import assignments, inputs

    body = parse(inputs.AssignIn, json_body(bp.current_request))
    assigned = assignments.assign(principal, cid, aid, body.user_id, body.list_id, body.count)
    return Response(body={"assigned": assigned}, status_code=201)


@route(bp, "/campaigns/{cid}/actions/{aid}/assignments/{uid}", methods=["DELETE"], status=204)
def give_back(principal: Principal, cid: str, aid: str, uid: str) -> Response:
    from chalicelib.logic import assignments

    assignments.give_back(principal, cid, aid, uid)
    return Response(body="", status_code=204)


@route(
    bp, "/campaigns/{cid}/me/assignments", methods=["GET"], paged=True, response="Page[Assignment]"
)
def my_assignments(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import assignments

    limit, cursor = page_params(bp.current_request)
    page = assignments.mine(principal, cid, limit=limit, cursor=cursor)
    return page_body([assignment_body(a) for a in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/me/targets", methods=["GET"], paged=True, response="Page[Target]")
def my_targets(principal: Principal, cid: str) -> dict[str, Any]:
    """The caller's own contacts that the campaign's ready lists hold."""
    from chalicelib.logic import targets

    limit, cursor = page_params(bp.current_request)
    items, next_cursor = targets.mine(principal, cid, limit=limit, cursor=cursor)
    return page_body(items, next_cursor)
