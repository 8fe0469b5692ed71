"""Asks the policy, on behalf of the logic functions, and turns its answer into errors."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from chalicelib.audit import store as audit_store
from chalicelib.auth import policy
from chalicelib.auth.policy import Caller, Decision, Permission
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import grants as grants_dal
from chalicelib.dal import users as users_dal
from chalicelib.dal.common import ItemKey
from chalicelib.domain.campaigns import Membership, Role
from chalicelib.errors import Forbidden, MfaRequired, NotFound
from chalicelib.logic.principal import Principal
from chalicelib.observability import count

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    """What the caller was allowed as: a member (with a role) or current staff."""

    campaign_id: str
    membership: Membership | None
    as_staff: bool

    @property
    def role(self) -> Role | None:
        return self.membership.role if self.membership else None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN or self.as_staff


_NOT_FOUND = "no such campaign"


def _raise_for(decision: Decision) -> None:
    if decision is Decision.MFA_REQUIRED:
        raise MfaRequired()
    if decision is Decision.FORBIDDEN:
        raise Forbidden("your role in this campaign does not allow this")
    if decision is Decision.NOT_FOUND:
        raise NotFound(_NOT_FOUND)


def require_global(principal: Principal, permission: Permission) -> None:
    _raise_for(policy.decide_global(Caller(principal.user_id, principal.mfa), permission))


def require(principal: Principal, campaign_id: str, permission: Permission) -> Access:
    membership = campaigns_dal.get_membership(campaign_id, principal.user_id)
    return _decide(principal, campaign_id, permission, membership)


def require_with(
    principal: Principal, campaign_id: str, permission: Permission, key: ItemKey[T]
) -> tuple[Access, T | None]:
    """`require`, and the item the request is about (None when there is none), read in
    the same call as the caller's membership. The item is returned only when allowed."""
    membership, item = campaigns_dal.get_membership_and(campaign_id, principal.user_id, key)
    return _decide(principal, campaign_id, permission, membership), item


def _decide(
    principal: Principal, campaign_id: str, permission: Permission, membership: Membership | None
) -> Access:
    role = membership.role if membership else None
    caller = Caller(principal.user_id, principal.mfa)
    grant = None
    if policy.needs_staff_profile(role, permission):
        user = users_dal.get_user(principal.user_id)
        if user is not None and user.is_staff:
            caller = Caller(principal.user_id, principal.mfa, True, user.staff_trained_at)
            if policy.staff_is_current(caller):
                grant = grants_dal.live_grant(campaign_id, principal.user_id)
                caller = replace(caller, has_grant=grant is not None)
    decision = policy.decide(caller, role, permission)
    _raise_for(decision)
    if decision is Decision.ALLOW_AS_STAFF and grant is not None:
        audit_store.record(
            "staff.access",
            f"campaign:{campaign_id}",
            actor_id=principal.user_id,
            campaign_id=campaign_id,
            values={"permission": permission.value, "grant_id": grant.grant_id},
        )
        grants_dal.count_access(campaign_id, grant.grant_id)
        count("StaffAccess")
    return Access(campaign_id, membership, decision is Decision.ALLOW_AS_STAFF)
