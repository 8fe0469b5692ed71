"""Voter lists: uploads in JSON and CSV, what is refused, the match index, deletion."""

from __future__ import annotations

import boto3
import pytest

from tests.helpers import campaign_with_volunteer, create_action, file_report, list_row


def test_json_list_upload_reports_rows_without_external_id(api):
    admin, cid, _ = campaign_with_volunteer(api)
    rows = [
        {"external_id": "101", "first_name": "Ann", "phone": "202-555-0101"},
        {"first_name": "No id"},
        {"external_id": 102, "email": "B@Example.org"},
        {"external_id": "103", "phone": "12"},
        "nope",
    ]
    reply = api.post(f"/campaigns/{cid}/lists", {"name": "Ward 3", "rows": rows}, token=admin.token)
    assert reply.status == 201, reply
    body = reply.body
    assert body["row_count"] == 3
    assert body["rejected_count"] == 2
    assert body["warnings_count"] == 1
    problems = {(p["row"], p["field"], p["stored"]) for p in body["problems"]}
    assert problems == {(2, "external_id", False), (4, "phone", True), (5, "row", False)}
    got = api.get(f"/campaigns/{cid}/lists/{body['list_id']}", token=admin.token).body
    assert got["name"] == "Ward 3" and got["status"] == "ready" and got["row_count"] == 3
    listed = api.get(f"/campaigns/{cid}/lists", token=admin.token).body["items"]
    assert [item["list_id"] for item in listed] == [body["list_id"]]


def test_csv_upload_streams_with_a_header_row(api):
    admin, cid, _ = campaign_with_volunteer(api)
    csv_body = (
        "external_id,first_name,last_name,phone,email\r\n"
        "201,Ann,Lee,(202) 555-0111,ann@example.org\r\n"
        ",Nobody,,,\r\n"
        '202,"Smith, Jr.",Bob,,bob@example.org\r\n'
    )
    reply = api.call(
        "POST",
        f"/campaigns/{cid}/lists?name=From%20CSV",
        raw=csv_body,
        token=admin.token,
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 201, reply
    assert reply.body["name"] == "From CSV"
    assert reply.body["row_count"] == 2
    assert reply.body["rejected_count"] == 1
    assert reply.body["problems"] == [
        {"row": 2, "field": "external_id", "reason": "is required", "stored": False}
    ]


CSV_HEADERS = {"Content-Type": "text/csv"}


@pytest.mark.parametrize(
    ("body", "headers", "field"),
    [
        pytest.param({"rows": [{"external_id": "1"}]}, None, "name", id="no-name"),
        pytest.param({"name": "x", "rows": []}, None, "rows", id="no-rows"),
        pytest.param({"name": "x", "rows": "nope"}, None, "rows", id="rows-not-a-list"),
        pytest.param(
            {"name": "x", "rows": [{"external_id": str(i)} for i in range(50_001)]},
            None,
            "rows",
            id="too-many-rows",
        ),
        pytest.param("first_name\r\nAnn\r\n", CSV_HEADERS, "body", id="csv-without-external-id"),
        pytest.param("external_id\r\n1\r\n", CSV_HEADERS, "name", id="csv-without-name"),
    ],
)
def test_bad_list_uploads_are_400(api, body, headers, field):
    admin, cid, _ = campaign_with_volunteer(api)
    path = f"/campaigns/{cid}/lists"
    if headers and field != "name":
        path += "?name=x"
    if isinstance(body, str):
        reply = api.call("POST", path, raw=body, token=admin.token, headers=headers)
    else:
        reply = api.post(path, body, token=admin.token)
    assert reply.status == 400, (field, reply)
    assert reply.body["Message"].startswith(field), (field, reply)
    assert api.get(f"/campaigns/{cid}/lists", token=admin.token).body["items"] == []


@pytest.mark.parametrize("provider", ["ngp", 7])
def test_a_list_for_an_unknown_provider_is_400(api, provider):
    admin, cid, _ = campaign_with_volunteer(api)
    body = {"name": "x", "rows": [{"external_id": "1"}], "provider": provider}
    reply = api.post(f"/campaigns/{cid}/lists", body, token=admin.token)
    assert reply.status == 400, reply
    assert reply.body["Message"].startswith("provider"), reply
    assert api.get(f"/campaigns/{cid}/lists", token=admin.token).body["items"] == []


def test_a_csv_list_for_an_unknown_provider_is_400_and_nothing_is_stored(api):
    admin, cid, _ = campaign_with_volunteer(api)
    csv_headers = CSV_HEADERS
    reply = api.call(
        "POST",
        f"/campaigns/{cid}/lists?name=x&provider=ngp",
        raw="external_id\r\n1\r\n",
        token=admin.token,
        headers=csv_headers,
    )
    assert reply.status == 400, reply
    assert reply.body["Message"] == "provider: must be one of van, pdi, salsa"
    assert api.get(f"/campaigns/{cid}/lists", token=admin.token).body["items"] == []


def test_the_match_index_holds_no_phone_or_email_in_clear(api, stack):
    admin, cid, _ = campaign_with_volunteer(api)
    rows = [{"external_id": "301", "phone": "2025550121", "email": "clear@example.org"}]
    api.post(f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token)
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    keys = [i for i in table.scan()["Items"] if i["pk"].startswith("LKEY#")]
    assert len(keys) == 2
    dumped = str(keys)
    assert "2025550121" not in dumped and "clear@example.org" not in dumped


def test_deleting_a_list_erases_its_rows_and_keys_but_not_reports(api, stack):
    admin, cid, _vol = campaign_with_volunteer(api)
    rows = [{"external_id": str(i), "phone": f"+1202559{i:04d}"} for i in range(60)]
    list_id = api.post(
        f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token
    ).body["list_id"]
    aid = create_action(api, admin, cid)["action_id"]
    file_report(api, admin.token, cid, aid, list_row_id=list_row(list_id), result="other")
    assert api.delete(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 204
    assert api.get(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 404
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    left = [i for i in table.scan()["Items"] if list_id in i["pk"] or list_id in i["sk"]]
    assert left == []
    reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert reports[0]["contact"]["external_id"] == "0"
    assert api.delete(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 404
