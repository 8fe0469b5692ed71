"""The audit trail: one record per change, named and attributed; sign-ins; no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.fakes.van import FakeVan
from tests.helpers import PASSWORD, admin_with_mfa, create_campaign, join, volunteer
from tests.streams import broken_copy


def _all_audit(stack) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(stack["AUDIT_TABLE"])
    response = table.scan()
    items = response["Items"]
    while "LastEvaluatedKey" in response:
        response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items += response["Items"]
    for item in items:  # stored as JSON text
        item["values"] = json.loads(item.get("values") or "{}")
    return items


def _campaign_audit(api, token, cid, **params) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    reply = api.get(f"/campaigns/{cid}/audit?limit=200&{query}", token=token)
    assert reply.status == 200, reply
    return list(reply.body["items"])


class Trail:
    """Delivers the stream to the audit consumer and hands back what each step added."""

    def __init__(self, api, stream, stack) -> None:
        self.api, self.stream, self.stack = api, stream, stack
        self.seen: set[str] = set()

    def new(self) -> list[dict[str, Any]]:
        result = self.stream.deliver("audit_consumer")
        assert result == {"batchItemFailures": []}
        fresh = [i for i in _all_audit(self.stack) if i["event_id"] not in self.seen]
        self.seen |= {i["event_id"] for i in fresh}
        return sorted(fresh, key=lambda i: i["at"])


def _one(records: list[dict[str, Any]], event: str) -> dict[str, Any]:
    found = [r for r in records if r["event"] == event]
    assert len(found) == 1, (event, [r["event"] for r in records])
    return found[0]


@pytest.fixture
def van(stack, monkeypatch):
    from chalicelib import config

    with FakeVan() as fake:
        monkeypatch.setenv("VAN_API_URL", fake.url)
        config.reset()
        yield fake
    config.reset()


def test_every_business_write_is_one_named_attributed_record(api, stream, stack, van):
    trail = Trail(api, stream, stack)
    admin = admin_with_mfa(api)
    trail.new()

    # (what to do, the event it must produce, its actor, the fields it must name)
    cid = create_campaign(api, admin, "Trail")
    created = trail.new()
    assert _one(created, "campaign.created")["actor_id"] == admin.user_id
    assert _one(created, "member.joined")["values"] == {"role": "admin", "reports_count": 0}

    vol = volunteer(api)
    code = api.post(f"/campaigns/{cid}/join-codes", token=admin.token).body["code"]
    assert _one(trail.new(), "join_code.created")["actor_id"] == admin.user_id
    api.post("/campaigns/join", {"code": code}, token=vol.token)
    assert _one(trail.new(), "member.joined")["actor_id"] == vol.user_id

    cases: list[tuple[Any, str, str, list[str]]] = [
        (
            lambda: api.patch(f"/campaigns/{cid}", {"name": "Renamed"}, token=admin.token),
            "campaign.updated",
            admin.user_id,
            ["name"],
        ),
        (
            lambda: api.patch(
                f"/campaigns/{cid}/members/{vol.user_id}", {"role": "admin"}, token=admin.token
            ),
            "member.role_changed",
            admin.user_id,
            ["role"],
        ),
        (
            lambda: api.patch(
                f"/campaigns/{cid}/members/{vol.user_id}", {"role": "volunteer"}, token=admin.token
            ),
            "member.role_changed",
            admin.user_id,
            ["role"],
        ),
    ]
    for do, event, actor, fields in cases:
        assert do().status < 300
        entry = _one(trail.new(), event)
        assert entry["actor_id"] == actor, event
        assert entry["fields"] == fields, event
    role = [
        r for r in _campaign_audit(api, admin.token, cid) if r["event"] == "member.role_changed"
    ]
    assert [r["values"] for r in role] == [{"role": "volunteer"}, {"role": "admin"}]

    action = api.post(
        f"/campaigns/{cid}/actions",
        {
            "type": "call",
            "title": "Call",
            "status": "live",
            "questions": [{"text": "Q?", "responses": [{"text": "Yes"}]}],
        },
        token=admin.token,
    ).body
    aid = action["action_id"]
    entry = _one(trail.new(), "action.created")
    assert entry["values"]["title"] == "Call" and entry["actor_id"] == admin.user_id

    steps: list[tuple[Any, str, list[str]]] = [
        (
            lambda: api.patch(
                f"/campaigns/{cid}/actions/{aid}", {"title": "Phone bank"}, token=admin.token
            ),
            "action.updated",
            ["title"],
        ),
        (
            lambda: api.delete(f"/campaigns/{cid}/actions/{aid}", token=admin.token),
            "action.deleted",
            ["deleted_at", "deleted_by"],
        ),
        (
            lambda: api.post(f"/campaigns/{cid}/actions/{aid}/restore", token=admin.token),
            "action.restored",
            ["deleted_at", "deleted_by"],
        ),
    ]
    for do, event, fields in steps:
        assert do().status < 300
        entry = _one(trail.new(), event)
        assert entry["fields"] == fields and entry["actor_id"] == admin.user_id, event
        assert entry["target"] == f"action:{aid}"

    listed = api.post(
        f"/campaigns/{cid}/lists",
        {
            "name": "Voters",
            "rows": [{"external_id": "1001", "phone": "2025550155", "first_name": "Lu"}],
        },
        token=admin.token,
    ).body
    list_records = trail.new()
    # one record per state of the import, none per row
    assert [r["event"] for r in list_records] == ["list.created", "list.importing", "list.ready"]
    assert _one(list_records, "list.created")["actor_id"] == admin.user_id
    assert _one(list_records, "list.ready")["values"] == {
        "status": "ready",
        "rows_total": 1,
        "row_count": 1,
        "rejected_count": 0,
    }

    api.put(
        "/me/contacts",
        {"contacts": [{"name": "Mo Private", "phones": ["2025550156"]}]},
        token=vol.token,
    )
    synced = trail.new()
    assert not [r for r in synced if r["event"].startswith("contact.")]  # summed up, below
    counts = _one(synced, "contacts.synced")
    assert counts["user_id"] == vol.user_id
    assert counts["values"]["last_sync"]["created"] == 1
    assert counts["actor_id"] == vol.user_id

    contact_id = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    report = api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": contact_id, "result": "not_home"},
        token=vol.token,
    )
    assert report.status == 201
    filed = _one(trail.new(), "report.created")
    assert filed["actor_id"] == vol.user_id
    assert filed["values"] == {"action_id": aid, "result": "not_home"}
    assert "contact_name" in filed["fields"]  # named, never shown

    assert (
        api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token).status
        == 200
    )
    configured = _one(trail.new(), "integration.updated")
    assert configured["actor_id"] == admin.user_id
    assert "credentials" in configured["fields"]
    assert "credentials" not in configured["values"] and "key_hint" not in configured["values"]
    api.put(f"/campaigns/{cid}/integrations/van/instructions", {"actions": {}}, token=admin.token)
    assert _one(trail.new(), "integration.updated")["fields"] == ["instructions"]
    assert api.delete(f"/campaigns/{cid}/integrations/van", token=admin.token).status == 204
    assert _one(trail.new(), "integration.removed")["actor_id"] == admin.user_id

    assert (
        api.delete(f"/campaigns/{cid}/lists/{listed['list_id']}", token=admin.token).status == 204
    )
    assert _one(trail.new(), "list.deleted")["actor_id"] == admin.user_id

    assert api.delete(f"/campaigns/{cid}/members/{vol.user_id}", token=admin.token).status == 204
    removed = _one(trail.new(), "member.removed")
    assert removed["actor_id"] == admin.user_id
    assert removed["target"] == f"member:{vol.user_id}"

    assert api.delete("/me/contacts", token=vol.token).status == 204
    erased = trail.new()
    assert not [r for r in erased if r["event"].startswith("contact.")]
    deleted = _one(erased, "contacts.deleted")
    assert deleted["actor_id"] == vol.user_id
    assert deleted["values"] == {"contacts_count": 0, "deleted": 1}


def test_a_redelivered_batch_adds_no_records(api, stream, stack):
    admin = admin_with_mfa(api)
    create_campaign(api, admin)
    records = stream.read()
    assert stream.deliver("audit_consumer", records) == {"batchItemFailures": []}
    first = _all_audit(stack)
    assert stream.deliver("audit_consumer", records) == {"batchItemFailures": []}
    assert sorted(i["sk"] for i in _all_audit(stack)) == sorted(i["sk"] for i in first)


def test_a_bad_record_fails_alone(api, stream, stack):
    admin = admin_with_mfa(api)
    create_campaign(api, admin)
    records = stream.read()
    broken = broken_copy(records[0], "424242", entity={"S": "mystery"})
    result = stream.deliver("audit_consumer", [broken, *records])
    assert result == {"batchItemFailures": [{"itemIdentifier": "424242"}]}
    stream_changes = [i for i in _all_audit(stack) if not i["event"].startswith("auth.")]
    assert len(stream_changes) == len(records)


def test_sign_ins_are_audit_records_too(api, stack):
    admin = admin_with_mfa(api)
    api.post("/auth/login", {"email": admin.email, "password": "Wrong-Pass-1"})
    api.post("/auth/login", {"email": "nobody@example.org", "password": "Wrong-Pass-1"})
    challenge = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": "000000"})
    tokens = api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": admin.code()}).body
    api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    api.post("/auth/logout", token=tokens["access_token"])
    auth = [i for i in _all_audit(stack) if i["event"].startswith("auth.")]
    seen = {(i["event"], i["values"]["outcome"]) for i in auth}
    assert {
        ("auth.login", "failure"),
        ("auth.login", "mfa_required"),
        ("auth.mfa", "failure"),
        ("auth.mfa", "success"),
        ("auth.refresh", "success"),
        ("auth.logout", "success"),
    } <= seen
    unknown = [i for i in auth if i["pk"] == "AUTH#anonymous"]
    assert unknown and all("nobody@example.org" not in json.dumps(i, default=str) for i in unknown)
    mine = [i for i in auth if i.get("user_id") == admin.user_id]
    assert {i["pk"] for i in mine} == {f"USER#{admin.user_id}"}


def test_campaign_audit_is_newest_first_with_since_and_paging(api, stream, stack):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    for i in range(3):
        api.post(f"/campaigns/{cid}/actions", {"type": "call", "title": f"A{i}"}, token=admin.token)
    stream.deliver("audit_consumer")
    items = _campaign_audit(api, admin.token, cid)
    stamps = [i["at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert set(items[0]) == {"event_id", "at", "actor_id", "event", "target", "fields", "values"}
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _campaign_audit(api, admin.token, cid, since=later) == []
    middle = stamps[2]
    assert [i["at"] for i in _campaign_audit(api, admin.token, cid, since=middle)] == stamps[:3]
    page = api.get(f"/campaigns/{cid}/audit?limit=2", token=admin.token).body
    assert len(page["items"]) == 2 and page["next_cursor"]
    bad = api.get(f"/campaigns/{cid}/audit?since=yesterday", token=admin.token)
    assert bad.status == 400 and bad.body["Message"].startswith("since")


def test_staff_access_is_recorded(api, stack):
    from chalicelib.dal import users
    from chalicelib.logic.staff import issue_grant

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    staff = admin_with_mfa(api, "staff")
    users.set_staff(staff.user_id, datetime.now(UTC).isoformat(), actor="operator")
    issue_grant(cid, staff.user_id, reason="ticket 12", hours=2, operator="OPERATOR")
    assert api.get(f"/campaigns/{cid}/members", token=staff.token).status == 200
    accesses = [i for i in _campaign_audit(api, admin.token, cid) if i["event"] == "staff.access"]
    assert len(accesses) == 1
    assert accesses[0]["actor_id"] == staff.user_id
    grant_id = api.get(f"/campaigns/{cid}/staff-access", token=admin.token).body["items"][0][
        "grant_id"
    ]
    assert accesses[0]["values"] == {"permission": "view_members", "grant_id": grant_id}


def test_no_secret_or_contact_detail_in_any_audit_record_or_log_line(
    api, stream, stack, van, log_lines
):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    private = {
        "name": "Zora Confidential",
        "phones": ["(202) 555-0188"],
        "emails": ["zora@private.example"],
    }
    api.put("/me/contacts", {"contacts": [private]}, token=vol.token)
    contact_id = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    aid = api.post(
        f"/campaigns/{cid}/actions",
        {"type": "call", "title": "T", "status": "live"},
        token=admin.token,
    ).body["action_id"]
    api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": contact_id, "result": "refused", "notes": "Said something private"},
        token=vol.token,
    )
    api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token)
    api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    stream.deliver("audit_consumer")
    everything = json.dumps(_all_audit(stack), default=str) + "\n".join(log_lines)
    for secret in (
        PASSWORD,
        admin.totp_secret,
        van.api_key,
        "Zora Confidential",
        "+12025550188",
        "2025550188",
        "zora@private.example",
        "Said something private",
        vol.email,
    ):
        assert secret not in everything, secret
