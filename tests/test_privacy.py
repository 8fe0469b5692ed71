"""The privacy promise, checked through the HTTP API and in the tables themselves.

A volunteer's synced contacts are theirs. Admins see how many a volunteer synced,
never who, unless the volunteer files a report on that person; then the campaign
sees that person's name and matched external id, and nothing else. Volunteers can
delete their contacts at any time, and then nothing of them is left but what
their reports disclosed.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer

UNREPORTED = [
    {"name": "Priya Hidden", "phones": ["(202) 555-0161"], "emails": ["priya.hidden@example.org"]},
    {"name": "Quinn Unseen", "phones": ["202 555 0162"], "emails": []},
]
REPORTED = {"name": "Rosa Reported", "phones": ["202-555-0163"], "emails": ["rosa@example.org"]}
SECRETS = [
    "Priya Hidden",
    "+12025550161",
    "2025550161",
    "priya.hidden@example.org",
    "Quinn Unseen",
    "+12025550162",
]
REPORTED_DETAILS = ["+12025550163", "2025550163", "rosa@example.org"]


def _world(api):
    admin = admin_with_mfa(api, "admin")
    cid = create_campaign(api, admin)
    other_admin = admin_with_mfa(api, "other")
    other_cid = create_campaign(api, other_admin)
    owner = volunteer(api, "owner")
    join(api, admin, cid, owner)
    peer = volunteer(api, "peer")
    join(api, admin, cid, peer)
    join(api, other_admin, other_cid, owner)
    api.put("/me/contacts", {"contacts": [*UNREPORTED, REPORTED]}, token=owner.token)
    contacts = api.get("/me/contacts", token=owner.token).body["items"]
    rosa = next(c for c in contacts if c["name"] == "Rosa Reported")
    list_reply = api.post(
        f"/campaigns/{cid}/lists",
        {
            "name": "Voters",
            "rows": [
                {"external_id": "VAN-1", "phone": "2025550163"},
                {"external_id": "VAN-2", "phone": "2025550161"},  # Priya is on the list too
            ],
        },
        token=admin.token,
    )
    aid = create_action(api, admin, cid)["action_id"]
    filed = api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": rosa["contact_id"], "result": "not_home"},
        token=owner.token,
    )
    assert filed.status == 201, filed
    return {
        "admin": admin,
        "other_admin": other_admin,
        "peer": peer,
        "owner": owner,
        "cid": cid,
        "other_cid": other_cid,
        "aid": aid,
        "lid": list_reply.body["list_id"],
        "contacts": contacts,
        "rosa": rosa,
    }


def _every_get_route(app, world, contact_id: str) -> list[str]:
    paths = []
    for path, methods in app.routes.items():
        if "GET" not in methods:
            continue
        paths.append(
            path.replace("{cid}", world["cid"])
            .replace("{aid}", world["aid"])
            .replace("{lid}", world["lid"])
            .replace("{uid}", world["owner"].user_id)
            .replace("{contact_id}", contact_id)
        )
    return paths


@pytest.mark.parametrize("who", ["admin", "other_admin", "peer"])
def test_no_one_else_reaches_a_volunteers_contacts_by_any_route(api, chalice_app, who):
    world = _world(api)
    token = world[who].token
    for contact in world["contacts"]:
        for path in _every_get_route(chalice_app, world, contact["contact_id"]):
            for suffix in ("", "?include_deleted=true", "?limit=200"):
                reply = api.get(path + suffix, token=token)
                text = json.dumps(reply.body)
                for secret in SECRETS + REPORTED_DETAILS:
                    assert secret not in text, (who, path, secret)
        # and no write route lets them touch one
        reply = api.delete(f"/me/contacts/{contact['contact_id']}", token=token)
        assert reply.status == 404
    assert len(api.get("/me/contacts", token=world["owner"].token).body["items"]) == 3


def test_admins_see_the_count_and_the_reported_contact_only(api):
    world = _world(api)
    admin, cid = world["admin"], world["cid"]
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    owner = next(m for m in members if m["user_id"] == world["owner"].user_id)
    assert owner["synced_contacts_count"] == 3
    assert set(owner) == {
        "user_id",
        "name",
        "email",
        "role",
        "synced_contacts_count",
        "reports_count",
        "joined_at",
    }
    (report,) = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert report["contact"] == {"name": "Rosa Reported", "external_id": "VAN-1", "provider": None}
    text = json.dumps(report)
    for detail in REPORTED_DETAILS + SECRETS:
        assert detail not in text
    # the other campaign the owner belongs to learns nothing from this report
    other = api.get(f"/campaigns/{world['other_cid']}/reports", token=world["other_admin"].token)
    assert other.body["items"] == []


def test_after_deleting_contacts_only_report_snapshots_remain(api, stack):
    world = _world(api)
    owner = world["owner"]
    assert api.delete("/me/contacts", token=owner.token).status == 204
    assert api.get("/me/contacts", token=owner.token).body["items"] == []

    dumped = []
    for table_name in (stack["MAIN_TABLE"], stack["SESSIONS_TABLE"], stack["OPS_TABLE"]):
        table = boto3.resource("dynamodb").Table(table_name)
        response = table.scan()
        items = response["Items"]
        while "LastEvaluatedKey" in response:
            response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
            items += response["Items"]
        assert not [i for i in items if str(i.get("sk", "")).startswith("CONTACT#")]
        # the campaign's own voter list carries these phones too: that is the campaign's data
        dumped.append(
            json.dumps([i for i in items if not i["pk"].startswith("LIST#")], default=str)
        )
    everything = "\n".join(dumped)
    for secret in SECRETS + REPORTED_DETAILS:
        assert secret not in everything, secret
    # what the report disclosed stays: the name and the external id
    assert "Rosa Reported" in everything
    (report,) = api.get(f"/campaigns/{world['cid']}/reports", token=world["admin"].token).body[
        "items"
    ]
    assert report["contact"] == {"name": "Rosa Reported", "external_id": "VAN-1", "provider": None}
    members = api.get(f"/campaigns/{world['cid']}/members", token=world["admin"].token).body[
        "items"
    ]
    assert next(m for m in members if m["user_id"] == owner.user_id)["synced_contacts_count"] == 0
