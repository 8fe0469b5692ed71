"""/campaigns/{cid}/staff-access and /campaigns/{cid}/deletion: who at the platform may
read the campaign, and the campaign's deletion on its own request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.domain.privacy import Deletion, StaffGrant
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def grant_body(grant: StaffGrant, stamp: str) -> dict[str, Any]:
    return {
        "grant_id": grant.grant_id,
        "staff_user_id": grant.staff_user_id,
        "staff_name": grant.staff_name,
        "reason": grant.reason,
        "granted_by": grant.granted_by,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "accesses": grant.accesses,
        "live": grant.live(stamp),
    }


def deletion_body(found: Deletion | None) -> dict[str, Any]:
    if found is None:
        return {"state": "none"}
    # an erasure under way is still the scheduled deletion to API.md's four states (and
    # its admins lose their access to the campaign first)
    state = "scheduled" if found.state == "erasing" else found.state
    body: dict[str, Any] = {"state": state, "requested_by": found.requested_by}
    if found.state in ("scheduled", "erasing"):
        body["scheduled_for"] = found.scheduled_for
    if found.state == "cancelled":
        body["cancelled_by"] = found.cancelled_by
        body["cancelled_at"] = found.cancelled_at
    return body


@route(
    bp,
    "/campaigns/{cid}/staff-access",
    methods=["GET"],
    paged=True,
    response="Page[StaffGrant]",
)
def list_staff_access(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.dal.common import now_iso
    from chalicelib.logic import staff

    limit, cursor = page_params(bp.current_request)
    page = staff.list_grants(principal, cid, limit=limit, cursor=cursor)
    stamp = now_iso()
    return page_body([grant_body(g, stamp) for g in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/staff-access/{grant_id}", methods=["DELETE"], status=204)
def end_staff_access(principal: Principal, cid: str, grant_id: str) -> Response:
    from chalicelib.logic import staff

    staff.end_grant(principal, cid, grant_id)
    return Response(body="", status_code=204)


@route(
    bp,
    "/campaigns/{cid}/deletion",
    methods=["POST"],
    body="DeletionIn",
    status=202,
    response="DeletionState",
)
def request_deletion(principal: Principal, cid: str) -> Response:
    from chalicelib.logic import deletion, inputs

    body = parse(inputs.DeletionIn, json_body(bp.current_request))
    scheduled = deletion.request(principal, cid, body.confirm_name)
    return Response(body=deletion_body(scheduled), status_code=202)


@route(bp, "/campaigns/{cid}/deletion", methods=["GET"], response="DeletionState")
def deletion_state(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import deletion

    return deletion_body(deletion.state(principal, cid))


@route(bp, "/campaigns/{cid}/deletion", methods=["DELETE"], status=204)
def cancel_deletion(principal: Principal, cid: str) -> Response:
    from chalicelib.logic import deletion

    deletion.cancel(principal, cid)
    return Response(body="", status_code=204)
