"""/campaigns: campaigns, join codes and members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route

if TYPE_CHECKING:
    from chalicelib.domain.campaigns import Campaign, JoinCode
    from chalicelib.logic.access import Access
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def _campaign(campaign: Campaign, access: Access | None) -> dict[str, Any]:
    body: dict[str, Any] = {"campaign_id": campaign.campaign_id, "name": campaign.name}
    if access is not None:
        body["role"] = access.role.value if access.role else ("staff" if access.as_staff else None)
    if access is None or access.is_admin:
        body.update(
            settings=campaign.settings,
            admin_count=campaign.admin_count,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )
    return body


@route(
    bp,
    "/campaigns",
    methods=["POST"],
    idempotent=True,
    body="CampaignIn",
    status=201,
    response="Campaign",
)
def create_campaign(principal: Principal) -> Response:
    from chalicelib.domain.campaigns import Role
    from chalicelib.logic import campaigns, inputs

    body = parse(inputs.CampaignIn, json_body(bp.current_request))
    campaign = campaigns.create_campaign(principal, body.name)
    created = {**_campaign(campaign, None), "role": Role.ADMIN.value}
    return Response(body=created, status_code=201)


@route(bp, "/campaigns/join", methods=["POST"], body="CodeIn", response="Joined")
def join_campaign(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import campaigns, inputs

    body = parse(inputs.CodeIn, json_body(bp.current_request))
    membership = campaigns.join(principal, body.code)
    return {"campaign_id": membership.campaign_id, "role": membership.role.value}


@route(bp, "/campaigns/{cid}", methods=["GET"], response="Campaign")
def get_campaign(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import campaigns

    campaign, access = campaigns.get_campaign(principal, cid)
    return _campaign(campaign, access)


@route(bp, "/campaigns/{cid}", methods=["PATCH"], body="CampaignPatch", response="Campaign")
def update_campaign(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.domain.campaigns import Role
    from chalicelib.logic import campaigns, inputs

    body = parse(inputs.CampaignPatch, json_body(bp.current_request))
    campaign = campaigns.update_campaign(principal, cid, name=body.name, settings=body.settings)
    return {**_campaign(campaign, None), "role": Role.ADMIN.value}


def _join_code(code: JoinCode) -> dict[str, Any]:
    return {
        "code": code.code,
        "campaign_id": code.campaign_id,
        "created_at": code.created_at,
        "created_by": code.created_by,
        "expires_at": code.expires_at,
        "uses": code.uses,
        "max_uses": code.max_uses,
        "revoked_at": code.revoked_at,
    }


@route(
    bp,
    "/campaigns/{cid}/join-codes",
    methods=["POST"],
    idempotent=True,
    body="JoinCodeIn",
    status=201,
    response="JoinCode",
)
def create_join_code(principal: Principal, cid: str) -> Response:
    from chalicelib.logic import campaigns, inputs

    request = bp.current_request
    raw = json_body(request) if request.raw_body else {}
    body = parse(inputs.JoinCodeIn, raw)
    code = campaigns.create_join_code(
        principal, cid, max_uses=body.max_uses, expires_in_days=body.expires_in_days
    )
    return Response(body=_join_code(code), status_code=201)


@route(bp, "/campaigns/{cid}/join-codes", methods=["GET"], paged=True, response="Page[JoinCode]")
def list_join_codes(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import campaigns

    limit, cursor = page_params(bp.current_request)
    page = campaigns.list_join_codes(principal, cid, limit=limit, cursor=cursor)
    return page_body([_join_code(c) for c in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/join-codes/{code}", methods=["DELETE"], status=204)
def revoke_join_code(principal: Principal, cid: str, code: str) -> Response:
    from chalicelib.logic import campaigns

    campaigns.revoke_join_code(principal, cid, code)
    return Response(body="", status_code=204)


@route(bp, "/campaigns/{cid}/members/{uid}/readmit", methods=["POST"], response="Readmitted")
def readmit_member(principal: Principal, cid: str, uid: str) -> dict[str, Any]:
    from chalicelib.logic import campaigns

    campaigns.readmit(principal, cid, uid)
    return {"campaign_id": cid, "user_id": uid, "readmitted": True}


@route(bp, "/campaigns/{cid}/members", methods=["GET"], paged=True, response="Page[Member]")
def list_members(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import campaigns

    limit, cursor = page_params(bp.current_request)
    views, next_cursor = campaigns.list_members(principal, cid, limit=limit, cursor=cursor)
    return page_body(
        [
            {
                "user_id": v.membership.user_id,
                "name": v.membership.name,
                "email": v.membership.email,
                "role": v.membership.role.value,
                "synced_contacts_count": v.synced_contacts_count,
                "reports_count": v.membership.reports_count,
                "joined_at": v.membership.created_at,
            }
            for v in views
        ],
        next_cursor,
    )


@route(
    bp, "/campaigns/{cid}/members/{uid}", methods=["PATCH"], body="RoleIn", response="RoleChanged"
)
def change_role(principal: Principal, cid: str, uid: str) -> dict[str, Any]:
    from chalicelib.logic import campaigns, inputs

    body = parse(inputs.RoleIn, json_body(bp.current_request))
    membership = campaigns.change_role(principal, cid, uid, body.role)
    return {"campaign_id": cid, "user_id": membership.user_id, "role": membership.role.value}


@route(bp, "/campaigns/{cid}/members/{uid}", methods=["DELETE"], status=204)
def remove_member(principal: Principal, cid: str, uid: str) -> Response:
    from chalicelib.logic import campaigns

    campaigns.remove_member(principal, cid, uid)
    return Response(body="", status_code=204)
