"""POST/GET /campaigns/{cid}/exports: a campaign's data as a CSV file, written in the
background in parts, downloaded through a short-lived link."""

from __future__ import annotations

import csv
import io
from typing import Any
from unittest.mock import ANY

import pytest
import requests

from tests.helpers import admin_with_mfa, create_campaign, join, volunteer
from tests.test_crm_sync import World


def _export(api, world: World, kind: str, **extra: Any) -> dict[str, Any]:
    path = f"/campaigns/{world.cid}/exports"
    asked = api.post(path, {"kind": kind, **extra}, token=world.admin.token)
    assert asked.status == 202, asked
    assert asked.body["state"] == "running" and asked.body["kind"] == kind
    got = api.get(f"{path}/{asked.body['export_id']}", token=world.admin.token)
    assert got.status == 200, got
    return dict(got.body)


def _download(export: dict[str, Any]) -> list[list[str]]:
    assert export["state"] == "ready", export
    reply = requests.get(export["download_url"], timeout=30)
    assert reply.status_code == 200, reply.text
    assert "attachment" in reply.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(reply.content.decode())))


def _world(api, fakes) -> World:
    world = World(api, fakes, ["1001", "1002", "1003"])
    return world


def test_a_reports_export_holds_what_the_admin_sees_and_no_formula(api, fakes):
    world = _world(api, fakes)
    world.report("1001", "canvassed", world.yes)
    reply = api.post(
        f"/campaigns/{world.cid}/actions/{world.aid}/reports",
        {"list_row_id": world.rows["1002"], "result": "other", "notes": "=HYPERLINK(1)"},
        token=world.admin.token,
    )
    assert reply.status == 201, reply

    export = _export(api, world, "reports")
    assert export["rows"] == 2 and export["download_url_expires_at"] > export["created_at"]
    header, *rows = _download(export)
    assert header[:3] == ["report_id", "created_at", "action_id"]
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["contact_name"] for r in by_name] == ["P1002", "P1001"]  # newest first
    assert by_name[1]["answers"] == "Measure A?: Yes"
    assert by_name[1]["external_id"] == "1001" and by_name[1]["action"] == "Measure A doors"
    assert by_name[0]["notes"] == "'=HYPERLINK(1)"  # neutralised: shown as text


def test_a_members_export_holds_counts_never_contacts(api, fakes):
    world = _world(api, fakes)
    contacts = [{"name": "Secret Friend", "phones": ["+12025550177"]}]
    assert api.put("/me/contacts", {"contacts": contacts}, token=world.vol.token).status == 200
    header, *rows = _download(_export(api, world, "members"))
    members = {row[header.index("user_id")]: dict(zip(header, row, strict=True)) for row in rows}
    assert members[world.vol.user_id]["synced_contacts_count"] == "1"
    assert members[world.admin.user_id]["role"] == "admin"
    text = str(rows)
    assert "Secret Friend" not in text and "5550177" not in text


def test_an_audit_export_takes_since_and_is_itself_audited(api, fakes, stream):
    world = _world(api, fakes)
    stream.deliver("audit_consumer")
    header, *rows = _download(_export(api, world, "audit", since="2000-01-01T00:00:00Z"))
    events = {row[header.index("event")] for row in rows}
    assert {"action.created", "member.joined"} <= events
    stream.deliver("audit_consumer")
    trail = api.get(f"/campaigns/{world.cid}/audit", token=world.admin.token).body["items"]
    assert {"export.requested", "export.ready"} <= {e["event"] for e in trail}
    late = api.post(
        f"/campaigns/{world.cid}/exports",
        {"kind": "audit", "since": "tomorrow"},
        token=world.admin.token,
    )
    assert (late.status, late.body.get("Field")) == (400, "since")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "contacts"}, "kind"), ({}, "kind"), ({"kind": "reports", "since": 5}, "since")],
)
def test_a_bad_export_request_names_its_field(api, body, field):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    reply = api.post(f"/campaigns/{cid}/exports", body, token=admin.token)
    assert (reply.status, reply.body.get("Field")) == (400, field), reply


def test_a_large_export_goes_up_in_parts_across_invocations_once_each(
    api, raw_api, fakes, imports, monkeypatch
):
    """Each invocation sends a part and hands the rest on; a message delivered twice sends
    no row twice; the file is the rows in order, once."""
    from moto.s3 import models as s3_models

    from chalicelib.logic import exports

    world = _world(api, fakes)
    for i in range(7):
        world.report(["1001", "1002", "1003"][i % 3], "not_home")
    monkeypatch.setattr(exports, "PAGE", 2)
    monkeypatch.setattr(exports, "PART_BYTES", 1)  # a part a page
    monkeypatch.setattr(exports, "BUDGET", 0.0)  # an invocation a part
    monkeypatch.setattr(s3_models, "S3_UPLOAD_PART_MIN_SIZE", 1)

    path = f"/campaigns/{world.cid}/exports"
    asked = raw_api.post(path, {"kind": "reports"}, token=world.admin.token)  # queue left be
    assert asked.status == 202, asked
    export_id = asked.body["export_id"]
    exports.run(world.cid, export_id)  # a first part...
    exports.run(world.cid, export_id)  # ...and the same message delivered again
    imports.drain()
    got = api.get(f"{path}/{export_id}", token=world.admin.token).body
    _header, *rows = _download(got)
    report_ids = [row[0] for row in rows]
    assert len(report_ids) == 7 == len(set(report_ids)) == got["rows"]
    assert report_ids == sorted(report_ids, reverse=True)
    exports.run(world.cid, export_id)  # after it is ready: nothing more
    assert api.get(f"{path}/{export_id}", token=world.admin.token).body == {
        **got,
        "download_url": ANY,
        "download_url_expires_at": ANY,
    }


def test_an_export_that_cannot_be_written_fails_with_a_reason(api, fakes, monkeypatch):
    from chalicelib.logic import exports

    world = _world(api, fakes)

    def broken(self: Any, cursor: str | None) -> Any:
        raise RuntimeError("the table is unreachable")

    monkeypatch.setattr(exports._Source, "page", broken)
    export = _export(api, world, "members")
    assert export["state"] == "failed" and "ask for a new export" in export["error"]
    assert "download_url" not in export


@pytest.mark.parametrize("who", ["volunteer", "outsider"])
def test_only_the_campaigns_admins_export(api, fakes, who):
    world = _world(api, fakes)
    person = world.vol if who == "volunteer" else volunteer(api, "outsider")
    asked = api.post(f"/campaigns/{world.cid}/exports", {"kind": "members"}, token=person.token)
    expected = {"volunteer": 403, "outsider": 404}[who]
    assert asked.status == expected, asked
    mine = _export(api, world, "members")
    got = api.get(f"/campaigns/{world.cid}/exports/{mine['export_id']}", token=person.token)
    assert got.status == expected and "download_url" not in got.body
    other_admin = admin_with_mfa(api, "other")
    other = create_campaign(api, other_admin)
    join(api, other_admin, other, person)
    crossed = api.get(f"/campaigns/{other}/exports/{mine['export_id']}", token=other_admin.token)
    assert crossed.status == 404  # an export id of another campaign names nothing here


def test_a_campaigns_erasure_takes_its_export_files(api, fakes, stack):
    import boto3

    from chalicelib.dal import campaigns as campaigns_dal
    from chalicelib.logic import deletion

    world = _world(api, fakes)
    _download(_export(api, world, "members"))
    s3 = boto3.client("s3")
    prefix = f"exports/{world.cid}/"
    assert s3.list_objects_v2(Bucket=stack["DATA_BUCKET"], Prefix=prefix).get("KeyCount") == 1
    campaigns_dal.set_deletion_grace(world.cid, 0, "OPERATOR")
    body = {"confirm_name": "Campaign"}
    assert api.post(f"/campaigns/{world.cid}/deletion", body, token=world.admin.token).status == 202
    outcome = deletion.erase(world.cid)
    assert outcome.done and outcome.receipt is not None
    assert outcome.receipt.counts["export_file"] == 1 and outcome.receipt.counts["export"] == 1
    assert s3.list_objects_v2(Bucket=stack["DATA_BUCKET"], Prefix=prefix).get("KeyCount") == 0


@pytest.mark.parametrize(
    ("since", "rows"), [("2000-01-01T00:00:00Z", 2), ("2999-01-01T00:00:00Z", 0)]
)
def test_a_reports_export_since_a_moment_holds_the_reports_filed_from_then(api, fakes, since, rows):
    world = _world(api, fakes)
    world.report("1001", "canvassed")
    world.report("1002", "not_home")
    export = _export(api, world, "reports", since=since)
    assert export["since"] is not None and export["rows"] == rows
    header, *lines = _download(export)
    assert header[0] == "report_id" and len(lines) == rows
