"""tools.incident: each command on the emulator, as an operator runs it in an incident."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from tests.helpers import (
    PASSWORD,
    admin_with_mfa,
    create_campaign,
    join,
    sign_in,
    volunteer,
)


def _incident(*args: str) -> int:
    from tools import incident

    return incident.main([*args, "--yes"] if args[0] != "export-audit" else list(args))


def _operator_events(stack) -> list[dict]:
    table = boto3.resource("dynamodb").Table(stack["AUDIT_TABLE"])
    return table.query(KeyConditionExpression=boto3.dynamodb.conditions.Key("pk").eq("OPERATOR"))[
        "Items"
    ]


def test_revoke_sessions_of_a_user_a_campaign_and_everyone(api, stack):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol, other = volunteer(api), volunteer(api, "outsider")
    join(api, admin, cid, vol)

    assert _incident("revoke-sessions", "--user", vol.email) == 0
    assert api.get("/me", token=vol.token).status == 401
    assert api.get("/me", token=admin.token).status == 200
    sign_in(api, vol)

    assert _incident("revoke-sessions", "--campaign", cid) == 0
    assert api.get("/me", token=vol.token).status == 401
    assert api.get("/me", token=admin.token).status == 401
    assert api.get("/me", token=other.token).status == 200
    refreshed = api.post("/auth/refresh", {"refresh_token": vol.refresh_token})
    assert refreshed.status == 401

    sign_in(api, vol)
    assert _incident("revoke-sessions", "--all") == 0
    for person in (vol, other):
        assert api.get("/me", token=person.token).status == 401
    events = [e for e in _operator_events(stack) if e["event"] == "incident.sessions_revoked"]
    assert sorted(json.loads(e["values"])["scope"] for e in events) == ["all", "campaign", "user"]
    assert {e["actor_id"] for e in events} == {"OPERATOR"}


def test_lock_ends_sessions_and_refuses_sign_in_until_unlocked(api, stack):
    vol = volunteer(api)
    assert _incident("lock", vol.email) == 0
    assert api.get("/me", token=vol.token).status == 401
    assert api.post("/auth/login", {"email": vol.email, "password": PASSWORD}).status == 401
    assert _incident("unlock", vol.email) == 0
    assert api.post("/auth/login", {"email": vol.email, "password": PASSWORD}).status == 200
    events = {e["event"] for e in _operator_events(stack)}
    assert {"incident.user_locked", "incident.user_unlocked"} <= events


def test_reset_mfa_removes_the_second_factor_and_signs_out(api, stack):
    admin = admin_with_mfa(api)
    assert _incident("reset-mfa", admin.email) == 0
    assert api.get("/me", token=admin.token).status == 401
    login = api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert login.status == 200 and "access_token" in login.body  # no second step asked
    me = api.get("/me", token=login.body["access_token"]).body
    assert me["mfa_enabled"] is False
    # and they may enrol again
    assert api.post("/me/mfa/totp", token=login.body["access_token"]).status == 201


def test_disable_integration_pauses_sync_and_nothing_is_lost(
    api, stack, stream, fakes, monkeypatch
):
    from chalicelib.logic import sync

    van = fakes["van"]
    van.add_person(401)
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    assert (
        api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token).status
        == 200
    )
    rows = [{"external_id": "401", "first_name": "Ann"}]
    list_id = api.post(
        f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token
    ).body["list_id"]
    action = api.post(
        f"/campaigns/{cid}/actions",
        {"type": "canvass", "title": "Doors", "status": "live"},
        token=admin.token,
    ).body
    mapping = {"actions": {action["action_id"]: {"results": {"not_home": 4}, "contact_type_id": 2}}}
    assert (
        api.put(
            f"/campaigns/{cid}/integrations/van/instructions", mapping, token=admin.token
        ).status
        == 200
    )

    assert _incident("disable-integration", cid, "van") == 0
    assert (
        api.get(f"/campaigns/{cid}/integrations", token=admin.token).body["items"][0]["paused"]
        is True
    )
    from tests.helpers import list_row

    reply = api.post(
        f"/campaigns/{cid}/actions/{action['action_id']}/reports",
        {"list_row_id": list_row(list_id), "result": "not_home"},
        token=admin.token,
    )
    assert reply.status == 201
    stream.deliver("crm_sync_consumer")
    sync.run_due()
    [record] = api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
    assert record["state"] == "pending" and record["attempts"] == 0
    assert van.canvass_responses == []

    assert _incident("enable-integration", cid, "van") == 0
    sync.run_due()
    [record] = api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
    assert record["state"] == "synced"
    assert len(van.canvass_responses) == 1
    events = [e["event"] for e in _operator_events(stack)]
    assert "incident.integration_paused" in events and "incident.integration_resumed" in events


def test_commands_fail_with_one_readable_line(api, capsys):
    assert _incident("lock", "nobody@example.org") == 1
    assert (
        capsys.readouterr().err.strip() == "stopped: no account has the e-mail nobody@example.org"
    )
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    assert _incident("disable-integration", cid, "pdi") == 1
    assert "not configured" in capsys.readouterr().err
    assert _incident("revoke-sessions", "--campaign", "nosuchcampaign") == 1
    assert "no campaign" in capsys.readouterr().err


def test_a_no_changes_nothing(api, monkeypatch, capsys):
    from tools import incident

    vol = volunteer(api)
    monkeypatch.setattr("builtins.input", lambda _prompt: "")
    assert incident.main(["lock", vol.email]) == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert api.get("/me", token=vol.token).status == 200


def _old_record(day: date, campaign_id: str, event: str):
    from chalicelib.audit.store import AuditRecord

    return AuditRecord(
        event_id=uuid.uuid4().hex,
        at=f"{day.isoformat()}T12:00:00.000Z",
        actor_id="u1",
        event=event,
        target="action:a1",
        campaign_id=campaign_id,
        fields=["title"],
    )


def test_export_audit_joins_the_verified_archive_and_the_table(stack, tmp_path, capsys):
    from chalicelib import aws
    from chalicelib.audit import archive, store

    today = datetime.now(UTC).date()
    old = [today - timedelta(days=d) for d in (5, 4)]
    store.write([_old_record(d, "c1", "action.updated") for d in old])
    store.write([_old_record(old[0], "c2", "action.updated")])  # another campaign's
    archive.archive_pending(today)
    store.write([_old_record(today, "c1", "action.created")])  # still only in the table

    out = tmp_path / "c1.jsonl"
    first = (today - timedelta(days=6)).isoformat()
    assert (
        _incident(
            "export-audit", "c1", "--from", first, "--to", today.isoformat(), "--out", str(out)
        )
        == 0
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["event"] for r in lines] == ["action.updated", "action.updated", "action.created"]
    assert {r["campaign_id"] for r in lines} == {"c1"}
    assert "archive verified" in capsys.readouterr().out

    # an archived object changed: nothing is written, and the problem is named
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=stack["LOG_BUCKET"], Prefix=archive.day_prefix(old[0]))
    part = next(o["Key"] for o in listed["Contents"] if o["Key"].endswith(".jsonl.gz"))
    s3.put_object(Bucket=stack["LOG_BUCKET"], Key=part, Body=b"tampered")
    again = tmp_path / "again.jsonl"
    assert (
        _incident(
            "export-audit", "c1", "--from", first, "--to", today.isoformat(), "--out", str(again)
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "changed-object" in err and "nothing was written" in err
    assert not again.exists()


def test_export_audit_refuses_a_backwards_window(capsys):
    with pytest.raises(SystemExit):
        _incident("export-audit", "c1", "--from", "2026-12-02", "--to", "2026-12-01", "--out", "x")
