"""Who may do what: the one place that decides. Views and logic ask; they never decide.

Rules, in order:
1. Not signed in never reaches here (the token check answers 401 first).
2. Outside a campaign (no membership): platform staff with a current security
   training (365 days), a live grant to this campaign (issued by an operator, at
   most 72 hours) and an MFA-verified session may read what admins read, and change
   nothing (403); everyone else, staff without a grant included, is told the
   campaign does not exist (404, never a hint).
3. An admin acts as admin only with an MFA-verified session (403 "MFA required").
4. A volunteer may do what volunteers do; anything for admins is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chalicelib.domain.campaigns import Role

STAFF_TRAINING_VALID_FOR = timedelta(days=365)


class Permission(StrEnum):
    # needs no campaign
    CREATE_CAMPAIGN = "create_campaign"
    # a member's
    VIEW_CAMPAIGN = "view_campaign"
    VIEW_ACTIONS = "view_actions"
    FILE_REPORT = "file_report"
    # an admin's (and, for reading, current staff's)
    VIEW_CAMPAIGN_SETTINGS = "view_campaign_settings"
    MANAGE_CAMPAIGN = "manage_campaign"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    VIEW_DELETED_ACTIONS = "view_deleted_actions"
    MANAGE_ACTIONS = "manage_actions"
    VIEW_LISTS = "view_lists"
    MANAGE_LISTS = "manage_lists"
    VIEW_REPORTS = "view_reports"
    VIEW_STATS = "view_stats"
    EXPORT_DATA = "export_data"
    VIEW_INTEGRATIONS = "view_integrations"
    MANAGE_INTEGRATIONS = "manage_integrations"
    VIEW_AUDIT = "view_audit"
    VIEW_STAFF_ACCESS = "view_staff_access"
    MANAGE_STAFF_ACCESS = "manage_staff_access"
    DELETE_CAMPAIGN = "delete_campaign"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    staff_may_read: bool = False


_MEMBERS = frozenset({Role.ADMIN, Role.VOLUNTEER})
_ADMINS = frozenset({Role.ADMIN})

RULES: dict[Permission, Rule] = {
    Permission.VIEW_CAMPAIGN: Rule(_MEMBERS, staff_may_read=True),
    Permission.VIEW_ACTIONS: Rule(_MEMBERS, staff_may_read=True),
    Permission.FILE_REPORT: Rule(_MEMBERS),
    Permission.VIEW_CAMPAIGN_SETTINGS: Rule(_ADMINS, staff_may_read=True),
    Permission.MANAGE_CAMPAIGN: Rule(_ADMINS),
    Permission.VIEW_MEMBERS: Rule(_ADMINS, staff_may_read=True),
    Permission.MANAGE_MEMBERS: Rule(_ADMINS),
    Permission.VIEW_DELETED_ACTIONS: Rule(_ADMINS, staff_may_read=True),
    Permission.MANAGE_ACTIONS: Rule(_ADMINS),
    Permission.VIEW_LISTS: Rule(_ADMINS, staff_may_read=True),
    Permission.MANAGE_LISTS: Rule(_ADMINS),
    Permission.VIEW_REPORTS: Rule(_ADMINS, staff_may_read=True),
    Permission.VIEW_STATS: Rule(_ADMINS, staff_may_read=True),
    # a copy of the campaign's data leaves the platform: its admins only, never staff
    Permission.EXPORT_DATA: Rule(_ADMINS),
    Permission.VIEW_INTEGRATIONS: Rule(_ADMINS, staff_may_read=True),
    Permission.MANAGE_INTEGRATIONS: Rule(_ADMINS),
    Permission.VIEW_AUDIT: Rule(_ADMINS, staff_may_read=True),
    Permission.VIEW_STAFF_ACCESS: Rule(_ADMINS),
    Permission.MANAGE_STAFF_ACCESS: Rule(_ADMINS),
    Permission.DELETE_CAMPAIGN: Rule(_ADMINS),
}


class Decision(StrEnum):
    ALLOW = "allow"
    ALLOW_AS_STAFF = "allow_as_staff"
    MFA_REQUIRED = "mfa_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Caller:
    """What the policy needs to know about the one asking."""

    user_id: str
    mfa: bool
    is_staff: bool = False
    staff_trained_at: str | None = None
    has_grant: bool = False  # a live staff grant to the campaign in question


def staff_is_current(caller: Caller, now: datetime | None = None) -> bool:
    if not caller.is_staff or not caller.staff_trained_at:
        return False
    try:
        trained = datetime.fromisoformat(caller.staff_trained_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if trained.tzinfo is None:
        trained = trained.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - trained <= STAFF_TRAINING_VALID_FOR


def decide_global(caller: Caller, permission: Permission) -> Decision:
    """Permissions that concern no campaign yet."""
    if permission is Permission.CREATE_CAMPAIGN:
        return Decision.ALLOW if caller.mfa else Decision.MFA_REQUIRED
    raise ValueError(f"{permission} is a campaign permission")


def decide(caller: Caller, role: Role | None, permission: Permission) -> Decision:
    """The decision for one caller, their role in the campaign (or None), one permission."""
    rule = RULES[permission]
    if role is not None and role in rule.roles:
        if role is Role.ADMIN and not caller.mfa:
            return Decision.MFA_REQUIRED
        return Decision.ALLOW
    if caller.has_grant and staff_is_current(caller):
        if not caller.mfa:
            return Decision.MFA_REQUIRED
        if rule.staff_may_read:
            return Decision.ALLOW_AS_STAFF
        if role is None:
            return Decision.FORBIDDEN  # staff may look, never change
    if role is None:
        return Decision.NOT_FOUND
    if role is Role.ADMIN and not caller.mfa:
        return Decision.MFA_REQUIRED
    return Decision.FORBIDDEN


def needs_staff_profile(role: Role | None, permission: Permission) -> bool:
    """Whether `decide` could use the staff flag here (saves a read when it cannot)."""
    rule = RULES[permission]
    return role is None or (rule.staff_may_read and role not in rule.roles)
