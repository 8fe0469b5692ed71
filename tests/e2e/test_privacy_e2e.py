"""The privacy promise over HTTP against the local stack, with operators' commands run as
a person at a terminal runs them: staff grants, a campaign's deletion, crypto-shredding."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime

from tests.helpers import admin_with_mfa, create_campaign, join, volunteer


def _wait(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_staff_read_only_under_a_live_grant_and_admins_see_it(http_api, operator):
    api = http_api
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin, "Grant Test")
    staff = admin_with_mfa(api, "staff")
    flagged = operator.run(
        "tools.staff", "grant", staff.email, "--trained", f"{datetime.now(UTC):%Y-%m-%d}", "--yes"
    )
    assert flagged.returncode == 0, flagged.stderr
    assert api.get(f"/campaigns/{cid}/members", token=staff.token).status == 404  # no grant

    issued = operator.run(
        "tools.staff", "grant-access", staff.email, "--campaign", cid,
        "--reason", "ticket 881: sync errors", "--hours", "2", "--yes",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert api.get(f"/campaigns/{cid}/members", token=staff.token).status == 200
    assert api.get(f"/campaigns/{cid}/reports", token=staff.token).status == 200
    [grant] = api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"]
    assert grant["staff_user_id"] == staff.user_id and grant["accesses"] == 2
    assert grant["reason"] == "ticket 881: sync errors" and grant["live"] is True
    audit = api.get(f"/campaigns/{cid}/audit", token=admin.token).body["items"]
    reads = [e for e in audit if e["event"] == "staff.access"]
    assert len(reads) == 2 and {e["values"]["grant_id"] for e in reads} == {grant["grant_id"]}

    # ended by an admin: 404 again at once
    ended = api.delete(f"/campaigns/{cid}/staff-access/{grant['grant_id']}", token=admin.token)
    assert ended.status == 204
    assert api.get(f"/campaigns/{cid}/members", token=staff.token).status == 404

    # a second grant, revoked by the operator
    again = operator.run(
        "tools.staff", "grant-access", staff.email, "--campaign", cid,
        "--reason", "ticket 882", "--hours", "1", "--yes",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert api.get(f"/campaigns/{cid}", token=staff.token).status == 200
    revoked = operator.run("tools.staff", "revoke-access", staff.email, "--campaign", cid, "--yes")
    assert revoked.returncode == 0, revoked.stderr
    assert api.get(f"/campaigns/{cid}", token=staff.token).status == 404

    # a third, left to expire: its end is moved to the past, as time would
    operator.run(
        "tools.staff", "grant-access", staff.email, "--campaign", cid,
        "--reason", "ticket 883", "--hours", "1", "--yes",
    )  # fmt: skip
    assert api.get(f"/campaigns/{cid}", token=staff.token).status == 200
    live = [g for g in _grants(api, admin, cid) if g["live"]]
    operator.client("dynamodb").update_item(
        TableName=operator.env["MAIN_TABLE"],
        Key={"pk": {"S": f"CAMPAIGN#{cid}"}, "sk": {"S": f"GRANT#{live[0]['grant_id']}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2026-01-01T00:00:00.000Z"}},
    )
    assert api.get(f"/campaigns/{cid}", token=staff.token).status == 404
    assert [g["live"] for g in _grants(api, admin, cid)] == [False, False, False]
    # staff never write, and cannot see who else may read
    assert api.get(f"/campaigns/{cid}/staff-access", token=staff.token).status == 404


def _grants(api, admin, cid):
    return api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"]


def _campaign_items(operator, cid: str, list_ids: list[str]) -> dict[str, list[dict]]:
    """Every item of every table that belongs to the campaign, but its deletion's receipt
    and the operators' own trail."""
    found: dict[str, list[dict]] = {}
    tables = operator.client("dynamodb").list_tables()["TableNames"]
    names = {operator.env[k]: k for k in operator.env if k.endswith("_TABLE")}
    for table in tables:
        setting = names.get(table)
        if setting is None:
            continue
        items = []
        for item in operator.scan(setting):
            text = json.dumps(item, default=str)
            if item.get("pk") == f"DELETION#{cid}" and item.get("sk") == "STATE":
                continue
            if item.get("pk") == "OPERATOR":
                continue
            if cid in text or any(lid in text for lid in list_ids):
                items.append(item)
        found[setting] = items
    return found


def test_a_deletion_cancelled_then_run_leaves_nothing_and_a_receipt_that_adds_up(
    http_api, operator
):
    api = http_api
    admin = admin_with_mfa(api)
    name = "Erase Me Campaign"
    cid = create_campaign(api, admin, name)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    action = api.post(
        f"/campaigns/{cid}/actions",
        {"type": "canvass", "title": "Doors", "status": "live"},
        token=admin.token,
    ).body
    rows = [
        {"external_id": f"V{n}", "first_name": f"Voter{n}", "phone": f"+1202555{n:04d}"}
        for n in range(1, 41)
    ]
    made = api.post(f"/campaigns/{cid}/lists", {"name": "Ward", "rows": rows}, token=admin.token)
    assert made.status == 201, made
    list_id = made.body["list_id"]
    friends = [{"name": f"Friend {n}", "phones": [f"202555{n:04d}"]} for n in (1, 2, 3)]
    assert api.put("/me/contacts", {"contacts": friends}, token=vol.token).status == 200
    for contact in api.get("/me/contacts", token=vol.token).body["items"]:
        reply = api.post(
            f"/campaigns/{cid}/actions/{action['action_id']}/reports",
            {"contact_id": contact["contact_id"], "result": "canvassed"},
            token=vol.token,
        )
        assert reply.status == 201, reply

    path = f"/campaigns/{cid}/deletion"
    assert api.post(path, {"confirm_name": name}, token=admin.token).status == 202
    assert api.delete(path, token=admin.token).status == 204
    assert api.get(path, token=admin.token).body["state"] == "cancelled"
    assert api.get(f"/campaigns/{cid}/actions", token=vol.token).status == 200
    assert api.post(path, {"confirm_name": name}, token=admin.token).status == 202

    # let the stream's readers settle, then count what the campaign holds
    def settled():
        first = _campaign_items(operator, cid, [list_id])
        time.sleep(1.5)
        second = _campaign_items(operator, cid, [list_id])
        return second if first == second else None

    before = _wait(settled, 60)
    assert before, "the audit trail did not settle"
    kinds = Counter(i.get("entity") for i in before["MAIN_TABLE"])
    assert kinds["list_row"] == 40 and kinds["list_key"] == 40 and kinds["report"] == 3

    run = operator.run(
        "tools.deletion", "run", "--now", cid, "--reference", "signed letter 12", "--yes"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    after = _campaign_items(operator, cid, [list_id])
    assert all(items == [] for items in after.values()), after
    time.sleep(2)  # what the stream carries afterwards (every removal) leaves nothing either
    assert all(items == [] for items in _campaign_items(operator, cid, [list_id]).values())
    # nor anything of its data in the bucket (logs name ids, never names or phones)
    s3 = operator.client("s3")
    bucket = operator.env["LOG_BUCKET"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            assert name.encode() not in body and b"Voter1" not in body, entry["Key"]

    receipt = operator.run("tools.deletion", "receipt", cid)
    assert receipt.returncode == 0, receipt.stderr
    counts = json.loads(receipt.stdout)["counts"]
    assert sum(counts.values()) == sum(len(items) for items in before.values())
    assert counts["list_row"] == 40 and counts["list_match_key"] == 40 and counts["report"] == 3
    assert counts["audit_record"] == len(before["AUDIT_TABLE"])
    assert api.get(f"/campaigns/{cid}", token=admin.token).status == 404
    assert api.get(f"/campaigns/{cid}/actions", token=vol.token).status == 404
    # the volunteer's own contacts are theirs: they stay
    assert len(api.get("/me/contacts", token=vol.token).body["items"]) == 3


def test_shredded_contacts_are_unreadable_in_a_restored_copy(http_api, operator):
    api = http_api
    vol = volunteer(api)
    body = {"contacts": [{"name": "Ann Secret", "phones": ["2025550191"]}]}
    assert api.put("/me/contacts", body, token=vol.token).status == 200
    backup = [
        item
        for item in operator.client("dynamodb").scan(
            TableName=operator.env["MAIN_TABLE"], ConsistentRead=True
        )["Items"]
        if item["pk"]["S"] == f"USER#{vol.user_id}" and item["sk"]["S"].startswith("CONTACT#")
    ]
    assert len(backup) == 1 and "Ann Secret" not in json.dumps(backup)
    assert api.delete("/me/contacts", token=vol.token).status == 204
    for item in backup:  # the backup restored, item for item
        operator.client("dynamodb").put_item(TableName=operator.env["MAIN_TABLE"], Item=item)
    assert api.get("/me/contacts", token=vol.token).body["items"] == []
    fresh = {"contacts": [{"name": "Bob New", "phones": ["2025550192"]}]}
    assert api.put("/me/contacts", fresh, token=vol.token).status == 200
    names = [c["name"] for c in api.get("/me/contacts", token=vol.token).body["items"]]
    assert names == ["Bob New"]
