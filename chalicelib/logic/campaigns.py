"""Campaigns, join codes and members."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.auth.policy import Permission
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import users as users_dal
from chalicelib.dal.common import iso, new_id, now
from chalicelib.domain.campaigns import Campaign, JoinCode, Membership, Role
from chalicelib.domain.paging import Page
from chalicelib.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from chalicelib.logic.access import Access, require, require_global, require_with
from chalicelib.logic.principal import Principal

JOIN_CODE_TTL = timedelta(days=7)
_JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no look-alikes (0/O, 1/I/L)


@dataclass(frozen=True)
class MemberView:
    membership: Membership
    synced_contacts_count: int


def create_campaign(principal: Principal, name: str) -> Campaign:
    require_global(principal, Permission.CREATE_CAMPAIGN)
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    return campaigns_dal.create_campaign(new_id(), name, user)


def get_campaign(principal: Principal, campaign_id: str) -> tuple[Campaign, Access]:
    access, campaign = require_with(
        principal, campaign_id, Permission.VIEW_CAMPAIGN, campaigns_dal.campaign_key(campaign_id)
    )
    if campaign is None:
        raise NotFound("no such campaign")
    return campaign, access


DEFAULT_TIME_ZONE = "America/New_York"  # until an admin sets the campaign's own


def _check_time_zone(value: Any) -> None:
    """An IANA time zone name (`settings.time_zone`): the day a contact was made, for a CRM,
    is the day where the campaign is."""
    from zoneinfo import ZoneInfo

    try:
        if not isinstance(value, str) or not value or len(value) > 64:
            raise ValueError(value)
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise InvalidInput(
            "settings.time_zone", "must be an IANA time zone, such as America/Los_Angeles"
        ) from None


def time_zone_of(campaign: Campaign) -> str:
    zone = campaign.settings.get("time_zone")
    return zone if isinstance(zone, str) and zone else DEFAULT_TIME_ZONE


def update_campaign(
    principal: Principal, campaign_id: str, *, name: str | None, settings: dict[str, Any] | None
) -> Campaign:
    require(principal, campaign_id, Permission.MANAGE_CAMPAIGN)
    if settings is not None and "time_zone" in settings:
        _check_time_zone(settings["time_zone"])
    return campaigns_dal.update_campaign(
        campaign_id, name=name, settings=settings, actor=principal.user_id
    )


def create_join_code(
    principal: Principal,
    campaign_id: str,
    *,
    max_uses: int | None = None,
    expires_in_days: int | None = None,
) -> JoinCode:
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    code = "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(10))
    ttl = JOIN_CODE_TTL if expires_in_days is None else timedelta(days=expires_in_days)
    return campaigns_dal.create_join_code(
        code, campaign_id, iso(now() + ttl), principal.user_id, max_uses
    )


def list_join_codes(
    principal: Principal, campaign_id: str, *, limit: int, cursor: str | None
) -> Page:
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    return campaigns_dal.list_join_codes(campaign_id, limit=limit, cursor=cursor)


def revoke_join_code(principal: Principal, campaign_id: str, code: str) -> None:
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    campaigns_dal.revoke_join_code(campaign_id, code.strip().upper(), principal.user_id)


def join(principal: Principal, code: str) -> Membership:
    """Join a campaign as a volunteer (a member already keeps their role). The code must
    be live, not revoked and not used up, and the caller not removed from the campaign."""
    join_code = campaigns_dal.get_join_code(code.strip().upper())
    if join_code is None or join_code.expires_at <= iso(now()) or join_code.revoked_at:
        raise NotFound("no such join code, or it has expired")
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    membership, _created = campaigns_dal.add_member(
        join_code.campaign_id, user, Role.VOLUNTEER, code=join_code.code
    )
    return membership


def readmit(principal: Principal, campaign_id: str, user_id: str) -> None:
    """A removed member may join again."""
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    campaigns_dal.readmit(campaign_id, user_id, principal.user_id)


def list_members(
    principal: Principal, campaign_id: str, *, limit: int, cursor: str | None
) -> tuple[list[MemberView], str | None]:
    require(principal, campaign_id, Permission.VIEW_MEMBERS)
    page: Page = campaigns_dal.list_members(campaign_id, limit=limit, cursor=cursor)
    profiles = users_dal.get_users([m.user_id for m in page.items])
    views = [
        MemberView(m, profiles[m.user_id].contacts_count if m.user_id in profiles else 0)
        for m in page.items
    ]
    return views, page.next_cursor


def change_role(principal: Principal, campaign_id: str, user_id: str, role: Role) -> Membership:
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    if user_id == principal.user_id:
        raise Forbidden("an admin cannot change their own role")
    return campaigns_dal.change_role(campaign_id, user_id, role, principal.user_id)


def remove_member(principal: Principal, campaign_id: str, user_id: str) -> None:
    require(principal, campaign_id, Permission.MANAGE_MEMBERS)
    campaigns_dal.remove_member(campaign_id, user_id, principal.user_id)
