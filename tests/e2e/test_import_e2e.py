"""A 200,000-row voter file over HTTP through the presigned upload, on a local stack whose
DynamoDB is DynamoDB Local, stopped hard in the middle of the import and started again.

The emulator (S3, SQS, Cognito, KMS) and DynamoDB Local run in this test's process, so they
outlive the stack: the second stack takes the first one's settings and finds the import
where it was (a chunk the first was writing comes back after the queue's visibility
timeout, 30 s locally, and is counted once)."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator

import boto3
import pytest
import requests

from devstack import ddblocal
from devstack.child import ROOT, LocalStack, start
from devstack.stack import Emulator
from tests.e2e.conftest import Operator
from tests.helpers import Api, admin_with_mfa, create_action, http_transport, join, volunteer

ROWS = 200_000
BAD_ROWS = {7: "external_id", 123_457: "phone", 199_998: "email"}  # row number -> field


def _phone(n: int) -> str:
    return f"+1{202 + n // 8_000_000:03d}{200 + n // 10_000 % 800:03d}{n % 10_000:04d}"


def _csv() -> bytes:
    lines = ["external_id,first_name,last_name,phone,email\n"]
    for n in range(1, ROWS + 1):
        external, phone, email = f"V{n}", _phone(n), f"voter{n}@example.org"
        if BAD_ROWS.get(n) == "external_id":
            external = ""
        elif BAD_ROWS.get(n) == "phone":
            phone = "not a phone"
        elif BAD_ROWS.get(n) == "email":
            email = "not-an-email"
        lines.append(f"{external},First{n},Last{n},{phone},{email}\n")
    return "".join(lines).encode()


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[str, str]]:
    emulator = Emulator.start()
    emulator.reset()
    try:
        with ddblocal.running() as server:
            yield emulator.endpoint, server.endpoint
    finally:
        emulator.stop()


def _settings_file(stack: LocalStack, tmp_path) -> str:
    """A copy of the stack's settings (the stack removes its own when it stops)."""
    env_file = next(
        line.split(". ", 1)[1].split(";")[0].strip()
        for line in stack.output
        if "Operator commands on this stack" in line
    )
    copy = tmp_path / "settings.env"
    shutil.copy(ROOT / env_file, copy)
    return str(copy)


def _wait(predicate, seconds: float, every: float = 1.0):
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def test_a_large_upload_survives_a_stopped_stack_and_imports_exactly(engines, tmp_path):
    emulator_url, ddb_url = engines
    env = {"EMULATOR_URL": emulator_url, "DYNAMODB_URL": ddb_url, "SEED": "false"}
    first = start(env, timeout=180)
    try:
        api = Api(http_transport(first.base_url))
        admin = admin_with_mfa(api)
        cid = api.post("/campaigns", {"name": "Statewide"}, token=admin.token).body["campaign_id"]
        vol = volunteer(api)
        join(api, admin, cid, vol)
        last = {"contacts": [{"name": "Late Row", "phones": [_phone(ROWS)]}]}
        assert api.put("/me/contacts", last, token=vol.token).status == 200
        aid = create_action(api, admin, cid)["action_id"]

        started = api.post(f"/campaigns/{cid}/lists/uploads", {"name": "Voters"}, token=admin.token)
        assert started.status == 201, started
        list_id = started.body["list_id"]
        put = requests.put(started.body["upload_url"], data=_csv(), timeout=120)
        assert put.status_code == 200, put.text
        path = f"/campaigns/{cid}/lists/{list_id}"

        def importing_some():
            body = api.get(path, token=admin.token).body
            return (
                body if body["state"] == "importing" and body["rows_imported"] >= 20_000 else None
            )

        midway = _wait(importing_some, 300)
        assert midway, api.get(path, token=admin.token).body
        assert midway["rows_total"] == ROWS
        # the last row's contact is not matched while its list imports
        [contact] = api.get("/me/contacts", token=vol.token).body["items"]
        filed = api.post(
            f"/campaigns/{cid}/actions/{aid}/reports",
            {"contact_id": contact["contact_id"], "result": "not_home"},
            token=vol.token,
        )
        assert filed.status == 201
        reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
        assert reports[0]["contact"]["external_id"] is None

        settings = _settings_file(first, tmp_path)
        first.process.send_signal(signal.SIGKILL)  # no goodbye: mid-chunk, mid-batch
        first.stop()
    finally:
        if first.process.poll() is None:
            first.stop()

    second = start({**env, "SETTINGS_FILE": settings}, timeout=180)
    try:
        api = Api(http_transport(second.base_url))

        def ready():
            body = api.get(path, token=admin.token).body
            return body if body["state"] in ("ready", "failed") else None

        admin_again = admin  # the same account on the same emulator: sign in again
        from tests.helpers import sign_in

        sign_in(api, admin_again)
        done = _wait(ready, 900, every=3)
        assert done and done["state"] == "ready", api.get(path, token=admin.token).body
        assert done["rows_total"] == ROWS
        assert done["rows_imported"] == ROWS - 1  # the row without an external id
        assert done["rows_rejected"] == 1
        assert [(e["row"], e["field"]) for e in done["errors"]] == sorted(BAD_ROWS.items())

        # in the table: every row once, none missing (keys are the row numbers)
        ddb = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        ).client("dynamodb", endpoint_url=ddb_url)
        operator = Operator(second)
        table = operator.env["MAIN_TABLE"]
        stored = 0
        for page in ddb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :row)",
            ExpressionAttributeValues={":pk": {"S": f"LIST#{list_id}"}, ":row": {"S": "ROW#"}},
            Select="COUNT",
        ):
            stored += page["Count"]
        assert stored == ROWS - 1

        # now it matches
        [contact] = api.get("/me/contacts", token=sign_in(api, vol).token).body["items"]
        api.post(
            f"/campaigns/{cid}/actions/{aid}/reports",
            {"contact_id": contact["contact_id"], "result": "canvassed"},
            token=vol.token,
        )
        reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
        assert {r["contact"]["external_id"] for r in reports} == {None, f"V{ROWS}"}
    finally:
        second.stop()
        os.environ.pop("SETTINGS_FILE", None)
