"""What every response carries, and what the logs record (and never record)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import PASSWORD, admin_with_mfa, sign_up, volunteer


def _parsed(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("ask", "cache_control"),
    [
        pytest.param(lambda api, vol: api.get("/health"), None, id="health"),
        pytest.param(lambda api, vol: api.get("/me", token=vol.token), "no-store", id="ok"),
        pytest.param(lambda api, vol: api.get("/me", token="garbage"), "no-store", id="bad-token"),
        pytest.param(lambda api, vol: api.get("/me"), "no-store", id="no-token"),
        pytest.param(lambda api, vol: api.post("/auth/login", {}), "no-store", id="bad-input"),
        pytest.param(
            lambda api, vol: api.get("/campaigns/none", token=vol.token), "no-store", id="not-found"
        ),
    ],
)
def test_security_headers_on_every_kind_of_response(api, ask, cache_control):
    vol = volunteer(api)
    reply = ask(api, vol)
    assert reply.headers["Strict-Transport-Security"].startswith("max-age="), reply
    assert reply.headers["X-Content-Type-Options"] == "nosniff", reply
    assert reply.headers["X-Request-Id"], reply
    csp = reply.headers["Content-Security-Policy"]
    assert csp == "default-src 'none'; frame-ancestors 'none'", reply
    if cache_control is None:
        assert "Cache-Control" not in reply.headers
    else:
        assert reply.headers["Cache-Control"] == cache_control, reply


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer x.y.z"}],
    ids=["missing", "malformed", "bad"],
)
def test_without_a_good_token_a_route_answers_401_in_the_apis_shape(api, log_lines, headers):
    """The API function checks the token itself (no authorizer in front): a missing, a
    malformed and a bad token each get the same shape, and the log names no user."""
    log_lines.clear()
    reply = api.get("/me", headers=headers)
    assert reply.status == 401, (headers, reply)
    assert set(reply.body) == {"Code", "Message"}
    assert reply.body["Code"] == "UnauthorizedError"
    requests = [line for line in _parsed(log_lines) if line.get("kind") == "request"]
    assert [line["status"] for line in requests] == [401]
    assert all(line.get("user_id") is None for line in requests)
    failures = [line for line in _parsed(log_lines) if line.get("kind") == "auth"]
    assert [line["outcome"] for line in failures] == ["failure"]
    assert not any("x.y.z" in line for line in log_lines)


def test_answers_that_carry_tokens_are_never_stored(api):
    person = sign_up(api)
    login = api.post("/auth/login", {"email": person.email, "password": PASSWORD})
    refresh = api.post("/auth/refresh", {"refresh_token": login.body["refresh_token"]})
    assert login.status == refresh.status == 200
    for reply in (login, refresh):
        assert reply.headers["Cache-Control"] == "no-store", reply


def test_errors_have_chalices_shape(api):
    reply = api.post("/auth/login", {"email": "x@example.org"})
    assert reply.status == 400
    assert set(reply.body) == {"Code", "Message", "Field"}
    assert reply.body["Code"] == "BadRequestError"
    assert reply.body["Message"].startswith("password")
    assert reply.body["Field"] == "password"


def test_errors_carry_a_reason_clients_branch_on(api):
    person = volunteer(api)
    reply = api.post("/campaigns", {"name": "C"}, token=person.token)
    assert reply.status == 403
    assert reply.body["Reason"] == "mfa_required"
    assert reply.body["Code"] == "ForbiddenError"


def test_one_log_line_per_request(api, log_lines):
    vol = volunteer(api)
    log_lines.clear()
    api.get("/me", token=vol.token, headers={"User-Agent": "field-app/1.0"})
    requests = [line for line in _parsed(log_lines) if line.get("kind") == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["method"] == "GET"
    assert line["route"] == "/me"
    assert line["status"] == 200
    assert line["user_id"] == vol.user_id
    assert line["source_ip"]
    assert line["user_agent"] == "field-app/1.0"
    assert isinstance(line["latency_ms"], float | int)
    assert line["request_id"] == line["correlation_id"]


def test_auth_attempts_are_logged_without_secrets(api, log_lines):
    admin = admin_with_mfa(api)
    person = sign_up(api)
    api.post("/auth/login", {"email": person.email, "password": "Wrong-Pass-1"})
    challenge = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": "000000"})
    code = admin.code()
    ok = api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": code}).body
    api.post("/auth/refresh", {"refresh_token": ok["refresh_token"]})
    api.post("/auth/logout", token=ok["access_token"])
    out = "\n".join(log_lines)
    auth = [line for line in _parsed(log_lines) if line.get("kind") == "auth"]
    seen = {(line["event"], line["outcome"]) for line in auth}
    assert {
        ("login", "failure"),
        ("login", "mfa_required"),
        ("mfa", "failure"),
        ("mfa", "success"),
        ("refresh", "success"),
        ("logout", "success"),
    } <= seen
    for secret in (
        PASSWORD,
        "Wrong-Pass-1",
        code,
        challenge["mfa_token"],
        ok["refresh_token"],
        ok["access_token"],
        admin.totp_secret,
    ):
        assert secret not in out
