"""The audit trail over HTTP against the local stack, and the archive job on it."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime, timedelta

from tests.helpers import PASSWORD, admin_with_mfa, create_campaign, join, volunteer


def _wait_for(api, path, token, predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while True:
        items = api.get(path, token=token).body["items"]
        if predicate(items) or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_changes_and_sign_ins_reach_the_audit_and_the_archive(http_api, local_stack, operator):
    api = http_api
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    aid = api.post(
        f"/campaigns/{cid}/actions", {"type": "call", "title": "Calls"}, token=admin.token
    ).body["action_id"]
    assert api.delete(f"/campaigns/{cid}/actions/{aid}", token=admin.token).status == 204
    assert api.post(f"/campaigns/{cid}/actions/{aid}/restore", token=admin.token).status == 200
    assert (
        api.patch(
            f"/campaigns/{cid}/members/{vol.user_id}", {"role": "admin"}, token=admin.token
        ).status
        == 200
    )
    assert api.post("/auth/login", {"email": vol.email, "password": "Wrong-Pass-1"}).status == 401

    wanted = {"action.deleted", "action.restored", "member.role_changed"}
    items = _wait_for(
        api, f"/campaigns/{cid}/audit", admin.token, lambda got: wanted <= {i["event"] for i in got}
    )
    events = {i["event"]: i for i in items}
    assert wanted <= set(events)
    assert events["member.role_changed"]["values"] == {"role": "admin"}
    assert events["action.deleted"]["actor_id"] == admin.user_id
    # the failed sign-in is in the log
    assert any(
        '"event":"login"' in line and '"outcome":"failure"' in line for line in local_stack.output
    )
    assert PASSWORD not in "".join(local_stack.output)

    # the archive job, run as an operator would, with the stack's settings
    env = operator.env
    today = datetime.now(UTC).date()
    run = operator.run("tools.audit_archive", "run", "--today", str(today + timedelta(days=2)))
    assert run.returncode == 0, run.stderr
    s3 = operator.client("s3")
    prefix = f"audit/{today:%Y/%m/%d}/"
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=env["LOG_BUCKET"], Prefix=prefix)["Contents"]
    ]
    assert f"{prefix}digest.json" in keys
    part = next(k for k in keys if k.endswith(".jsonl.gz"))
    body = s3.get_object(Bucket=env["LOG_BUCKET"], Key=part)["Body"].read()
    archived = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert {"action.deleted", "action.restored", "member.role_changed"} <= {
        r["event"] for r in archived
    }
    verify = operator.run("tools.audit_archive", "verify", "--from", str(today), "--to", str(today))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_after_a_refused_transaction_audit_and_sync_go_on(http_api, local_stack):
    """A transaction the table refuses (removing a campaign's only admin) must not stop the
    stream's consumers: the changes after it still reach the audit."""
    api = http_api
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    refused = api.delete(f"/campaigns/{cid}/members/{admin.user_id}", token=admin.token)
    assert refused.status == 409, refused
    aid = api.post(
        f"/campaigns/{cid}/actions", {"type": "call", "title": "After"}, token=admin.token
    ).body["action_id"]
    assert api.delete(f"/campaigns/{cid}/actions/{aid}", token=admin.token).status == 204
    items = _wait_for(
        api,
        f"/campaigns/{cid}/audit",
        admin.token,
        lambda got: {"action.created", "action.deleted"} <= {i["event"] for i in got},
    )
    assert {"action.created", "action.deleted"} <= {i["event"] for i in items}
