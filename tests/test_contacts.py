"""The mobile app's contact sync: de-duplication, per-contact problems, erasure."""

from __future__ import annotations

from typing import Any

import boto3

from tests.helpers import volunteer


def _all(api, token: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        path = "/me/contacts?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, token=token)
        assert page.status == 200, page
        items += page.body["items"]
        cursor = page.body["next_cursor"]
        if not cursor:
            return items


def test_sync_normalises_and_deduplicates(api):
    vol = volunteer(api)
    reply = api.put(
        "/me/contacts",
        {
            "contacts": [
                {"name": "Ann Lee", "phones": ["(202) 555-0101"], "emails": [" Ann@Example.org "]},
                {"name": "Ann", "phones": ["+1 202 555 0101"], "emails": []},  # same phone
                {"name": "Bob", "phones": [], "emails": ["bob@example.org"]},
                {"name": "Bobby", "phones": ["202-555-0102"], "emails": ["BOB@example.org"]},
            ]
        },
        token=vol.token,
    )
    assert reply.status == 200, reply
    assert reply.body == {"received": 4, "created": 2, "updated": 0, "total": 2, "invalid": []}
    contacts = sorted(_all(api, vol.token), key=lambda c: c["name"])
    assert [c["name"] for c in contacts] == ["Ann", "Bobby"]
    ann, bob = contacts
    assert ann["phones"] == ["+12025550101"]
    assert ann["emails"] == ["ann@example.org"]
    assert bob["phones"] == ["+12025550102"]
    assert bob["emails"] == ["bob@example.org"]


def test_a_second_sync_updates_what_it_shares(api):
    vol = volunteer(api)
    first = {"contacts": [{"name": "Cy", "phones": ["2025550103"]}]}
    assert api.put("/me/contacts", first, token=vol.token).body["created"] == 1
    same = api.put("/me/contacts", first, token=vol.token).body
    assert same == {"received": 1, "created": 0, "updated": 0, "total": 1, "invalid": []}
    more = {
        "contacts": [
            {"name": "Cy Young", "phones": ["2025550103"], "emails": ["cy@example.org"]},
            {"name": "Dee", "phones": ["2025550104"]},
        ]
    }
    reply = api.put("/me/contacts", more, token=vol.token).body
    assert reply == {"received": 2, "created": 1, "updated": 1, "total": 2, "invalid": []}
    cy = next(c for c in _all(api, vol.token) if c["name"] == "Cy Young")
    assert cy["emails"] == ["cy@example.org"]
    assert api.get("/me", token=vol.token).status == 200


def test_invalid_values_are_reported_per_contact(api):
    vol = volunteer(api)
    reply = api.put(
        "/me/contacts",
        {
            "contacts": [
                {"name": "Ok", "phones": ["2025550105", "12"], "emails": ["not-an-email"]},
                {"name": "Nothing valid", "phones": ["abc"]},
                "not an object",
                {"name": 7, "phones": ["2025550106"]},
                {"name": "Bad list", "phones": "2025550107"},
            ]
        },
        token=vol.token,
    )
    assert reply.status == 200
    body = reply.body
    assert body["created"] == 1
    problems = {(p["index"], p["field"]) for p in body["invalid"]}
    assert (0, "phones[1]") in problems
    assert (0, "emails[0]") in problems
    assert (1, "contact") in problems
    assert (2, "contact") in problems
    assert (3, "name") in problems
    assert (4, "phones") in problems
    assert all(p["reason"] for p in body["invalid"])
    assert [c["phones"] for c in _all(api, vol.token)] == [["+12025550105"]]


def test_more_than_5000_contacts_is_a_400(api):
    vol = volunteer(api)
    contacts = [{"name": "x", "phones": ["2025550100"]}] * 5001
    reply = api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    assert reply.status == 400
    assert reply.body["Message"].startswith("contacts")
    assert api.put("/me/contacts", {"contacts": "nope"}, token=vol.token).status == 400
    assert api.put("/me/contacts", {}, token=vol.token).status == 400


def test_a_large_sync_loses_nothing(api, stack):
    vol = volunteer(api)
    contacts = [
        {"name": f"Person {i}", "phones": [f"+1202555{i:04d}"], "emails": [f"p{i}@example.org"]}
        for i in range(1200)
    ]
    reply = api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    assert reply.body["created"] == 1200
    assert reply.body["total"] == 1200
    assert len(_all(api, vol.token)) == 1200
    me = api.get("/me", token=vol.token)
    assert me.status == 200


def test_unprocessed_items_are_retried_until_all_are_in(api, monkeypatch):
    """DynamoDB may hand back part of a batch as unprocessed: it is sent again."""
    from chalicelib import aws

    client = aws.dynamodb()  # the client bulk writes go through
    real = client.batch_write_item
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        ((table, requests),) = kwargs["RequestItems"].items()
        if calls["n"] % 2 == 1 and len(requests) > 1:
            kept, left = requests[: len(requests) // 2], requests[len(requests) // 2 :]
            real(RequestItems={table: kept})
            return {"UnprocessedItems": {table: left}}
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_write_item", flaky)
    vol = volunteer(api)
    contacts = [{"name": f"N{i}", "phones": [f"+1202556{i:04d}"]} for i in range(300)]
    reply = api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    assert reply.body["created"] == 300
    assert len(_all(api, vol.token)) == 300
    assert calls["n"] > 12  # more calls than batches: the retries happened


def test_delete_one_and_all(api, stack):
    vol = volunteer(api)
    contacts = [{"name": f"N{i}", "phones": [f"+1202557{i:04d}"]} for i in range(30)]
    api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    listed = _all(api, vol.token)
    victim = listed[0]["contact_id"]
    assert api.delete(f"/me/contacts/{victim}", token=vol.token).status == 204
    assert api.delete(f"/me/contacts/{victim}", token=vol.token).status == 404
    assert len(_all(api, vol.token)) == 29
    assert api.delete("/me/contacts", token=vol.token).status == 204
    assert _all(api, vol.token) == []
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    left = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
        ExpressionAttributeValues={":pk": f"USER#{vol.user_id}", ":c": "CONTACT#"},
    )["Items"]
    assert left == []
    profile = table.get_item(Key={"pk": f"USER#{vol.user_id}", "sk": "PROFILE"})["Item"]
    assert profile["contacts_count"] == 0


def test_contacts_are_never_anyone_elses(api):
    owner, other = volunteer(api, "owner"), volunteer(api, "other")
    api.put(
        "/me/contacts",
        {"contacts": [{"name": "Secret", "phones": ["2025550199"]}]},
        token=owner.token,
    )
    contact_id = _all(api, owner.token)[0]["contact_id"]
    assert _all(api, other.token) == []
    assert api.delete(f"/me/contacts/{contact_id}", token=other.token).status == 404
    assert len(_all(api, owner.token)) == 1


def test_concurrent_syncs_of_the_same_contacts_count_them_once(api):
    """Two phones of one volunteer sync the same new contacts at once: the count admins see
    is the number of contacts, not twice it."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import admin_with_mfa, create_campaign, join

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    body = {"contacts": [{"name": f"P{i}", "phones": [f"+1202557{i:04d}"]} for i in range(40)]}
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: api.put("/me/contacts", body, token=vol.token), range(4)))
    assert all(r.status == 200 for r in replies)
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    mine = next(m for m in members if m["user_id"] == vol.user_id)
    assert mine["synced_contacts_count"] == 40
    assert len(_all(api, vol.token)) == 40


# ---- what a sync has merged already ------------------------------------------------------


def _contact_reads(monkeypatch) -> list[str]:
    """The DynamoDB calls that read stored contacts (a Query of the `CONTACT#` items; a
    count of them, which reads no contact, is not one)."""
    import botocore.client

    reads: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def watched(client: Any, operation: str, params: dict[str, Any]) -> Any:
        values = params.get("ExpressionAttributeValues") or {}
        if (
            operation == "Query"
            and params.get("Select") != "COUNT"
            and any(str(v.get("S", "")).startswith("CONTACT#") for v in values.values())
        ):
            reads.append(operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", watched)
    return reads


def test_an_unchanged_address_book_is_not_read_again(api, monkeypatch):
    """The phone sends the same contacts again: nothing is merged, the stored contacts are
    not read, and the answer is the same as before."""
    vol = volunteer(api)
    body = {"contacts": [{"name": f"U{i}", "phones": [f"+1202556{i:04d}"]} for i in range(60)]}
    assert api.put("/me/contacts", body, token=vol.token).body["created"] == 60
    reads = _contact_reads(monkeypatch)
    again = api.put("/me/contacts", body, token=vol.token).body
    assert again == {"received": 60, "created": 0, "updated": 0, "total": 60, "invalid": []}
    assert reads == []
    one_new = {"contacts": [*body["contacts"], {"name": "New", "phones": ["+12025569999"]}]}
    reply = api.put("/me/contacts", one_new, token=vol.token).body
    assert (reply["created"], reply["updated"], reply["total"]) == (1, 0, 61)
    assert reads == ["Query"]  # something new: merged against what is stored


def test_a_changed_contact_is_merged_and_a_bad_one_still_reported(api):
    vol = volunteer(api)
    first = {"contacts": [{"name": "Al", "phones": ["2025550111"]}, {"name": "Bo", "emails": []}]}
    reply = api.put("/me/contacts", first, token=vol.token).body
    assert reply["created"] == 1 and [p["index"] for p in reply["invalid"]] == [1]
    changed = {
        "contacts": [
            {"name": "Al", "phones": ["2025550111"], "emails": ["al@example.org"]},
            {"name": "Bo", "emails": []},
        ]
    }
    reply = api.put("/me/contacts", changed, token=vol.token).body
    assert (reply["created"], reply["updated"], reply["total"]) == (0, 1, 1)
    assert [p["index"] for p in reply["invalid"]] == [1]  # reported every time
    assert _all(api, vol.token)[0]["emails"] == ["al@example.org"]


def test_a_contact_deleted_on_the_server_comes_back_with_the_next_sync(api):
    vol = volunteer(api)
    body = {"contacts": [{"name": f"D{i}", "phones": [f"+1202554{i:04d}"]} for i in range(3)]}
    api.put("/me/contacts", body, token=vol.token)
    victim = _all(api, vol.token)[0]
    assert api.delete(f"/me/contacts/{victim['contact_id']}", token=vol.token).status == 204
    reply = api.put("/me/contacts", body, token=vol.token).body
    assert (reply["created"], reply["total"]) == (1, 3)
    assert victim["phones"] in [c["phones"] for c in _all(api, vol.token)]
    assert api.delete("/me/contacts", token=vol.token).status == 204
    reply = api.put("/me/contacts", body, token=vol.token).body
    assert (reply["created"], reply["total"]) == (3, 3)


def test_the_digest_is_erased_with_the_contacts(api, stack):
    """What a sync remembers goes with the contacts: nothing is left in the partition."""
    vol = volunteer(api)
    body = {"contacts": [{"name": "E", "phones": ["2025550177"]}]}
    api.put("/me/contacts", body, token=vol.token)
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])

    def digests() -> list[dict[str, Any]]:
        return table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": f"USER#{vol.user_id}", ":d": "PROFILE#DIGEST#"},
            ConsistentRead=True,
        )["Items"]

    stored = digests()
    assert (
        len(stored) == 1
        and "2025550177" not in str(stored)
        and "E" not in {v for item in stored for v in item.values() if v == "E"}
    )
    assert api.delete("/me/contacts", token=vol.token).status == 204
    assert digests() == []
