"""Who may join a campaign: removed members stay out until readmitted; join codes can be
limited, listed and revoked, and a limit holds under concurrent joins."""

from __future__ import annotations

import pytest

from tests.helpers import admin_with_mfa, create_campaign, volunteer


def _code(api, admin, cid, **body) -> dict:
    reply = api.post(f"/campaigns/{cid}/join-codes", body or None, token=admin.token)
    assert reply.status == 201, reply
    return reply.body


def _join(api, person, code):
    return api.post("/campaigns/join", {"code": code}, token=person.token)


def test_a_removed_member_stays_out_with_any_code_until_readmitted(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    old = _code(api, admin, cid)["code"]
    assert _join(api, vol, old).status == 200
    assert api.delete(f"/campaigns/{cid}/members/{vol.user_id}", token=admin.token).status == 204

    for code in (old, _code(api, admin, cid)["code"]):
        again = _join(api, vol, code)
        assert again.status == 403, again
        assert again.body["Reason"] == "removed_from_campaign"
    assert api.get(f"/campaigns/{cid}", token=vol.token).status == 404

    readmit = api.post(f"/campaigns/{cid}/members/{vol.user_id}/readmit", token=admin.token)
    assert readmit.status == 200, readmit
    assert _join(api, vol, old).status == 200
    assert api.get(f"/campaigns/{cid}", token=vol.token).body["role"] == "volunteer"


def test_readmitting_someone_never_removed_is_404(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    reply = api.post(f"/campaigns/{cid}/members/{vol.user_id}/readmit", token=admin.token)
    assert reply.status == 404


def test_a_revoked_code_stops_working_at_once(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    code = _code(api, admin, cid)["code"]
    assert api.delete(f"/campaigns/{cid}/join-codes/{code}", token=admin.token).status == 204
    refused = _join(api, volunteer(api), code)
    assert refused.status == 404
    listed = api.get(f"/campaigns/{cid}/join-codes", token=admin.token).body["items"]
    assert [c["code"] for c in listed] == [code] and listed[0]["revoked_at"]


def test_a_code_of_another_campaign_cannot_be_revoked_through_this_one(api):
    admin = admin_with_mfa(api)
    mine, theirs = create_campaign(api, admin), create_campaign(api, admin, "Other")
    code = _code(api, admin, theirs)["code"]
    assert api.delete(f"/campaigns/{mine}/join-codes/{code}", token=admin.token).status == 404
    assert _join(api, volunteer(api), code).status == 200


def test_a_limited_code_admits_exactly_its_number(api):
    """(That the limit holds under concurrent joins is shown on DynamoDB Local, the real
    engine: tests/ddblocal, `test_a_limited_code_admits_exactly_its_number_under_threads`.)"""
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    body = _code(api, admin, cid, max_uses=3, expires_in_days=2)
    assert body["max_uses"] == 3 and body["uses"] == 0
    people = [volunteer(api, f"v{i}") for i in range(5)]
    replies = [_join(api, p, body["code"]) for p in people]
    assert [r.status for r in replies] == [200] * 3 + [404] * 2
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    assert len(members) == 1 + 3
    (listed,) = api.get(f"/campaigns/{cid}/join-codes", token=admin.token).body["items"]
    assert listed["uses"] == 3
    # a member joining again with it uses nothing up
    joined = next(p for p, r in zip(people, replies, strict=True) if r.status == 200)
    assert _join(api, joined, body["code"]).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"max_uses": 0}, "max_uses", id="max-uses-zero"),
        pytest.param({"max_uses": "5"}, "max_uses", id="max-uses-not-a-number"),
        pytest.param({"expires_in_days": 365}, "expires_in_days", id="expiry-too-far"),
    ],
)
def test_join_code_options_are_checked(api, body, field):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    reply = api.post(f"/campaigns/{cid}/join-codes", body, token=admin.token)
    assert reply.status == 400, (body, reply)
    assert reply.body["Field"] == field
