"""The list import pipeline: presigned uploads, chunks fed by SQS, counts kept once, errors
by row number, matching only once ready, failures and deletions leaving no rows."""

from __future__ import annotations

import boto3
import pytest
import requests

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer

HEADER = "external_id,first_name,last_name,phone,email\n"


def _csv(rows: int, start: int = 1) -> str:
    return HEADER + "".join(
        f"V{n},First{n},Last{n},+1202555{n % 10000:04d},v{n}@example.org\n"
        for n in range(start, start + rows)
    )


def _items(stack, list_id):
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    out = table.scan(ConsistentRead=True)
    items = out["Items"]
    while out.get("LastEvaluatedKey"):
        out = table.scan(ConsistentRead=True, ExclusiveStartKey=out["LastEvaluatedKey"])
        items += out["Items"]
    return [i for i in items if list_id in i["pk"] or list_id in i["sk"]]


@pytest.fixture
def small_chunks(monkeypatch):
    from chalicelib.logic import imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    return 4


def _upload(raw_api, admin, cid, body: str | bytes, name="Statewide"):
    started = raw_api.post(f"/campaigns/{cid}/lists/uploads", {"name": name}, token=admin.token)
    assert started.status == 201, started
    assert started.body["state"] == "waiting_upload"
    put = requests.put(started.body["upload_url"], data=body, timeout=30)
    assert put.status_code == 200, put.text
    return started.body["list_id"]


def test_an_upload_by_presigned_url_is_imported_in_chunks_with_exact_counts(
    raw_api, imports, stack, small_chunks
):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    list_id = _upload(raw_api, admin, cid, _csv(10))
    waiting = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert waiting["state"] == "waiting_upload"  # the file's notice is in the queue
    handled = imports.drain()
    # the plan, then 10 rows in chunks of 4, then the members' targets (the admin's)
    assert handled == 1 + 3 + 2
    done = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert (done["state"], done["rows_total"], done["rows_imported"], done["rows_rejected"]) == (
        "ready",
        10,
        10,
        0,
    )
    assert done["errors"] == []
    kinds = sorted(i["entity"] for i in _items(stack, list_id))
    assert kinds.count("list_row") == 10 and kinds.count("list_key") == 20
    # the upload itself is gone once imported
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=stack["DATA_BUCKET"], Prefix=f"uploads/{cid}/")
    assert listed.get("KeyCount", 0) == 0


def test_bad_rows_are_reported_by_row_number_and_the_rest_imported(raw_api, imports, small_chunks):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    body = (
        HEADER
        + "V1,Ann,,+12025550101,\n"
        + ",NoId,,,\n"  # row 2: no external id: refused
        + "V3,Bo,,not a phone,\n"  # row 3: stored without its phone
        + '"V4","Multi\nline",,,\n'  # a quoted line break stays in its row
        + "V5,Cy,,,bad-email\n"  # row 5: stored without its e-mail
        + "\n"  # a blank line is no row
        + "V6,Di,,,\n"
    )
    list_id = _upload(raw_api, admin, cid, body)
    imports.drain()
    done = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert (done["state"], done["rows_total"], done["rows_imported"], done["rows_rejected"]) == (
        "ready",
        6,
        5,
        1,
    )
    errors = {(e["row"], e["field"]) for e in done["errors"]}
    assert errors == {(2, "external_id"), (3, "phone"), (5, "email")}
    assert [e["row"] for e in done["errors"]] == sorted(e["row"] for e in done["errors"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("name,phone\nAnn,+12025550101\n", "external_id", id="no-external-id-column"),
        pytest.param("", "empty", id="empty-file"),
        pytest.param(HEADER, "no rows", id="header-only"),
        pytest.param(b"\xff\xfe\x00bad", "UTF-8", id="not-utf-8"),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_its_reason_and_leaves_no_rows(
    raw_api, imports, stack, body, reason
):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    list_id = _upload(raw_api, admin, cid, body)
    imports.drain()
    got = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert got["state"] == "failed", (body, got)
    assert reason in got["failure"], got
    assert [i for i in _items(stack, list_id) if i["entity"] != "list"] == []


def test_a_list_still_importing_matches_nothing(raw_api, imports, small_chunks):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    vol = volunteer(raw_api)
    join(raw_api, admin, cid, vol)
    raw_api.put(
        "/me/contacts", {"contacts": [{"name": "Ann", "phones": ["2025550001"]}]}, token=vol.token
    )
    [contact] = raw_api.get("/me/contacts", token=vol.token).body["items"]
    aid = create_action(raw_api, admin, cid)["action_id"]
    list_id = _upload(raw_api, admin, cid, _csv(10))
    # plan it and import the first chunk (which holds Ann) but not the rest
    plan = imports.receive(1)
    assert imports.deliver(plan[0])
    first = imports.receive(1)[0]
    assert imports.deliver(first)
    state = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert state["state"] == "importing" and state["rows_imported"] == 4
    report = raw_api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": contact["contact_id"], "result": "not_home"},
        token=vol.token,
    )
    assert report.status == 201
    reports = raw_api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert reports[0]["contact"]["external_id"] is None  # not matched while importing
    imports.drain()
    report = raw_api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": contact["contact_id"], "result": "canvassed"},
        token=vol.token,
    )
    reports = raw_api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert {r["contact"]["external_id"] for r in reports} == {None, "V1"}


def test_a_chunk_delivered_twice_is_counted_once(raw_api, imports, stack, small_chunks):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    list_id = _upload(raw_api, admin, cid, _csv(10))
    assert imports.deliver(imports.receive(1)[0])  # the plan
    chunk = imports.receive(1)[0]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=imports.url, MessageBody=chunk["Body"])  # a duplicate
    assert imports.deliver(chunk)
    imports.drain()
    done = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert (done["state"], done["rows_imported"]) == ("ready", 10)
    assert len([i for i in _items(stack, list_id) if i["entity"] == "list_row"]) == 10


def test_a_chunk_that_fails_is_tried_again_and_then_the_list_fails_cleanly(
    raw_api, imports, stack, small_chunks, monkeypatch
):
    from chalicelib.dal import lists as lists_dal

    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    list_id = _upload(raw_api, admin, cid, _csv(10))
    real = lists_dal.put_errors
    failures = {"left": 2}

    def flaky(*args, **kwargs):  # the table throttles a chunk twice, after its rows went in
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("ProvisionedThroughputExceeded")
        return real(*args, **kwargs)

    monkeypatch.setattr(lists_dal, "put_errors", flaky)
    imports.drain()
    done = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert (done["state"], done["rows_imported"]) == ("ready", 10)  # retried, counted once

    # a chunk that never succeeds: on its last try the list fails, and its rows go
    other = _upload(raw_api, admin, cid, _csv(10, start=100), name="Broken")
    monkeypatch.setattr(lists_dal, "put_errors", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    from chalicelib.logic import imports as imports_logic

    monkeypatch.setattr(imports_logic, "MAX_RECEIVES", 2)
    imports.drain()
    monkeypatch.setattr(lists_dal, "put_errors", real)
    imports.drain()
    failed = raw_api.get(f"/campaigns/{cid}/lists/{other}", token=admin.token).body
    assert failed["state"] == "failed" and "could not be imported" in failed["failure"]
    assert [i for i in _items(stack, other) if i["entity"] != "list"] == []


def test_deleting_a_list_stops_matching_at_once_and_erases_its_rows(
    raw_api, imports, stack, small_chunks
):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    list_id = _upload(raw_api, admin, cid, _csv(10))
    imports.drain()
    assert raw_api.delete(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 204
    state = raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).body
    assert state["state"] == "deleting"
    handled = imports.drain()
    assert handled >= 11  # ten parts of rows and the errors, a page each at least
    assert raw_api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 404
    assert _items(stack, list_id) == []


def test_the_inline_route_answers_at_once_and_goes_through_the_pipeline(raw_api, imports):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    rows = [{"external_id": "1", "first_name": "A"}, {"first_name": "no id"}]
    reply = raw_api.post(f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token)
    assert reply.status == 201
    assert (reply.body["state"], reply.body["row_count"], reply.body["rows_rejected"]) == (
        "importing",
        1,
        1,
    )
    imports.drain()
    got = raw_api.get(f"/campaigns/{cid}/lists/{reply.body['list_id']}", token=admin.token).body
    assert (got["state"], got["rows_imported"], got["rows_rejected"]) == ("ready", 1, 1)
    assert got["errors"] == [
        {"row": 2, "field": "external_id", "message": "is required", "stored": False}
    ]
    too_many = raw_api.post(
        f"/campaigns/{cid}/lists",
        {"name": "L", "rows": [{"external_id": str(n)} for n in range(50_001)]},
        token=admin.token,
    )
    assert too_many.status == 400 and too_many.body["Field"] == "rows"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "name", id="no-name"),
        pytest.param({"name": "L", "provider": "ngp"}, "provider", id="unknown-provider"),
    ],
)
def test_bad_upload_requests_are_400_naming_the_field(raw_api, body, field):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    reply = raw_api.post(f"/campaigns/{cid}/lists/uploads", body, token=admin.token)
    assert (reply.status, reply.body.get("Field")) == (400, field), reply


def test_upload_requests_are_checked(raw_api):
    admin = admin_with_mfa(raw_api)
    cid = create_campaign(raw_api, admin)
    vol = volunteer(raw_api)
    join(raw_api, admin, cid, vol)
    assert (
        raw_api.post(f"/campaigns/{cid}/lists/uploads", {"name": "L"}, token=vol.token).status
        == 403
    )


def test_a_stray_object_in_the_upload_place_is_ignored(imports, stack):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack["DATA_BUCKET"], Key="uploads/nocampaign/nolist.csv", Body=b"x")
    s3.put_object(Bucket=stack["DATA_BUCKET"], Key="uploads/odd.txt", Body=b"x")
    assert imports.drain() == 2
    left = s3.list_objects_v2(Bucket=stack["DATA_BUCKET"]).get("Contents", [])
    assert [o["Key"] for o in left] == ["uploads/odd.txt"]
