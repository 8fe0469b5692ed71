"""Campaigns, join codes and members, through the API."""

from __future__ import annotations

import boto3
import pytest

from tests.helpers import admin_with_mfa, create_campaign, join, volunteer


def test_create_campaign_makes_the_caller_its_admin(api):
    admin = admin_with_mfa(api)
    reply = api.post("/campaigns", {"name": "  Springfield for Change  "}, token=admin.token)
    assert reply.status == 201
    assert reply.body["name"] == "Springfield for Change"
    cid = reply.body["campaign_id"]
    me = api.get("/me", token=admin.token).body
    assert me["memberships"] == [
        {"campaign_id": cid, "campaign_name": "Springfield for Change", "role": "admin"}
    ]
    got = api.get(f"/campaigns/{cid}", token=admin.token).body
    assert got["role"] == "admin"
    assert got["settings"] == {}


def test_create_campaign_needs_mfa(api):
    vol = volunteer(api)
    reply = api.post("/campaigns", {"name": "X"}, token=vol.token)
    assert reply.status == 403
    assert "MFA" in reply.body["Message"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-name"),
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"name": 3}, id="name-not-text"),
        pytest.param({"name": "x" * 201}, id="name-too-long"),
    ],
)
def test_campaign_input_is_validated(api, body):
    admin = admin_with_mfa(api)
    reply = api.post("/campaigns", body, token=admin.token)
    assert reply.status == 400, body
    assert reply.body["Message"].startswith("name")


def test_campaign_settings_must_be_an_object(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    reply = api.patch(f"/campaigns/{cid}", {"settings": "not an object"}, token=admin.token)
    assert reply.status == 400
    assert reply.body["Message"].startswith("settings")


def test_patch_campaign(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin, "Old")
    reply = api.patch(
        f"/campaigns/{cid}",
        {"name": "New", "settings": {"tz": "America/Chicago"}},
        token=admin.token,
    )
    assert reply.status == 200
    assert reply.body["name"] == "New"
    assert reply.body["settings"] == {"tz": "America/Chicago"}
    vol = volunteer(api)
    join(api, admin, cid, vol)
    seen = api.get(f"/campaigns/{cid}", token=vol.token).body
    assert seen == {"campaign_id": cid, "name": "New", "role": "volunteer"}  # no settings


def test_join_codes(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    code = api.post(f"/campaigns/{cid}/join-codes", token=admin.token)
    assert code.status == 201
    assert code.body["expires_at"] > "2026"
    vol = volunteer(api)
    reply = api.post("/campaigns/join", {"code": code.body["code"].lower()}, token=vol.token)
    assert reply.status == 200
    assert reply.body == {"campaign_id": cid, "role": "volunteer"}
    # joining again changes nothing
    assert api.post("/campaigns/join", {"code": code.body["code"]}, token=vol.token).status == 200
    # an admin joining with a code keeps their role
    again = api.post("/campaigns/join", {"code": code.body["code"]}, token=admin.token)
    assert again.body["role"] == "admin"
    assert api.post("/campaigns/join", {"code": "WRONGCODE1"}, token=vol.token).status == 404


def test_an_expired_join_code_is_refused(api, stack):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    code = api.post(f"/campaigns/{cid}/join-codes", token=admin.token).body["code"]
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    table.update_item(
        Key={"pk": f"JOINCODE#{code}", "sk": "META"},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": "2020-01-01T00:00:00.000Z"},
    )
    assert api.post("/campaigns/join", {"code": code}, token=volunteer(api).token).status == 404


def test_members_list_and_roles(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api, "val")
    join(api, admin, cid, vol)
    members = api.get(f"/campaigns/{cid}/members", token=admin.token)
    assert members.status == 200
    by_id = {m["user_id"]: m for m in members.body["items"]}
    assert by_id[vol.user_id] == {
        "user_id": vol.user_id,
        "name": "Val",
        "email": vol.email,
        "role": "volunteer",
        "synced_contacts_count": 0,
        "reports_count": 0,
        "joined_at": by_id[vol.user_id]["joined_at"],
    }
    assert by_id[admin.user_id]["role"] == "admin"
    assert members.body["next_cursor"] is None

    promoted = api.patch(
        f"/campaigns/{cid}/members/{vol.user_id}", {"role": "admin"}, token=admin.token
    )
    assert promoted.status == 200
    assert promoted.body["role"] == "admin"
    assert api.get(f"/campaigns/{cid}", token=admin.token).body["admin_count"] == 2
    bad = api.patch(f"/campaigns/{cid}/members/{vol.user_id}", {"role": "owner"}, token=admin.token)
    assert bad.status == 400
    assert bad.body["Message"].startswith("role")


def test_an_admin_cannot_change_their_own_role(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    reply = api.patch(
        f"/campaigns/{cid}/members/{admin.user_id}", {"role": "volunteer"}, token=admin.token
    )
    assert reply.status == 403


def test_a_campaign_always_keeps_one_admin(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    second = admin_with_mfa(api, "second")
    join(api, admin, cid, second)
    assert (
        api.patch(
            f"/campaigns/{cid}/members/{second.user_id}", {"role": "admin"}, token=admin.token
        ).status
        == 200
    )
    # the second admin demotes the first: fine, one admin is left
    assert (
        api.patch(
            f"/campaigns/{cid}/members/{admin.user_id}", {"role": "volunteer"}, token=second.token
        ).status
        == 200
    )
    # the last admin cannot leave
    reply = api.delete(f"/campaigns/{cid}/members/{second.user_id}", token=second.token)
    assert reply.status == 409
    assert api.get(f"/campaigns/{cid}", token=second.token).body["admin_count"] == 1


def test_removing_a_member(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    assert api.delete(f"/campaigns/{cid}/members/{vol.user_id}", token=admin.token).status == 204
    assert api.get(f"/campaigns/{cid}", token=vol.token).status == 404
    assert api.get("/me", token=vol.token).body["memberships"] == []
    assert api.delete(f"/campaigns/{cid}/members/{vol.user_id}", token=admin.token).status == 404


def test_members_paginate(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    people = [volunteer(api, f"p{i}") for i in range(4)]
    for person in people:
        join(api, admin, cid, person)
    seen: list[str] = []
    cursor = None
    while True:
        path = f"/campaigns/{cid}/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, token=admin.token)
        assert page.status == 200
        assert len(page.body["items"]) <= 2
        seen += [m["user_id"] for m in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted([admin.user_id] + [p.user_id for p in people])


@pytest.mark.parametrize("bad", ["?limit=0", "?limit=201", "?limit=abc", "?cursor=garbage"])
def test_bad_member_paging_parameters_are_400(api, bad):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    reply = api.get(f"/campaigns/{cid}/members{bad}", token=admin.token)
    assert reply.status == 400, bad


def test_a_cursor_from_another_campaign_is_refused(api):
    admin = admin_with_mfa(api)
    first = create_campaign(api, admin, "one")
    second = create_campaign(api, admin, "two")
    for i in range(2):
        join(api, admin, first, volunteer(api, f"m{i}"))
    cursor = api.get(f"/campaigns/{first}/members?limit=1", token=admin.token).body["next_cursor"]
    assert cursor
    reply = api.get(f"/campaigns/{second}/members?limit=1&cursor={cursor}", token=admin.token)
    assert reply.status == 400
    assert reply.body["Message"].startswith("cursor")


def test_every_business_item_records_who_changed_it(api, stack):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    api.patch(f"/campaigns/{cid}/members/{vol.user_id}", {"role": "admin"}, token=admin.token)
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    member = table.get_item(Key={"pk": f"CAMPAIGN#{cid}", "sk": f"MEMBER#{vol.user_id}"})["Item"]
    campaign = table.get_item(Key={"pk": f"CAMPAIGN#{cid}", "sk": "META"})["Item"]
    assert member["updated_by"] == admin.user_id
    assert campaign["updated_by"] == admin.user_id
    assert member["updated_at"].endswith("Z")
