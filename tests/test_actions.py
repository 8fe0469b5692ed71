"""Actions: publishing, what volunteers see, soft delete and restore."""

from __future__ import annotations

import boto3
import pytest

from tests.helpers import (
    admin_with_mfa,
    campaign_with_volunteer,
    create_action,
    create_campaign,
    join,
    volunteer,
)

SURVEY = {
    "type": "survey",
    "title": "Bond survey",
    "instructions": "Ask politely.",
    "status": "live",
    "questions": [
        {"text": "Support the bond?", "responses": [{"text": "Yes"}, {"text": "No"}]},
        {"text": "Volunteer?", "responses": [{"text": "Sure"}]},
    ],
}


def test_create_returns_ids_for_questions_and_responses(api):
    admin, cid, _ = campaign_with_volunteer(api)
    reply = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token)
    assert reply.status == 201
    body = reply.body
    assert body["action_id"]
    assert body["title"] == "Bond survey"
    assert body["created_by"] == admin.user_id
    assert body["deleted_at"] is None
    questions = body["questions"]
    assert [q["text"] for q in questions] == ["Support the bond?", "Volunteer?"]
    ids = [q["question_id"] for q in questions] + [
        r["response_id"] for q in questions for r in q["responses"]
    ]
    assert len(ids) == len(set(ids)) == 5
    assert api.get(f"/campaigns/{cid}/actions/{body['action_id']}", token=admin.token).body == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"title": "x"}, "type", id="no-type"),
        pytest.param({"type": "dance", "title": "x"}, "type", id="unknown-type"),
        pytest.param({"type": "call"}, "title", id="no-title"),
        pytest.param(
            {"type": "call", "title": "x", "status": "archived"}, "status", id="unknown-status"
        ),
        pytest.param(
            {"type": "call", "title": "x", "questions": [{"responses": []}]},
            "questions[0].text",
            id="question-without-text",
        ),
        pytest.param(
            {"type": "call", "title": "x", "questions": [{"text": "q", "responses": [{}]}]},
            "questions[0].responses[0].text",
            id="response-without-text",
        ),
        pytest.param(
            {"type": "call", "title": "x", "questions": "nope"},
            "questions",
            id="questions-not-a-list",
        ),
    ],
)
def test_action_input_is_validated(api, body, field):
    admin, cid, _ = campaign_with_volunteer(api)
    reply = api.post(f"/campaigns/{cid}/actions", body, token=admin.token)
    assert reply.status == 400, (body, reply)
    assert reply.body["Message"].startswith(field), (body, reply)


def test_volunteers_see_live_actions_only(api):
    admin, cid, vol = campaign_with_volunteer(api)
    live = create_action(api, admin, cid, status="live", title="Live one")
    draft = create_action(api, admin, cid, status="draft", title="Draft")
    closed = create_action(api, admin, cid, status="closed", title="Closed")
    listed = api.get(f"/campaigns/{cid}/actions", token=vol.token)
    assert [a["action_id"] for a in listed.body["items"]] == [live["action_id"]]
    assert "created_by" not in listed.body["items"][0]
    assert api.get(f"/campaigns/{cid}/actions/{draft['action_id']}", token=vol.token).status == 404
    assert api.get(f"/campaigns/{cid}/actions/{closed['action_id']}", token=vol.token).status == 404
    admin_list = api.get(f"/campaigns/{cid}/actions", token=admin.token)
    assert len(admin_list.body["items"]) == 3


def test_volunteers_may_not_ask_for_deleted_actions(api):
    _admin, cid, vol = campaign_with_volunteer(api)
    assert api.get(f"/campaigns/{cid}/actions?include_deleted=true", token=vol.token).status == 403
    admin_reply = api.get(f"/campaigns/{cid}/actions?include_deleted=maybe", token=_admin.token)
    assert admin_reply.status == 400


def test_patch_is_partial(api):
    admin, cid, _ = campaign_with_volunteer(api)
    action = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body
    aid = action["action_id"]
    reply = api.patch(f"/campaigns/{cid}/actions/{aid}", {"title": "Renamed"}, token=admin.token)
    assert reply.status == 200
    assert reply.body["title"] == "Renamed"
    for field in ("type", "instructions", "status", "questions", "created_at", "created_by"):
        assert reply.body[field] == action[field], field
    cleared = api.patch(
        f"/campaigns/{cid}/actions/{aid}", {"instructions": None}, token=admin.token
    )
    assert cleared.body["instructions"] is None
    assert (
        api.patch(f"/campaigns/{cid}/actions/{aid}", {"title": None}, token=admin.token).status
        == 400
    )
    assert (
        api.patch(f"/campaigns/{cid}/actions/nope", {"title": "x"}, token=admin.token).status == 404
    )


def test_patch_questions_keeps_the_ids_it_names(api):
    admin, cid, _ = campaign_with_volunteer(api)
    action = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body
    aid = action["action_id"]
    first = action["questions"][0]
    questions = [
        {
            "question_id": first["question_id"],
            "text": "Support the school bond?",
            "responses": [first["responses"][0], {"text": "Maybe"}],
        }
    ]
    reply = api.patch(
        f"/campaigns/{cid}/actions/{aid}", {"questions": questions}, token=admin.token
    )
    assert reply.status == 200
    (question,) = reply.body["questions"]
    assert question["question_id"] == first["question_id"]
    assert question["text"] == "Support the school bond?"
    assert question["responses"][0] == first["responses"][0]
    assert question["responses"][1]["text"] == "Maybe"
    unknown = [{"question_id": "made-up", "text": "q"}]
    bad = api.patch(f"/campaigns/{cid}/actions/{aid}", {"questions": unknown}, token=admin.token)
    assert bad.status == 400
    assert bad.body["Message"].startswith("questions[0].question_id")


def test_soft_delete_and_restore_bring_the_action_back_exactly(api, stack):
    admin, cid, vol = campaign_with_volunteer(api)
    action = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body
    aid = action["action_id"]
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    key = {"pk": f"CAMPAIGN#{cid}", "sk": f"ACTION#{aid}"}
    stored_before = table.get_item(Key=key)["Item"]

    assert api.delete(f"/campaigns/{cid}/actions/{aid}", token=admin.token).status == 204
    # nothing erased: the item is there, marked
    stored_deleted = table.get_item(Key=key)["Item"]
    assert stored_deleted["deleted_by"] == admin.user_id
    assert stored_deleted["deleted_at"]
    for field, value in stored_before.items():
        if field not in ("updated_at", "updated_by", "gsi1pk", "gsi1sk"):  # index keys: bookkeeping
            assert stored_deleted[field] == value, field

    # gone for volunteers, and from admins' default list
    assert api.get(f"/campaigns/{cid}/actions/{aid}", token=vol.token).status == 404
    assert api.get(f"/campaigns/{cid}/actions", token=vol.token).body["items"] == []
    assert api.get(f"/campaigns/{cid}/actions", token=admin.token).body["items"] == []
    with_deleted = api.get(f"/campaigns/{cid}/actions?include_deleted=true", token=admin.token)
    (listed,) = with_deleted.body["items"]
    assert listed["deleted_at"] and listed["deleted_by"] == admin.user_id
    seen = api.get(f"/campaigns/{cid}/actions/{aid}", token=admin.token).body
    assert seen["deleted_by"] == admin.user_id
    # a deleted action cannot be edited until restored; deleting again changes nothing
    assert (
        api.patch(f"/campaigns/{cid}/actions/{aid}", {"title": "x"}, token=admin.token).status
        == 409
    )
    assert api.delete(f"/campaigns/{cid}/actions/{aid}", token=admin.token).status == 204
    assert table.get_item(Key=key)["Item"]["deleted_at"] == stored_deleted["deleted_at"]

    restored = api.post(f"/campaigns/{cid}/actions/{aid}/restore", token=admin.token)
    assert restored.status == 200
    assert restored.body["deleted_at"] is None
    for field, value in action.items():
        if field not in ("updated_at", "updated_by"):
            assert restored.body[field] == value, field
    stored_after = table.get_item(Key=key)["Item"]
    assert set(stored_after) == set(stored_before)
    for field, value in stored_before.items():
        if field not in ("updated_at", "updated_by"):
            assert stored_after[field] == value, field
    assert stored_after["updated_by"] == admin.user_id
    assert api.get(f"/campaigns/{cid}/actions/{aid}", token=vol.token).status == 200


def test_delete_and_restore_of_unknown_actions_are_404(api):
    admin, cid, _ = campaign_with_volunteer(api)
    assert api.delete(f"/campaigns/{cid}/actions/none", token=admin.token).status == 404
    assert api.post(f"/campaigns/{cid}/actions/none/restore", token=admin.token).status == 404


def test_actions_paginate_with_filters(api):
    admin, cid, vol = campaign_with_volunteer(api)
    live = [create_action(api, admin, cid, title=f"L{i}")["action_id"] for i in range(3)]
    for i in range(3):
        create_action(api, admin, cid, title=f"D{i}", status="draft")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        path = f"/campaigns/{cid}/actions?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, token=vol.token).body
        seen += [a["action_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == live


def test_a_volunteers_list_of_live_actions_is_one_query_however_many_there_are(api, enforcer):
    from tests.helpers import (
        create_action,
    )

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    live = [create_action(api, admin, cid, title=f"Live {n}")["action_id"] for n in range(3)]
    for n in range(12):
        create_action(api, admin, cid, title=f"Draft {n}", status="draft")
    closed = create_action(api, admin, cid, title="Was live")["action_id"]
    api.patch(f"/campaigns/{cid}/actions/{closed}", {"status": "closed"}, token=admin.token)
    gone = create_action(api, admin, cid, title="Deleted")["action_id"]
    api.delete(f"/campaigns/{cid}/actions/{gone}", token=admin.token)
    back = create_action(api, admin, cid, title="Restored")["action_id"]
    api.delete(f"/campaigns/{cid}/actions/{back}", token=admin.token)
    api.post(f"/campaigns/{cid}/actions/{back}/restore", token=admin.token)

    enforcer.calls.clear()
    page = api.get(f"/campaigns/{cid}/actions?limit=3", token=vol.token).body
    queries = [c for c in enforcer.calls if c.action == "dynamodb:Query"]
    assert len(queries) == 1 and queries[0].resource.endswith("/index/gsi1")
    rest = api.get(
        f"/campaigns/{cid}/actions?limit=3&cursor={page['next_cursor']}", token=vol.token
    ).body
    assert "items" in rest, (rest, page)
    seen = [a["action_id"] for a in page["items"] + rest["items"]]
    assert sorted(seen) == sorted([*live, back])
    assert rest["next_cursor"] is None
    # admins still see every action not deleted
    everything = api.get(f"/campaigns/{cid}/actions?limit=50", token=admin.token).body["items"]
    assert len(everything) == 3 + 12 + 1 + 1
