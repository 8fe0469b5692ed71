"""Deleting a campaign's data on its request: scheduled after the grace period, cancellable,
every admin e-mailed; erased in resumable parts with nothing left in any table; a receipt
whose counts are what was there. Nothing else erases campaign data."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.helpers import admin_with_mfa, create_campaign, join, list_row, volunteer

SURVEY = {
    "type": "survey",
    "title": "Ask about the park",
    "status": "live",
    "questions": [{"text": "Support?", "responses": [{"text": "Yes"}, {"text": "No"}]}],
}


def _scan(table_name: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(table_name)
    out = table.scan(ConsistentRead=True)
    items = out["Items"]
    while out.get("LastEvaluatedKey"):
        out = table.scan(ConsistentRead=True, ExclusiveStartKey=out["LastEvaluatedKey"])
        items += out["Items"]
    return items


def campaign_items(stack: dict[str, str], cid: str, list_ids: list[str]) -> dict[str, list]:
    """Every item, in every table, that belongs to the campaign (the walk an auditor does)."""
    rows_of = {f"LIST#{lid}" for lid in list_ids}
    main = []
    for item in _scan(stack["MAIN_TABLE"]):
        if item["pk"] == f"DELETION#{cid}" and item["sk"] == "STATE":
            continue  # the receipt
        mine = (
            item["pk"] in (f"CAMPAIGN#{cid}", f"DELETION#{cid}")
            or item["pk"].startswith(f"LKEY#{cid}#")
            or item["pk"] in rows_of
            or item.get("campaign_id") == cid
            or cid in json.dumps(item, default=str)
        )
        if mine:
            main.append(item)
    audit = [
        i
        for i in _scan(stack["AUDIT_TABLE"])
        if i["pk"] == f"CAMPAIGN#{cid}" and not i.get("operator")
    ]
    ops = [i for i in _scan(stack["OPS_TABLE"]) if cid in json.dumps(i, default=str)]
    sessions = [i for i in _scan(stack["SESSIONS_TABLE"]) if cid in json.dumps(i, default=str)]
    return {"main": main, "audit": audit, "ops": ops, "sessions": sessions}


def _hourly(chalice_client: Any, until_done: str | None = None) -> int:
    """The hourly schedule, as EventBridge invokes it; with `until_done` (a campaign id),
    run by run until that campaign's erasure is done (the test client gives each run
    3 seconds, so a run may stop part-way and the next resume it). How many runs."""
    from chalicelib.dal import deletion as deletion_dal

    event = chalice_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    for runs in range(1, 30):
        chalice_client.lambda_.invoke("campaign_erasure", event)
        found = deletion_dal.get(until_done) if until_done else None
        if found is None or found.state == "done":
            return runs
    raise AssertionError("the erasure did not finish in 30 runs")


class Campaign:
    """A campaign with some of everything: members (one removed), a staff grant, join
    codes, actions (one deleted), two lists with match keys, contacts reported on,
    reports, a VAN integration with its sync records and cached catalog, kept answers."""

    def __init__(self, api: Any, stream: Any, fakes: Any) -> None:
        from chalicelib.dal import users
        from chalicelib.logic.staff import issue_grant

        self.api = api
        self.admin = admin_with_mfa(api)
        self.cid = create_campaign(api, self.admin, "Riverside Together")
        self.second_admin = admin_with_mfa(api, "second")
        join(api, self.admin, self.cid, self.second_admin)
        api.patch(
            f"/campaigns/{self.cid}/members/{self.second_admin.user_id}",
            {"role": "admin"},
            token=self.admin.token,
        )
        self.vol = volunteer(api)
        join(api, self.admin, self.cid, self.vol)
        gone = volunteer(api, "gone")
        join(api, self.admin, self.cid, gone)
        api.delete(f"/campaigns/{self.cid}/members/{gone.user_id}", token=self.admin.token)
        staff = admin_with_mfa(api, "staff")
        users.set_staff(staff.user_id, datetime.now(UTC).isoformat(), "op")
        issue_grant(self.cid, staff.user_id, reason="ticket 9", hours=2, operator="OPERATOR")
        assert api.get(f"/campaigns/{self.cid}/members", token=staff.token).status == 200
        self.staff = staff

        assert (
            api.put(
                f"/campaigns/{self.cid}/integrations/van",
                fakes["van"].credentials,
                token=self.admin.token,
            ).status
            == 200
        )
        assert (
            api.get(
                f"/campaigns/{self.cid}/integrations/van/catalog", token=self.admin.token
            ).status
            == 200
        )
        action = api.post(
            f"/campaigns/{self.cid}/actions",
            SURVEY,
            token=self.admin.token,
            headers={"Idempotency-Key": "create-survey-1"},
        ).body
        self.aid = action["action_id"]
        dropped = api.post(
            f"/campaigns/{self.cid}/actions", {**SURVEY, "title": "Old"}, token=self.admin.token
        ).body
        api.delete(f"/campaigns/{self.cid}/actions/{dropped['action_id']}", token=self.admin.token)
        rows = [
            {
                "external_id": f"V{n}",
                "first_name": f"P{n}",
                "phone": f"+1202555{n:04d}",
                "email": f"p{n}@example.org",
            }
            for n in range(1, 31)
        ]
        self.list_ids = [
            api.post(
                f"/campaigns/{self.cid}/lists",
                {"name": name, "rows": rows[:count]},
                token=self.admin.token,
            ).body["list_id"]
            for name, count in (("Ward 1", 30), ("Ward 2", 12))
        ]
        api.put(
            "/me/contacts",
            {"contacts": [{"name": "Pat One", "phones": ["202-555-0001"]}]},
            token=self.vol.token,
        )
        [contact] = api.get("/me/contacts", token=self.vol.token).body["items"]
        for body in (
            {"contact_id": contact["contact_id"], "result": "canvassed"},
            {"list_row_id": list_row(self.list_ids[0], 3), "result": "not_home"},
        ):
            token = self.admin.token if "list_row_id" in body else self.vol.token
            reply = api.post(f"/campaigns/{self.cid}/actions/{self.aid}/reports", body, token=token)
            assert reply.status == 201, reply
        for code in range(2):
            api.post(
                f"/campaigns/{self.cid}/join-codes", {"max_uses": 5 + code}, token=self.admin.token
            )
        stream.deliver("crm_sync_consumer")
        stream.deliver("audit_consumer")

    def path(self, rest: str = "") -> str:
        return f"/campaigns/{self.cid}/deletion{rest}"


@pytest.fixture
def world(api, stream, fakes):
    return Campaign(api, stream, fakes)


def test_a_deletion_is_scheduled_after_the_grace_period_and_every_admin_is_told(api, world, outbox):
    wrong = api.post(world.path(), {"confirm_name": "Riverside"}, token=world.admin.token)
    assert (wrong.status, wrong.body["Field"]) == (400, "confirm_name")
    missing = api.post(world.path(), {}, token=world.admin.token)
    assert (missing.status, missing.body["Field"]) == (400, "confirm_name")
    assert api.get(world.path(), token=world.admin.token).body == {"state": "none"}

    before = datetime.now(UTC)
    reply = api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    assert reply.status == 202, reply
    assert reply.body["state"] == "scheduled"
    assert reply.body["requested_by"] == world.admin.user_id
    due = datetime.fromisoformat(reply.body["scheduled_for"].replace("Z", "+00:00"))
    assert timedelta(days=7) <= due - before < timedelta(days=7, minutes=1)
    assert api.get(world.path(), token=world.second_admin.token).body == reply.body
    again = api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    assert again.status == 409

    told = sorted(m["to"] for m in outbox() if m["kind"] == "deletion_scheduled")
    assert told == sorted([world.admin.email, world.second_admin.email])
    # volunteers and staff cannot ask, nor cancel
    assert (
        api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.vol.token).status
        == 403
    )
    assert api.delete(world.path(), token=world.staff.token).status == 403


def test_any_admin_cancels_until_it_is_due_and_nothing_is_erased(api, world, outbox, stack):
    from chalicelib.logic import deletion

    api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    assert api.delete(world.path(), token=world.second_admin.token).status == 204
    state = api.get(world.path(), token=world.admin.token).body
    assert state["state"] == "cancelled"
    assert state["cancelled_by"] == world.second_admin.user_id
    assert api.delete(world.path(), token=world.admin.token).status == 404
    assert [m["kind"] for m in outbox() if m["kind"].startswith("deletion_")].count(
        "deletion_cancelled"
    ) == 2
    assert deletion.run_due() == []
    assert api.get(f"/campaigns/{world.cid}/actions", token=world.vol.token).status == 200
    # it may be asked for again
    again = api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    assert again.status == 202


def test_a_day_before_admins_are_reminded_once(api, world, outbox, chalice_client):
    from tools import deletion as tool

    assert tool.main(["grace", world.cid, "--days", "1", "--yes"]) == 0
    api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    _hourly(chalice_client)
    _hourly(chalice_client)
    reminders = [m["to"] for m in outbox() if m["kind"] == "deletion_reminder"]
    assert sorted(reminders) == sorted([world.admin.email, world.second_admin.email])
    assert api.get(world.path(), token=world.admin.token).body["state"] == "scheduled"


def test_a_due_deletion_erases_everything_and_keeps_an_exact_receipt(
    api, world, stack, stream, outbox, chalice_client, capsys, monkeypatch
):
    from tools import deletion as tool

    before = campaign_items(stack, world.cid, world.list_ids)
    kinds = Counter(i.get("entity") for i in before["main"])
    assert kinds["list_row"] == 42 and kinds["list_key"] == 84  # a phone and an e-mail each
    assert kinds["report"] == 2 and kinds["sync"] >= 1 and kinds["staff_grant"] == 1
    assert kinds["removed_member"] == 1 and kinds["join_code"] == 5  # 3 joins, 2 spare
    assert before["audit"] and len(before["ops"]) >= 2  # the catalog and a kept answer
    assert before["sessions"] == []

    assert tool.main(["grace", world.cid, "--days", "0", "--yes"]) == 0
    api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    stream.deliver("audit_consumer")
    before = campaign_items(stack, world.cid, world.list_ids)
    _hourly(chalice_client, until_done=world.cid)

    after = campaign_items(stack, world.cid, world.list_ids)
    assert after == {"main": [], "audit": [], "ops": [], "sessions": []}
    # what the stream then carries (every removal) leaves nothing behind either
    stream.deliver("crm_sync_consumer")
    stream.deliver("audit_consumer")
    assert campaign_items(stack, world.cid, world.list_ids) == after

    capsys.readouterr()
    assert tool.main(["receipt", world.cid]) == 0
    receipt = json.loads(capsys.readouterr().out)
    expected = Counter(i.get("entity") for i in before["main"])
    expected["audit_record"] = len(before["audit"])
    expected["ops_entry"] = len(before["ops"])
    expected["list_match_key"] = expected.pop("list_key")
    assert receipt["counts"] == dict(expected)
    assert receipt["requested_by"] == world.admin.user_id
    assert len(receipt["digest"]) == 64 and receipt["erased_at"]
    assert "Riverside" not in json.dumps(receipt)

    # a change made just before the erasure, reaching the audit table after its audit part:
    # the next hourly run an hour later sweeps it, and the receipt counts it
    import uuid

    from chalicelib.audit.store import AuditRecord, write
    from chalicelib.logic import deletion

    late = AuditRecord(
        uuid.uuid4().hex, receipt["erased_at"], "u1", "action.updated", "a:1", world.cid
    )
    write([late])
    assert deletion.run_due() == []  # not yet an hour
    assert len(campaign_items(stack, world.cid, world.list_ids)["audit"]) == 1
    monkeypatch.setattr(deletion, "SWEEP_AFTER", timedelta(0))
    deletion.run_due()
    assert campaign_items(stack, world.cid, world.list_ids)["audit"] == []
    assert tool.main(["receipt", world.cid]) == 0
    swept = json.loads(capsys.readouterr().out)
    assert swept["counts"]["audit_record"] == receipt["counts"]["audit_record"] + 1
    deletion.run_due()  # once only

    for person in (world.admin, world.vol, world.staff):
        assert api.get(f"/campaigns/{world.cid}", token=person.token).status == 404
    assert api.get("/me", token=world.vol.token).body["memberships"] == []
    done = sorted(m["to"] for m in outbox() if m["kind"] == "deletion_done")
    assert done == sorted([world.admin.email, world.second_admin.email])
    # the volunteer's own contacts are theirs, not the campaign's: they stay
    assert len(api.get("/me/contacts", token=world.vol.token).body["items"]) == 1


def test_an_erasure_cut_short_resumes_and_counts_every_item_once(api, world, stack, monkeypatch):
    from chalicelib.dal import deletion as deletion_dal
    from chalicelib.logic import deletion

    before = campaign_items(stack, world.cid, world.list_ids)
    total = sum(len(v) for v in before.values())
    api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    real = deletion_dal.delete_keys
    calls = []

    def crash_after_deleting(table, keys):
        calls.append(len(keys))
        real(table, keys)
        if len(calls) == 3:
            raise RuntimeError("the Lambda was stopped")

    monkeypatch.setattr(deletion_dal, "delete_keys", crash_after_deleting)
    monkeypatch.setattr(deletion, "WORKERS", 1)
    with pytest.raises(RuntimeError):
        deletion.erase_now(world.cid, operator="OPERATOR", reference="letter 7")
    assert api.get(world.path(), token=world.admin.token).status in (200, 404)
    # a second run while the first one's lease is live does nothing
    assert deletion.erase(world.cid, early="OPERATOR: letter 7").done is False
    monkeypatch.setattr(deletion_dal, "delete_keys", real)
    monkeypatch.setattr(deletion_dal, "LEASE", timedelta(0))
    deletion_dal.renew(world.cid, _runner(world.cid))  # the lease lapses at once
    outcome = deletion.erase(world.cid, early="OPERATOR: letter 7")
    assert outcome.done and outcome.receipt is not None
    assert sum(outcome.receipt.counts.values()) == total
    assert campaign_items(stack, world.cid, world.list_ids) == {
        "main": [],
        "audit": [],
        "ops": [],
        "sessions": [],
    }


def _runner(cid: str) -> str:
    from chalicelib.dal.models import DeletionModel

    return str(DeletionModel.get(f"DELETION#{cid}", "STATE", consistent_read=True).runner)


def test_run_now_asks_for_the_name_and_is_an_operator_record(
    api, world, stack, monkeypatch, capsys
):
    from tools import deletion as tool

    answers = iter(["Riverside"])
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    assert tool.main(["run", "--now", world.cid, "--reference", "letter 7"]) == 1
    assert "did not match" in capsys.readouterr().err
    assert api.get(f"/campaigns/{world.cid}", token=world.admin.token).status == 200

    answers = iter(["Riverside Together"])
    assert tool.main(["run", "--now", world.cid, "--reference", "letter 7"]) == 0
    out = capsys.readouterr().out
    assert "erased" in out and "list_row: 42" in out
    assert api.get(f"/campaigns/{world.cid}", token=world.admin.token).status == 404
    records = (
        boto3.resource("dynamodb")
        .Table(stack["AUDIT_TABLE"])
        .query(KeyConditionExpression=boto3.dynamodb.conditions.Key("pk").eq("OPERATOR"))["Items"]
    )
    mine = {r["event"]: r for r in records if r.get("campaign_id") == world.cid}
    assert json.loads(mine["campaign.erasure_run_early"]["values"]) == {"reference": "letter 7"}
    assert mine["campaign.erased"]["actor_id"] == "OPERATOR"
    assert tool.main(["list"]) == 0
    assert world.cid not in capsys.readouterr().out
    assert tool.main(["run", "--now", world.cid, "--reference", "again", "--yes"]) == 1
    assert "no campaign" in capsys.readouterr().err


def test_deletion_tool_refuses_what_it_cannot_do(api, capsys):
    from tools import deletion as tool

    assert tool.main(["receipt", "nosuchcampaign"]) == 1
    assert "no receipt" in capsys.readouterr().err
    assert tool.main(["grace", "nosuchcampaign", "--days", "3", "--yes"]) == 1
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    assert tool.main(["grace", cid, "--days", "400", "--yes"]) == 1
    assert "days" in capsys.readouterr().err
    assert tool.main(["run", "--now", cid, "--reference", " ", "--yes"]) == 1
    assert "reference" in capsys.readouterr().err


def test_a_run_out_of_time_lets_the_next_resume_at_once(api, world):
    """A run stopped by its deadline gives its lease back: the next run (the next hour, or
    at once) goes on from where it stopped instead of waiting for the lease to lapse."""
    import time

    from chalicelib.dal import deletion as deletion_dal
    from chalicelib.logic import deletion
    from tools import deletion as tool

    assert tool.main(["grace", world.cid, "--days", "0", "--yes"]) == 0
    api.post(world.path(), {"confirm_name": "Riverside Together"}, token=world.admin.token)
    stopped = deletion.erase(world.cid, deadline=time.monotonic())
    assert not stopped.done and deletion_dal.get(world.cid).state == "erasing"
    finished = deletion.erase(world.cid, deadline=time.monotonic() + 60)
    assert finished.done and deletion_dal.get(world.cid).state == "done"
