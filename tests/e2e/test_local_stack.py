"""`make run`'s stack, tried over HTTP as a new user would try it with curl."""

from __future__ import annotations

import pyotp
import pytest

from devstack.child import start
from devstack.proc import listening
from tests.helpers import admin_with_mfa, create_campaign, volunteer


def test_health_and_headers_over_http(http_api):
    reply = http_api.get("/health")
    assert reply.status == 200
    assert reply.body == {"status": "ok"}
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Strict-Transport-Security"]
    assert reply.headers["X-Request-Id"]
    # the gateway's own answers look like the app's
    reply = http_api.get("/me")
    assert reply.status == 401
    assert set(reply.body) == {"Code", "Message"}
    assert reply.headers["X-Request-Id"]
    assert reply.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize("path", ["/health", "/me", "/no-such-route"])
def test_no_answer_names_the_server_software(http_api, path):
    server = http_api.get(path).headers.get("Server", "")
    assert "python" not in server.lower() and "werkzeug" not in server.lower(), server


def test_the_demo_admin_signs_in_with_totp_and_runs_an_action(http_api, local_stack):
    email = local_stack.value("admin")
    password = local_stack.value(f"admin\\s+{email} /")
    secret = local_stack.value("TOTP secret")
    cid = local_stack.value("campaign")
    aid = local_stack.value("action")

    login = http_api.post("/auth/login", {"email": email, "password": password})
    assert login.status == 200 and login.body["mfa_required"] is True
    code = pyotp.TOTP(secret).now()
    tokens = http_api.post("/auth/mfa", {"mfa_token": login.body["mfa_token"], "code": code})
    assert tokens.status == 200, tokens
    token = tokens.body["access_token"]

    me = http_api.get("/me", token=token).body
    assert {"campaign_id": cid, "campaign_name": "Demo Campaign", "role": "admin"} in me[
        "memberships"
    ]

    vol_email = local_stack.value("volunteer")
    vol = http_api.post("/auth/login", {"email": vol_email, "password": password}).body
    listed = http_api.get(f"/campaigns/{cid}/actions", token=vol["access_token"]).body
    assert aid in [a["action_id"] for a in listed["items"]]

    assert http_api.delete(f"/campaigns/{cid}/actions/{aid}", token=token).status == 204
    assert http_api.get(f"/campaigns/{cid}/actions/{aid}", token=vol["access_token"]).status == 404
    restored = http_api.post(f"/campaigns/{cid}/actions/{aid}/restore", token=token)
    assert restored.status == 200 and restored.body["deleted_at"] is None
    assert http_api.get(f"/campaigns/{cid}/actions/{aid}", token=vol["access_token"]).status == 200

    assert http_api.post("/auth/logout", token=token).status == 204
    assert http_api.get("/me", token=token).status == 401


def test_new_users_over_http(http_api):
    admin = admin_with_mfa(http_api)
    cid = create_campaign(http_api, admin, "Over HTTP")
    vol = volunteer(http_api)
    assert http_api.get(f"/campaigns/{cid}", token=vol.token).status == 404
    assert http_api.get(f"/campaigns/{cid}/members", token=admin.token).status == 200


def test_sigterm_stops_everything():
    stack = start({"SEED": "false"})
    assert listening(stack.port) and listening(stack.emulator_port)
    assert stack.stop() == 0, "".join(stack.output[-80:])
    assert not listening(stack.port)
    assert not listening(stack.emulator_port)
    assert any("Stopped." in line for line in stack.output)
