"""The caller's own profile and memberships."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import users as users_dal
from chalicelib.domain.campaigns import Membership
from chalicelib.domain.people import User
from chalicelib.errors import NotAuthenticated
from chalicelib.logic.principal import Principal


@dataclass(frozen=True)
class Me:
    user: User
    memberships: list[tuple[Membership, str]]  # with the campaign's name


def get_me(principal: Principal) -> Me:
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    memberships = campaigns_dal.list_user_memberships(user.user_id)
    campaigns = campaigns_dal.get_campaigns([m.campaign_id for m in memberships])
    return Me(
        user,
        [(m, campaigns[m.campaign_id].name) for m in memberships if m.campaign_id in campaigns],
    )
