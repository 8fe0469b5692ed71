"""Each incident command on the local stack, run as an operator runs it in a drill
(docs/incident-response.md, "Drill"), with its effect seen over HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from devstack.child import LocalStack
from tests.e2e.conftest import Operator
from tests.helpers import PASSWORD, admin_with_mfa, create_campaign, join, sign_in, volunteer


@pytest.fixture(scope="module")
def local_stack(stack_with_van: LocalStack) -> LocalStack:
    """Here the stack the operator works on is the one that talks to the VAN stand-in."""
    return stack_with_van


def _ok(done) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return str(done.stdout)


def test_revoking_a_users_and_a_campaigns_sessions(http_api, operator):
    admin = admin_with_mfa(http_api)
    cid = create_campaign(http_api, admin)
    vol, other = volunteer(http_api), volunteer(http_api, "other")
    join(http_api, admin, cid, vol)
    _ok(operator.run("tools.incident", "revoke-sessions", "--user", vol.email, "--yes"))
    assert http_api.get("/me", token=vol.token).status == 401
    assert http_api.get("/me", token=admin.token).status == 200
    sign_in(http_api, vol)
    out = _ok(operator.run("tools.incident", "revoke-sessions", "--campaign", cid, "--yes"))
    assert "sessions ended: 2" in out
    assert http_api.get("/me", token=vol.token).status == 401
    assert http_api.get("/me", token=admin.token).status == 401
    assert http_api.get("/me", token=other.token).status == 200


def test_lock_unlock_and_reset_mfa(http_api, operator):
    admin = admin_with_mfa(http_api)
    _ok(operator.run("tools.incident", "lock", admin.email, "--yes"))
    assert http_api.get("/me", token=admin.token).status == 401
    assert http_api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).status == 401
    _ok(operator.run("tools.incident", "unlock", admin.email, "--yes"))
    sign_in(http_api, admin)  # with its TOTP still
    _ok(operator.run("tools.incident", "reset-mfa", admin.email, "--yes"))
    assert http_api.get("/me", token=admin.token).status == 401
    login = http_api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert login.status == 200 and login.body.get("mfa_required") is None
    assert http_api.get("/me", token=login.body["access_token"]).body["mfa_enabled"] is False
    # asked without --yes and answered no: nothing changes
    refused = operator.run("tools.incident", "lock", admin.email, stdin="n\n")
    assert refused.returncode == 1 and "nothing was changed" in refused.stderr
    assert http_api.get("/me", token=login.body["access_token"]).status == 200


def test_a_paused_integration_keeps_its_reports_until_resumed(http_api, operator, van):
    van.add_person(5001)
    admin = admin_with_mfa(http_api)
    cid = create_campaign(http_api, admin)
    assert (
        http_api.put(
            f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token
        ).status
        == 200
    )
    vol = volunteer(http_api)
    join(http_api, admin, cid, vol)
    rows = [{"external_id": "5001", "first_name": "Ann", "phone": "+12025550171"}]
    assert http_api.post(f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token)
    action = http_api.post(
        f"/campaigns/{cid}/actions",
        {"type": "call", "title": "Calls", "status": "live"},
        token=admin.token,
    ).body
    mapping = {"actions": {action["action_id"]: {"results": {"not_home": 4}, "contact_type_id": 1}}}
    path = f"/campaigns/{cid}/integrations/van/instructions"
    assert http_api.put(path, mapping, token=admin.token).status == 200
    _ok(operator.run("tools.incident", "disable-integration", cid, "van", "--yes"))
    http_api.put(
        "/me/contacts", {"contacts": [{"name": "Ann", "phones": ["2025550171"]}]}, token=vol.token
    )
    [contact] = http_api.get("/me/contacts", token=vol.token).body["items"]
    reply = http_api.post(
        f"/campaigns/{cid}/actions/{action['action_id']}/reports",
        {"contact_id": contact["contact_id"], "result": "not_home"},
        token=vol.token,
    )
    assert reply.status == 201
    deadline = time.monotonic() + 20
    records: list = []
    while time.monotonic() < deadline and not records:
        records = http_api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
        time.sleep(0.3)
    time.sleep(2)  # the stream's reader has had its chance
    [record] = http_api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
    assert record["state"] == "pending" and record["attempts"] == 0
    assert not [r for r in van.canvass_responses if r[0] == 5001]
    integration = http_api.get(f"/campaigns/{cid}/integrations", token=admin.token).body["items"][0]
    assert integration["paused"] is True
    _ok(operator.run("tools.incident", "enable-integration", cid, "van", "--yes"))
    assert (
        http_api.get(f"/campaigns/{cid}/integrations", token=admin.token).body["items"][0]["paused"]
        is False
    )


def test_export_audit_of_a_campaign(http_api, operator, tmp_path):
    admin = admin_with_mfa(http_api)
    cid = create_campaign(http_api, admin)
    http_api.post(
        f"/campaigns/{cid}/actions", {"type": "call", "title": "Calls"}, token=admin.token
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = [
            e["event"]
            for e in http_api.get(f"/campaigns/{cid}/audit", token=admin.token).body["items"]
        ]
        if "action.created" in events:
            break
        time.sleep(0.3)
    today = datetime.now(UTC).date()
    out = tmp_path / "audit.jsonl"
    printed = _ok(
        operator.run(
            "tools.incident",
            "export-audit",
            cid,
            "--from",
            str(today - timedelta(days=3)),
            "--to",
            str(today),
            "--out",
            str(out),
        )
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"campaign.created", "action.created"} <= {r["event"] for r in lines}
    assert {r["campaign_id"] for r in lines} == {cid}
    assert f"{len(lines)} records" in printed


def test_last_revoking_everyones_sessions(http_api, operator):
    people = [volunteer(http_api), admin_with_mfa(http_api)]
    out = _ok(operator.run("tools.incident", "revoke-sessions", "--all", "--yes"))
    assert int(out.strip().rsplit(" ", 1)[1]) >= 2
    for person in people:
        assert http_api.get("/me", token=person.token).status == 401
    records = [
        i
        for i in Operator.scan(operator, "AUDIT_TABLE")
        if i["pk"] == "OPERATOR" and i["event"].startswith("incident.")
    ]
    assert {r["event"] for r in records} >= {
        "incident.sessions_revoked",
        "incident.user_locked",
        "incident.user_unlocked",
        "incident.mfa_reset",
        "incident.integration_paused",
        "incident.integration_resumed",
    }
    assert {r["actor_id"] for r in records} == {"OPERATOR"}
