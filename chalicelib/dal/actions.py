"""Actions (main table). Deleting is a soft delete: the item stays, marked."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from chalicelib.dal.common import ItemKey, now_iso, paged_query
from chalicelib.dal.models import ActionModel
from chalicelib.domain.actions import Action, Question, Response
from chalicelib.domain.paging import Page
from chalicelib.errors import Conflict, NotFound

_NO_ACTION = "no such action"


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _sk(action_id: str) -> str:
    return f"ACTION#{action_id}"


def _questions_to_raw(questions: list[Question]) -> list[dict[str, Any]]:
    return [
        {
            "question_id": q.question_id,
            "text": q.text,
            "responses": [{"response_id": r.response_id, "text": r.text} for r in q.responses],
        }
        for q in questions
    ]


def _questions_from_raw(raw: list[dict[str, Any]] | None) -> list[Question]:
    return [
        Question(
            question_id=q["question_id"],
            text=q["text"],
            responses=[Response(r["response_id"], r["text"]) for r in q.get("responses", [])],
        )
        for q in raw or []
    ]


def _action(item: ActionModel) -> Action:
    return Action(
        campaign_id=item.campaign_id,
        action_id=item.action_id,
        type=item.type,
        title=item.title,
        instructions=item.instructions,
        status=item.status,
        questions=_questions_from_raw(item.questions),
        created_at=item.created_at,
        created_by=item.created_by,
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        deleted_at=item.deleted_at,
        deleted_by=item.deleted_by,
    )


def _live_keys(campaign_id: str, action_id: str, live: bool) -> list[Any]:
    """The update actions putting the action in (or out of) the live index."""
    if live:
        return [
            ActionModel.gsi1pk.set(f"LIVE#{campaign_id}"),
            ActionModel.gsi1sk.set(_sk(action_id)),
        ]
    return [ActionModel.gsi1pk.remove(), ActionModel.gsi1sk.remove()]


def create_action(action: Action) -> Action:
    live = action.status == "live"
    ActionModel(
        _pk(action.campaign_id),
        _sk(action.action_id),
        entity="action",
        campaign_id=action.campaign_id,
        action_id=action.action_id,
        type=action.type,
        title=action.title,
        instructions=action.instructions,
        status=action.status,
        questions=_questions_to_raw(action.questions),
        created_at=action.created_at,
        created_by=action.created_by,
        updated_at=action.updated_at,
        updated_by=action.updated_by,
        gsi1pk=f"LIVE#{action.campaign_id}" if live else None,
        gsi1sk=_sk(action.action_id) if live else None,
    ).save(condition=ActionModel.pk.does_not_exist())
    return action


def get_actions(campaign_id: str, action_ids: list[str]) -> dict[str, Action]:
    """Several actions by id (BatchGetItem, 100 keys a call)."""
    keys = [(_pk(campaign_id), _sk(aid)) for aid in dict.fromkeys(action_ids) if aid]
    return {item.action_id: _action(item) for item in ActionModel.batch_get(keys)}


def action_key(campaign_id: str, action_id: str) -> ItemKey[Action]:
    return ItemKey(ActionModel, _pk(campaign_id), _sk(action_id), _action)


def get_action(campaign_id: str, action_id: str) -> Action | None:
    try:
        return _action(ActionModel.get(_pk(campaign_id), _sk(action_id)))
    except DoesNotExist:
        return None


def list_actions(
    campaign_id: str,
    *,
    live_only: bool,
    include_deleted: bool,
    limit: int,
    cursor: str | None,
) -> Page:
    if live_only and not include_deleted:  # the index holds exactly the live, undeleted ones
        return paged_query(
            ActionModel,
            f"LIVE#{campaign_id}",
            scope=f"actions:{campaign_id}:live",
            limit=limit,
            cursor=cursor,
            convert=_action,
            index=ActionModel.gsi1,
        )
    condition: Any = None
    if not include_deleted:
        condition = ActionModel.deleted_at.does_not_exist()
    if live_only:  # with the deleted ones too: no caller asks it, so a filter serves
        live = ActionModel.status == "live"
        condition = live if condition is None else condition & live
    return paged_query(
        ActionModel,
        _pk(campaign_id),
        scope=f"actions:{campaign_id}:{int(live_only)}{int(include_deleted)}",
        limit=limit,
        cursor=cursor,
        convert=_action,
        range_key_condition=ActionModel.sk.startswith("ACTION#"),
        filter_condition=condition,
    )


def update_action(campaign_id: str, action_id: str, changes: dict[str, Any], actor: str) -> Action:
    """Apply a partial update to an action that is not deleted."""
    item = ActionModel(_pk(campaign_id), _sk(action_id))
    actions: list[Any] = [ActionModel.updated_at.set(now_iso()), ActionModel.updated_by.set(actor)]
    for name, value in changes.items():
        attribute = getattr(ActionModel, name)
        if name == "questions":
            value = _questions_to_raw(value)
        actions.append(attribute.remove() if value is None else attribute.set(value))
        if name == "status":
            actions += _live_keys(campaign_id, action_id, value == "live")
    try:
        item.update(
            actions=actions,
            condition=ActionModel.pk.exists() & ActionModel.deleted_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        if get_action(campaign_id, action_id) is None:
            raise NotFound(_NO_ACTION) from None
        raise Conflict("the action is deleted; restore it before changing it") from None
    return _action(item)


def soft_delete_action(campaign_id: str, action_id: str, actor: str) -> Action:
    """Mark deleted; erases nothing. Deleting a deleted action changes nothing."""
    stamp = now_iso()
    return _set_deleted(
        campaign_id,
        action_id,
        [
            ActionModel.deleted_at.set(stamp),
            ActionModel.deleted_by.set(actor),
            ActionModel.updated_at.set(stamp),
            ActionModel.updated_by.set(actor),
            *_live_keys(campaign_id, action_id, False),
        ],
        ActionModel.deleted_at.does_not_exist(),
    )


def restore_action(campaign_id: str, action_id: str, actor: str) -> Action:
    """Clear the deletion marks; every other field is as it was. Idempotent."""
    restored = _set_deleted(
        campaign_id,
        action_id,
        [
            ActionModel.deleted_at.remove(),
            ActionModel.deleted_by.remove(),
            ActionModel.updated_at.set(now_iso()),
            ActionModel.updated_by.set(actor),
        ],
        ActionModel.deleted_at.exists(),
    )
    if restored.status == "live":  # back in the live index, as it was before
        ActionModel(_pk(campaign_id), _sk(action_id)).update(
            actions=_live_keys(campaign_id, action_id, True),
            condition=ActionModel.deleted_at.does_not_exist() & (ActionModel.status == "live"),
        )
    return restored


def _set_deleted(
    campaign_id: str, action_id: str, actions: list[Any], unless_already: Condition
) -> Action:
    """Apply a deletion or restoration; when the action is already in that state, it is
    returned unchanged (NotFound when there is no such action)."""
    item = ActionModel(_pk(campaign_id), _sk(action_id))
    try:
        item.update(actions=actions, condition=ActionModel.pk.exists() & unless_already)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = get_action(campaign_id, action_id)
        if existing is None:
            raise NotFound(_NO_ACTION) from None
        return existing
    return _action(item)
