"""Actions: admins publish them, volunteers see the live ones. Deletes are soft."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.policy import Permission
from chalicelib.dal import actions as actions_dal
from chalicelib.dal.common import new_id, now_iso
from chalicelib.domain.actions import Action, Question, Response
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.logic.access import Access, require, require_with
from chalicelib.logic.principal import Principal

if TYPE_CHECKING:
    from chalicelib.logic.inputs import ActionIn, ActionPatch, QuestionIn

_NO_ACTION = "no such action"


def _new_questions(given: list[QuestionIn]) -> list[Question]:
    return [
        Question(
            question_id=new_id(),
            text=q.text,
            responses=[Response(new_id(), r.text) for r in q.responses],
        )
        for q in given
    ]


def _merged_questions(current: list[Question], given: list[QuestionIn]) -> list[Question]:
    """The new question list of a PATCH: ids given keep their question, others are new."""
    known = {q.question_id: q for q in current}
    merged = []
    for qi, q in enumerate(given):
        qid = q.question_id
        if qid is not None and qid not in known:
            raise InvalidInput(f"questions[{qi}].question_id", "names no question of this action")
        known_responses = {r.response_id for r in known[qid].responses} if qid else set()
        responses = []
        for ri, r in enumerate(q.responses):
            rid = r.response_id
            if rid is not None and rid not in known_responses:
                raise InvalidInput(
                    f"questions[{qi}].responses[{ri}].response_id",
                    "names no response of this question",
                )
            responses.append(Response(rid or new_id(), r.text))
        merged.append(Question(qid or new_id(), q.text, responses))
    return merged


def create_action(principal: Principal, campaign_id: str, given: ActionIn) -> Action:
    require(principal, campaign_id, Permission.MANAGE_ACTIONS)
    stamp = now_iso()
    action = Action(
        campaign_id=campaign_id,
        action_id=new_id(),
        type=given.type,
        title=given.title,
        instructions=given.instructions,
        status=given.status,
        questions=_new_questions(given.questions),
        created_at=stamp,
        created_by=principal.user_id,
        updated_at=stamp,
        updated_by=principal.user_id,
    )
    return actions_dal.create_action(action)


def list_actions(
    principal: Principal,
    campaign_id: str,
    *,
    include_deleted: bool,
    limit: int,
    cursor: str | None,
) -> tuple[Page, Access]:
    access = require(principal, campaign_id, Permission.VIEW_ACTIONS)
    if include_deleted:
        access = require(principal, campaign_id, Permission.VIEW_DELETED_ACTIONS)
    page = actions_dal.list_actions(
        campaign_id,
        live_only=not access.is_admin,
        include_deleted=include_deleted,
        limit=limit,
        cursor=cursor,
    )
    return page, access


def get_action(principal: Principal, campaign_id: str, action_id: str) -> tuple[Action, Access]:
    access, action = require_with(
        principal,
        campaign_id,
        Permission.VIEW_ACTIONS,
        actions_dal.action_key(campaign_id, action_id),
    )
    if action is None:
        raise NotFound(_NO_ACTION)
    if not access.is_admin and (action.deleted or action.status != "live"):
        raise NotFound(_NO_ACTION)
    return action, access


def update_action(
    principal: Principal, campaign_id: str, action_id: str, patch: ActionPatch
) -> Action:
    changes = patch.changes()
    _, current = require_with(
        principal,
        campaign_id,
        Permission.MANAGE_ACTIONS,
        actions_dal.action_key(campaign_id, action_id),
    )
    if current is None:
        raise NotFound(_NO_ACTION)
    if "questions" in changes:
        changes["questions"] = _merged_questions(current.questions, changes["questions"])
    return actions_dal.update_action(campaign_id, action_id, changes, principal.user_id)


def delete_action(principal: Principal, campaign_id: str, action_id: str) -> Action:
    require(principal, campaign_id, Permission.MANAGE_ACTIONS)
    return actions_dal.soft_delete_action(campaign_id, action_id, principal.user_id)


def restore_action(principal: Principal, campaign_id: str, action_id: str) -> Action:
    require(principal, campaign_id, Permission.MANAGE_ACTIONS)
    return actions_dal.restore_action(campaign_id, action_id, principal.user_id)
