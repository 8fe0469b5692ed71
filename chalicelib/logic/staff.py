"""Staff grants: an operator opens one campaign to one staff member for a few hours, with
a reason; the campaign's admins are told at once, see every grant and how often it was
used, and may end it."""

from __future__ import annotations

from chalicelib import notify
from chalicelib.audit import store as audit_store
from chalicelib.auth import policy
from chalicelib.auth.policy import Caller, Permission
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import grants as grants_dal
from chalicelib.dal import users as users_dal
from chalicelib.domain.paging import Page
from chalicelib.domain.privacy import StaffGrant
from chalicelib.errors import InvalidInput, NotFound, Refused
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal

MAX_REASON = 500
LONGEST_HOURS = int(grants_dal.LONGEST.total_seconds() // 3600)


def issue_grant(
    campaign_id: str, staff_user_id: str, *, reason: str, hours: int, operator: str
) -> StaffGrant:
    """An operator's grant (tools.staff grant-access). The staff member must be current
    staff (flagged, trained within 365 days); MFA is checked at each read."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput("reason", f"must be 1 to {MAX_REASON} characters")
    if not 1 <= hours <= LONGEST_HOURS:
        raise InvalidInput("hours", f"must be 1 to {LONGEST_HOURS}")
    campaign = campaigns_dal.get_campaign(campaign_id)
    if campaign is None:
        raise NotFound("no such campaign")
    user = users_dal.get_user(staff_user_id)
    if user is None or not policy.staff_is_current(
        Caller(user.user_id, True, user.is_staff, user.staff_trained_at)
    ):
        raise Refused("only staff with a security training within 365 days may be granted access")
    if campaigns_dal.get_membership(campaign_id, staff_user_id) is not None:
        raise Refused("this person is a member of the campaign; a grant would change nothing")
    grant = grants_dal.create_grant(
        campaign_id,
        staff_user_id=staff_user_id,
        staff_name=user.name,
        reason=reason,
        hours=hours,
        granted_by=operator,
    )
    audit_store.record(
        "staff.grant_issued",
        f"campaign:{campaign_id}",
        actor_id=operator,
        campaign_id=campaign_id,
        values={"grant_id": grant.grant_id, "staff_user_id": staff_user_id, "hours": hours},
        operator=True,
    )
    for admin in campaigns_dal.admins(campaign_id):
        notify.send(
            admin.email,
            "staff_grant_started",
            body=(
                f"{user.name}, of the platform's staff, may read the data of {campaign.name} "
                f"until {grant.expires_at}. Reason given: {reason}\n\n"
                "Every read is in your campaign's audit trail; you can end this access at any "
                "time from the console (Audit and privacy) or with "
                f"DELETE /campaigns/{campaign_id}/staff-access/{grant.grant_id}."
            ),
        )
    return grant


def revoke_staff(campaign_id: str, staff_user_id: str, operator: str) -> list[StaffGrant]:
    """End every live grant of the staff member to the campaign (tools.staff revoke-access)."""
    ended = []
    for grant in grants_dal.grants_of_staff(campaign_id, staff_user_id):
        if grant.revoked_at is None:
            ended.append(grants_dal.revoke_grant(campaign_id, grant.grant_id, operator))
    if ended:
        audit_store.record(
            "staff.grant_revoked",
            f"campaign:{campaign_id}",
            actor_id=operator,
            campaign_id=campaign_id,
            values={"grant_ids": [g.grant_id for g in ended]},
            operator=True,
        )
    return ended


def list_grants(principal: Principal, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    require(principal, campaign_id, Permission.VIEW_STAFF_ACCESS)
    return grants_dal.list_grants(campaign_id, limit=limit, cursor=cursor)


def end_grant(principal: Principal, campaign_id: str, grant_id: str) -> StaffGrant:
    """An admin ends a grant to their campaign at once."""
    require(principal, campaign_id, Permission.MANAGE_STAFF_ACCESS)
    return grants_dal.revoke_grant(campaign_id, grant_id, principal.user_id)
