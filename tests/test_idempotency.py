"""Idempotency keys: a repeated request is answered as the first was and changes nothing."""

from __future__ import annotations

import time

import boto3
import pytest

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer


def _setup(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    aid = create_action(api, admin, cid)["action_id"]
    return admin, cid, vol, aid, _contact(api, vol)


def _contact(api, person):
    """The id of a contact `person` synced (reports in these tests are filed on it)."""
    body = {"contacts": [{"name": "Ann", "phones": ["2025550161"]}]}
    assert api.put("/me/contacts", body, token=person.token).status == 200
    return api.get("/me/contacts", token=person.token).body["items"][0]["contact_id"]


def _report(api, vol, cid, aid, body, key):
    return api.call(
        "POST",
        f"/campaigns/{cid}/actions/{aid}/reports",
        body,
        token=vol.token,
        headers={"Idempotency-Key": key},
    )


def test_a_repeated_report_is_filed_once_and_answered_the_same(api, stack):
    admin, cid, vol, aid, row = _setup(api)
    body = {"contact_id": row, "result": "not_home"}
    first = _report(api, vol, cid, aid, body, "phone-retry-1")
    again = _report(api, vol, cid, aid, body, "phone-retry-1")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert [r["report_id"] for r in reports] == [first.body["report_id"]]
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    assert next(m for m in members if m["user_id"] == vol.user_id)["reports_count"] == 1

    other = _report(api, vol, cid, aid, body, "phone-retry-2")  # a new key: a new report
    assert other.status == 201 and other.body["report_id"] != first.body["report_id"]
    without = api.post(f"/campaigns/{cid}/actions/{aid}/reports", body, token=vol.token)
    assert without.status == 201  # no key: every request counts
    assert len(api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]) == 3

    ops = boto3.resource("dynamodb").Table(stack["OPS_TABLE"])
    stored = [i for i in ops.scan()["Items"] if i["pk"].startswith("IDEMP#")]
    assert len(stored) == 2
    assert not any("phone-retry" in str(item) for item in stored)  # kept as a hash only
    assert all(int(item["expires_at"]) > time.time() + 23 * 3600 for item in stored)


def test_the_same_key_on_a_different_request_is_refused(api):
    admin, cid, vol, aid, row = _setup(api)
    first = _report(api, vol, cid, aid, {"contact_id": row, "result": "not_home"}, "k1")
    assert first.status == 201
    changed = _report(api, vol, cid, aid, {"contact_id": row, "result": "refused"}, "k1")
    assert changed.status == 422
    assert changed.body["Message"] == "Idempotency-Key: was used for a different request"
    assert len(api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]) == 1


def test_keys_belong_to_their_user(api):
    admin, cid, vol, aid, row = _setup(api)
    other = volunteer(api, "other")
    join(api, admin, cid, other)
    body = {"contact_id": row, "result": "not_home"}
    assert _report(api, vol, cid, aid, body, "shared").status == 201
    their_body = {"contact_id": _contact(api, other), "result": "not_home"}
    theirs = _report(api, other, cid, aid, their_body, "shared")
    assert theirs.status == 201 and "Idempotent-Replayed" not in theirs.headers
    assert len(api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]) == 2


def test_a_failed_request_keeps_nothing_and_can_be_sent_again(api):
    admin, cid, vol, aid, row = _setup(api)
    bad = _report(api, vol, cid, aid, {"contact_id": row, "result": "teleported"}, "k2")
    assert bad.status == 400
    fixed = _report(api, vol, cid, aid, {"contact_id": row, "result": "not_home"}, "k2")
    assert fixed.status == 201 and "Idempotent-Replayed" not in fixed.headers
    assert len(api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]) == 1


def test_a_claim_whose_request_died_lapses(api):
    from chalicelib.dal import ops
    from chalicelib.logic import idempotency

    _admin, cid, vol, aid, row = _setup(api)
    body = {"contact_id": row, "result": "not_home"}
    scope = f"{vol.user_id}#{idempotency._sha256(b'stuck')}"
    now = int(time.time())
    assert ops.claim_key(scope, "another", expires_at=now + 600, lapses_at=now - 1) is None
    reply = _report(api, vol, cid, aid, body, "stuck")
    assert reply.status == 201 and "Idempotent-Replayed" not in reply.headers


def test_a_repeat_in_progress_with_the_same_request_is_a_conflict(api, monkeypatch):
    from chalicelib.dal import ops

    _admin, cid, vol, aid, row = _setup(api)
    body = {"contact_id": row, "result": "not_home"}
    answered: list[object] = []

    def never_answered(*args, **kwargs):  # as if the first request were still running
        answered.append(args)

    monkeypatch.setattr(ops, "answer_key", never_answered)
    assert _report(api, vol, cid, aid, body, "k3").status == 201
    monkeypatch.undo()
    second = _report(api, vol, cid, aid, body, "k3")
    assert second.status == 409
    assert "still being served" in second.body["Message"]
    assert answered


@pytest.mark.parametrize(
    "key", [pytest.param("x" * 256, id="too-long"), pytest.param("caf\u00e9", id="not-ascii")]
)
def test_bad_keys_are_400(api, key):
    admin, cid, vol, aid, row = _setup(api)
    body = {"contact_id": row, "result": "not_home"}
    reply = _report(api, vol, cid, aid, body, key)
    assert reply.status == 400, key
    assert reply.body["Message"].startswith("Idempotency-Key:")
    assert api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"] == []


def test_campaigns_honour_keys_too(api):
    admin = admin_with_mfa(api)
    key = {"Idempotency-Key": "console-1"}
    one = api.call("POST", "/campaigns", {"name": "C"}, token=admin.token, headers=key)
    two = api.call("POST", "/campaigns", {"name": "C"}, token=admin.token, headers=key)
    assert one.status == two.status == 201 and one.body == two.body
    assert len([m for m in api.get("/me", token=admin.token).body["memberships"]]) == 1


@pytest.mark.parametrize(
    ("below", "body"),
    [
        pytest.param("actions", {"type": "call", "title": "Call", "status": "live"}, id="actions"),
        pytest.param("lists", {"name": "L", "rows": [{"external_id": "1"}]}, id="lists"),
        pytest.param("join-codes", None, id="join-codes"),
    ],
)
def test_what_is_created_in_a_campaign_honours_keys_too(api, below, body):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    path = f"/campaigns/{cid}/{below}"
    headers = {"Idempotency-Key": f"key-{path}"}
    first = api.call("POST", path, body, token=admin.token, headers=headers)
    again = api.call("POST", path, body, token=admin.token, headers=headers)
    assert first.status == again.status == 201, (path, first)
    assert again.body == first.body and again.headers.get("Idempotent-Replayed") == "true"
