"""Volunteers' work: rows of a list handed to them for an action (phone and text banks,
distributed canvassing). Each row goes to one volunteer at a time per action; a volunteer
sees only their own rows, and may report only on those."""

from __future__ import annotations

from chalicelib.audit import store as audit_store
from chalicelib.auth.policy import Permission
from chalicelib.dal import actions as actions_dal
from chalicelib.dal import assignments as assignments_dal
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import lists as lists_dal
from chalicelib.dal.assignments import Assignment
from chalicelib.domain.paging import Page
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.logic.access import require, require_with
from chalicelib.logic.principal import Principal

MAX_PER_REQUEST = 1000


def assign(
    principal: Principal, campaign_id: str, action_id: str, user_id: str, list_id: str, count: int
) -> int:
    """Hand the volunteer up to `count` rows of the list not yet assigned for the action;
    how many were (fewer when the list runs out). One audit record for the batch."""
    _, action = require_with(
        principal,
        campaign_id,
        Permission.MANAGE_ACTIONS,
        actions_dal.action_key(campaign_id, action_id),
    )
    if not 1 <= count <= MAX_PER_REQUEST:
        raise InvalidInput("count", f"must be 1 to {MAX_PER_REQUEST}")
    if action is None or action.deleted:
        raise NotFound("no such action")
    if campaigns_dal.get_membership(campaign_id, user_id) is None:
        raise InvalidInput("user_id", "is not a member of this campaign")
    voter_list = lists_dal.get_list(campaign_id, list_id)
    if voter_list is None:
        raise InvalidInput("list_id", "names no list of this campaign")
    if not voter_list.ready:
        raise Conflict(f"the list is {voter_list.status}; rows are assigned once it is ready")
    assigned = assignments_dal.assign(
        campaign_id, action_id, list_id, user_id, count, principal.user_id
    )
    audit_store.record(
        "assignment.created",
        f"action:{action_id}",
        actor_id=principal.user_id,
        campaign_id=campaign_id,
        values={"user_id": user_id, "list_id": list_id, "asked": count, "assigned": assigned},
    )
    return assigned


def give_back(principal: Principal, campaign_id: str, action_id: str, user_id: str) -> int:
    """The volunteer's unreported rows of the action go back to the pool."""
    _, action = require_with(
        principal,
        campaign_id,
        Permission.MANAGE_ACTIONS,
        actions_dal.action_key(campaign_id, action_id),
    )
    if action is None:
        raise NotFound("no such action")
    returned = assignments_dal.give_back(campaign_id, action_id, user_id, principal.user_id)
    audit_store.record(
        "assignment.returned",
        f"action:{action_id}",
        actor_id=principal.user_id,
        campaign_id=campaign_id,
        values={"user_id": user_id, "returned": returned},
    )
    return returned


def mine(principal: Principal, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    """The caller's own assigned rows in the campaign (a member's: staff have none)."""
    require(principal, campaign_id, Permission.FILE_REPORT)
    return assignments_dal.of_user(campaign_id, principal.user_id, limit=limit, cursor=cursor)


def assigned_to(
    principal: Principal, campaign_id: str, action_id: str, list_id: str, row_id: str
) -> Assignment:
    """The caller's assignment of this row for this action; to anyone else, the row is
    absent (404, the same answer as for no such row)."""
    found = assignments_dal.get(campaign_id, action_id, list_id, row_id)
    if found is None or found.user_id != principal.user_id:
        raise NotFound("no such list row")
    return found
