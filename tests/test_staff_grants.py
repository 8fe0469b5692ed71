"""Staff read a campaign only under a live, time-boxed grant an operator issued; the
campaign's admins see every grant and every read, are e-mailed when one starts, and may
end it. Tested from the staff member's side (what a 404 or 200 tells) and the admins'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import admin_with_mfa, create_campaign, join, volunteer


def _staff(api, prefix="staff"):
    from chalicelib.dal import users

    person = admin_with_mfa(api, prefix)
    users.set_staff(person.user_id, (datetime.now(UTC) - timedelta(days=30)).isoformat(), "op")
    return person


def _grant(cid, person, hours=4, reason="Support ticket 4411: sync errors"):
    from tools import staff

    assert (
        staff.main(
            [
                "grant-access",
                person.email,
                "--campaign",
                cid,
                "--reason",
                reason,
                "--hours",
                str(hours),
                "--yes",
            ]
        )
        == 0
    )
    from chalicelib.dal import grants

    return grants.live_grant(cid, person.user_id)


@pytest.mark.parametrize(
    "path",
    ["", "/members", "/reports", "/audit", "/actions"],
    ids=["campaign", "members", "reports", "audit", "actions"],
)
def test_staff_without_a_grant_sees_nothing_of_the_campaign(api, path):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    reply = api.get(f"/campaigns/{cid}{path}", token=person.token)
    assert reply.status == 404, (path, reply)


def test_staff_see_an_unknown_campaign_answered_the_same(api):
    person = _staff(api)
    # the same answer as for a campaign that does not exist
    missing = api.get("/campaigns/nosuchcampaign/members", token=person.token)
    assert (missing.status, missing.body["Message"]) == (404, "no such campaign")


def test_a_grant_opens_reading_only_and_every_read_is_counted_and_audited(api, outbox):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin, "Springfield Forward")
    person = _staff(api)
    grant = _grant(cid, person)
    assert grant is not None
    assert api.get(f"/campaigns/{cid}/members", token=person.token).status == 200
    assert api.get(f"/campaigns/{cid}/reports", token=person.token).status == 200
    # staff never write, even under a grant
    reply = api.post(
        f"/campaigns/{cid}/actions", {"type": "call", "title": "x"}, token=person.token
    )
    assert reply.status == 403
    assert (
        api.delete(f"/campaigns/{cid}/staff-access/{grant.grant_id}", token=person.token).status
        == 403
    )

    listed = api.get(f"/campaigns/{cid}/staff-access", token=admin.token)
    assert listed.status == 200
    [seen] = listed.body["items"]
    assert seen["grant_id"] == grant.grant_id
    assert seen["staff_user_id"] == person.user_id
    assert seen["reason"] == "Support ticket 4411: sync errors"
    assert seen["granted_by"] == "OPERATOR"
    assert seen["accesses"] == 2
    assert seen["live"] is True and seen["revoked_at"] is None

    audit = api.get(f"/campaigns/{cid}/audit", token=admin.token).body["items"]
    reads = [e for e in audit if e["event"] == "staff.access"]
    assert len(reads) == 2
    assert {e["values"]["grant_id"] for e in reads} == {grant.grant_id}
    assert all(e["actor_id"] == person.user_id for e in reads)

    mails = [m for m in outbox() if m["kind"] == "staff_grant_started"]
    assert [m["to"] for m in mails] == [admin.email]


def test_an_admin_ends_a_grant_and_the_next_read_is_404(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    grant = _grant(cid, person)
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 200
    assert (
        api.delete(f"/campaigns/{cid}/staff-access/{grant.grant_id}", token=admin.token).status
        == 204
    )
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404
    [seen] = api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"]
    assert seen["revoked_at"] and seen["live"] is False
    # ending it again changes nothing; another campaign's grant id is not found
    assert (
        api.delete(f"/campaigns/{cid}/staff-access/{grant.grant_id}", token=admin.token).status
        == 204
    )
    other = create_campaign(api, admin, "Other")
    assert (
        api.delete(f"/campaigns/{other}/staff-access/{grant.grant_id}", token=admin.token).status
        == 404
    )


def test_an_expired_grant_opens_nothing(api, monkeypatch):
    from chalicelib.dal import grants

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    grant = _grant(cid, person, hours=1)
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 200
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(grants, "now", lambda: later)
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404
    [seen] = api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"]
    assert seen["grant_id"] == grant.grant_id


def test_a_grant_needs_current_training_and_mfa(api):
    from chalicelib.dal import users

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    _grant(cid, person)
    users.set_staff(person.user_id, (datetime.now(UTC) - timedelta(days=366)).isoformat(), "op")
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404
    users.set_staff(person.user_id, datetime.now(UTC).isoformat(), "op")
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 200


def test_staff_under_a_grant_without_an_mfa_session_are_told_mfa_is_required(api):
    from chalicelib.dal import users

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = volunteer(api, "nomfa-staff")  # no TOTP: no MFA-verified session
    users.set_staff(person.user_id, datetime.now(UTC).isoformat(), "op")
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404  # no grant yet
    _grant(cid, person)
    reply = api.get(f"/campaigns/{cid}/members", token=person.token)
    assert (reply.status, reply.body.get("Reason")) == (403, "mfa_required")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hours", "73"], "--hours must be 1 to 72"),
        (["--hours", "0"], "--hours must be 1 to 72"),
    ],
)
def test_grant_access_refuses_bad_hours(args, message, capsys):
    from tools import staff

    with pytest.raises(SystemExit) as exit_:
        staff.main(["grant-access", "a@example.org", "--campaign", "c", "--reason", "r", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_grant_access_refuses_non_staff_members_and_missing_campaigns(api, capsys):
    from tools import staff

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    plain = volunteer(api)
    base = ["--reason", "ticket", "--hours", "2", "--yes"]
    assert staff.main(["grant-access", plain.email, "--campaign", cid, *base]) == 1
    assert "security training" in capsys.readouterr().err
    person = _staff(api)
    assert staff.main(["grant-access", person.email, "--campaign", "nope", *base]) == 1
    assert "no such campaign" in capsys.readouterr().err
    join(api, admin, cid, person)
    assert staff.main(["grant-access", person.email, "--campaign", cid, *base]) == 1
    assert "member" in capsys.readouterr().err
    assert staff.main(["grant-access", "nobody@example.org", "--campaign", cid, *base]) == 1
    assert "no account" in capsys.readouterr().err


def test_grant_access_asks_first_and_a_no_changes_nothing(api, monkeypatch, capsys):
    from tools import staff

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    code = staff.main(
        ["grant-access", person.email, "--campaign", cid, "--reason", "r", "--hours", "2"]
    )
    assert code == 1
    out = capsys.readouterr()
    assert "read campaign" in out.out and "nothing was changed" in out.err
    assert api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"] == []
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404


def test_revoke_access_ends_the_grant_and_is_an_operator_record(api, stack):
    import boto3

    from tools import staff

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = _staff(api)
    _grant(cid, person)
    assert staff.main(["revoke-access", person.email, "--campaign", cid, "--yes"]) == 0
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404
    assert staff.main(["revoke-access", person.email, "--campaign", cid, "--yes"]) == 1
    table = boto3.resource("dynamodb").Table(stack["AUDIT_TABLE"])
    records = table.query(
        KeyConditionExpression=boto3.dynamodb.conditions.Key("pk").eq("OPERATOR")
    )["Items"]
    events = sorted(r["event"] for r in records if r.get("campaign_id") == cid)
    assert events == ["staff.grant_issued", "staff.grant_revoked"]
    assert {r["actor_id"] for r in records if r.get("campaign_id") == cid} == {"OPERATOR"}
