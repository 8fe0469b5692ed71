"""Least privilege, proven by running code: each function's code path runs on the emulator
under the role the *packaged* template gives that function (tests/iam.py). A call its
role does not allow is refused as AWS would refuse it; a table its role allows but its
code never touches is a grant too many.

(Every route and stream test of the suite also runs under these roles, from the merge
template: `tests/conftest.py`.)
"""

from __future__ import annotations

import json
import re

import pytest

from infra.template import FUNCTIONS
from tests.deploy.cfn import Policy
from tests.helpers import admin_with_mfa, create_campaign, join, volunteer
from tests.iam import local_stack

SURVEY = {
    "type": "canvass",
    "title": "Doors",
    "status": "live",
    "questions": [{"text": "Support?", "responses": [{"text": "Yes"}, {"text": "No"}]}],
}


@pytest.fixture
def packaged_roles(packaged, stack, enforcer):
    """The enforcer holds the packaged template's roles, not the merge template's."""
    enforcer.configure(packaged.template, stack)
    return packaged.template


def _granted_tables(template, stack, function: str) -> set[str]:
    role = template["Resources"][f"{function}Role"]
    policy = Policy.of_role(role, local_stack(stack))
    tables = set()
    for resource in policy.resources("dynamodb"):
        match = re.search(r":table/([^/]+)", resource)
        if match and "/stream/" not in resource:
            tables.add(match.group(1))
    return tables


def _every_function_at_work(api, stream, chalice_client, stack, fakes):
    """A campaign's life through the API, the stream consumers and every schedule, with a
    CRM connected (VAN's stand-in)."""
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    van = fakes["van"]
    van.add_person(401)
    assert (
        api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token).status
        == 200
    )
    vol = volunteer(api)
    join(api, admin, cid, vol)
    contacts = [
        {"name": "Ann", "phones": ["2025550131"]},
        {"name": "Bob", "phones": ["2025550132"]},  # on the list, but not in VAN
    ]
    api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    rows = [
        {"external_id": "401", "first_name": "Ann", "phone": "+12025550131"},
        {"external_id": "402", "first_name": "Bob", "phone": "+12025550132"},
    ]
    body = {"name": "L", "rows": rows, "van_db_mode": 1}
    made = api.post(f"/campaigns/{cid}/lists", body, token=admin.token)
    assert made.status == 201, made
    action = api.post(
        f"/campaigns/{cid}/actions", SURVEY, token=admin.token, headers={"Idempotency-Key": "k1"}
    ).body
    mapping = {"actions": {action["action_id"]: {"results": {"not_home": 4}, "contact_type_id": 2}}}
    path = f"/campaigns/{cid}/integrations/van/instructions"
    assert api.put(path, mapping, token=admin.token).status == 200
    for contact in api.get("/me/contacts", token=vol.token).body["items"]:
        report = api.post(
            f"/campaigns/{cid}/actions/{action['action_id']}/reports",
            {"contact_id": contact["contact_id"], "result": "not_home"},
            token=vol.token,
        )
        assert report.status == 201, report
    assert api.get(f"/campaigns/{cid}/reports", token=admin.token).status == 200
    assert api.get(f"/campaigns/{cid}/stats", token=admin.token).status == 200
    for kind in ("reports", "audit"):  # written by the worker, downloaded through a link
        asked = api.post(f"/campaigns/{cid}/exports", {"kind": kind}, token=admin.token)
        assert asked.status == 202, asked
        path = f"/campaigns/{cid}/exports/{asked.body['export_id']}"
        assert api.get(path, token=admin.token).body["state"] == "ready"
    assert api.get(f"/campaigns/{cid}/audit", token=admin.token).status == 200

    records = stream.read()
    assert stream.deliver("audit_consumer", records) == {"batchItemFailures": []}
    # VAN is busy at first: the report waits for the retry schedule
    van.fail_next(429, times=10, retry_after="0", path=r"/people/\d+/canvassResponses")
    assert stream.deliver("crm_sync_consumer", records) == {"batchItemFailures": []}
    van.clear_faults()

    event = chalice_client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[],
        region=stack["AWS_DEFAULT_REGION"],
    )
    for handler in ("crm_sync_retry", "audit_archive", "logs_export"):
        chalice_client.lambda_.invoke(handler, event)
    # Bob's report failed (he is not in VAN): an admin sends it again, in the background
    retry = api.post(f"/campaigns/{cid}/integrations/van/retry", token=admin.token)
    assert retry.status == 202, retry

    # at last the campaign asks to be deleted, with no grace period: the hourly run erases it
    from chalicelib.dal import campaigns, deletion

    campaigns.set_deletion_grace(cid, 0, "OPERATOR")
    asked = api.post(f"/campaigns/{cid}/deletion", {"confirm_name": "Campaign"}, token=admin.token)
    assert asked.status == 202, asked
    assert stream.deliver("audit_consumer") == {"batchItemFailures": []}
    for _run in range(30):
        chalice_client.lambda_.invoke("campaign_erasure", event)
        if deletion.get(cid).state == "done":  # type: ignore[union-attr]
            break
    assert deletion.get(cid).state == "done"  # type: ignore[union-attr]
    assert stream.deliver("audit_consumer") == {"batchItemFailures": []}


def test_every_function_works_under_its_packaged_role_and_touches_every_table_it_may(
    api, stream, chalice_client, stack, enforcer, packaged_roles, monkeypatch, fakes
):
    # the archive and the export need a settled day with something in it
    from chalicelib.audit import logs_export

    monkeypatch.setattr(logs_export, "_wait", lambda task_id, deadline, poll: "COMPLETED")
    _every_function_at_work(api, stream, chalice_client, stack, fakes)
    assert fakes["van"].canvass_responses, _sync_states(stack)

    assert enforcer.denied() == []
    ran = {call.function for call in enforcer.calls}
    assert ran == {fn.name for fn in FUNCTIONS}, "every function made AWS calls"
    for fn in FUNCTIONS:
        touched = enforcer.tables_touched(fn.name)
        granted = _granted_tables(packaged_roles, stack, fn.name)
        assert touched == granted, f"{fn.name}: granted {granted}, touched {touched}"
        assert {stack[t] for t in _env_names(fn.tables)} == granted


def _sync_states(stack):
    import boto3

    from chalicelib.dal import integrations

    del integrations
    items = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"]).scan()["Items"]
    return [(i.get("state"), i.get("last_error")) for i in items if i.get("entity") == "sync"]


def _env_names(tables):
    return [
        {
            "MainTable": "MAIN_TABLE",
            "SessionsTable": "SESSIONS_TABLE",
            "OpsTable": "OPS_TABLE",
            "AuditTable": "AUDIT_TABLE",
            "KeysTable": "KEYS_TABLE",
        }[t]
        for t in tables
    ]


def test_a_call_the_role_does_not_allow_is_refused_as_aws_would(
    api, stack, enforcer, packaged_roles
):
    """Take kms:Encrypt away from the API's role: enrolling TOTP (which encrypts the
    secret) fails with AccessDenied, and nothing else is let through."""
    import copy

    weaker = copy.deepcopy(packaged_roles)
    statements = weaker["Resources"]["APIHandlerRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else []
        if "kms:Encrypt" in actions:
            actions.remove("kms:Encrypt")
    enforcer.configure(weaker, stack)
    from tests.helpers import sign_in, sign_up

    person = sign_in(api, sign_up(api))
    reply = api.post("/me/mfa/totp", token=person.token)
    assert reply.status == 500
    denied = {(c.function, c.action) for c in enforcer.denied()}
    assert denied == {("APIHandler", "kms:Encrypt")}
    enforcer.calls.clear()  # seen: the stack fixture would fail the test on them


def test_a_table_outside_the_role_is_refused(api, stack, enforcer, packaged_roles):
    """The audit consumer may read the main table's items (an erasure's receipt) but not
    the sessions: the same call on the other table is denied."""
    from chalicelib import aws

    with enforcer.acting_as("AuditConsumer"), pytest.raises(Exception) as refused:
        aws.dynamodb().get_item(TableName=stack["SESSIONS_TABLE"], Key={"pk": {"S": "x"}})
    assert "AccessDenied" in str(refused.value)
    with enforcer.acting_as("AuditConsumer"):
        aws.dynamodb().get_item(
            TableName=stack["MAIN_TABLE"], Key={"pk": {"S": "x"}, "sk": {"S": "y"}}
        )
    enforcer.calls[:] = [c for c in enforcer.calls if c.allowed]


def test_log_export_is_allowed_on_the_apps_log_group_only(stack, enforcer, packaged_roles):
    allowed = enforcer.requests(
        "logs", "CreateExportTask", {"logGroupName": stack["LOG_GROUP_NAME"]}
    )
    other = enforcer.requests("logs", "CreateExportTask", {"logGroupName": "/aws/lambda/other"})
    policy = enforcer.policies["LogsExport"]
    assert all(policy.allows(a, r, c) for a, r, c in allowed)
    assert not any(policy.allows(a, r, c) for a, r, c in other)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_every_function_that_sends_to_the_encrypted_queue_may_make_its_data_key(packaged, fn):
    """SQS encrypts with the app key on the sender's behalf: a role that may send but not
    make a data key is refused by AWS (the emulator does not check it)."""
    role = packaged.template["Resources"][fn.role]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    sends = any(
        "sqs:SendMessage" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        and "ImportQueue" in json.dumps(s["Resource"])
        for s in statements
    )
    if sends:
        assert "kms:GenerateDataKey" in actions, fn.name
