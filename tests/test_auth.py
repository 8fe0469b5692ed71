"""Sign-up, sign-in with TOTP, refresh, logout: what the app and the console see."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.helpers import (
    PASSWORD,
    Person,
    admin_with_mfa,
    enrol_totp,
    sign_in,
    sign_up,
    unique_email,
    volunteer,
)


def test_signup_then_login_gives_tokens_that_work(api):
    person = sign_up(api, "ann")
    reply = api.post("/auth/login", {"email": person.email.upper(), "password": PASSWORD})
    assert reply.status == 200
    assert set(reply.body) >= {"access_token", "refresh_token", "expires_in"}
    me = api.get("/me", token=reply.body["access_token"])
    assert me.status == 200
    assert me.body["user_id"] == person.user_id
    assert me.body["email"] == person.email
    assert me.body["mfa_enabled"] is False
    assert me.body["memberships"] == []


def test_signup_twice_is_a_conflict(api):
    person = sign_up(api)
    again = api.post("/auth/signup", {"email": person.email, "password": PASSWORD, "name": "X"})
    assert again.status == 409


NEW_EMAIL = object()  # stands for an address no one has signed up with


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"password": PASSWORD, "name": "X"}, "email", id="no-email"),
        pytest.param(
            {"email": "not-an-email", "password": PASSWORD, "name": "X"}, "email", id="bad-email"
        ),
        pytest.param(
            {"email": NEW_EMAIL, "password": "short", "name": "X"}, "password", id="short-password"
        ),
        pytest.param(
            {"email": NEW_EMAIL, "password": PASSWORD, "name": "  "}, "name", id="blank-name"
        ),
        pytest.param(
            {"email": NEW_EMAIL, "password": PASSWORD, "name": 5}, "name", id="name-not-text"
        ),
        pytest.param(
            {"email": NEW_EMAIL, "password": PASSWORD, "name": "X", "phone": "12"},
            "phone",
            id="bad-phone",
        ),
        pytest.param(
            {"email": NEW_EMAIL, "password": "alllowercase1", "name": "X"},
            "password",
            id="password-without-capitals",
        ),
    ],
)
def test_signup_names_the_bad_field(api, body, field):
    body = {k: unique_email() if v is NEW_EMAIL else v for k, v in body.items()}
    reply = api.post("/auth/signup", body)
    assert reply.status == 400, (body, reply)
    assert reply.body["Message"].startswith(field), (body, reply)


def test_signup_normalises_the_phone(api):
    email = unique_email()
    body = {"email": email, "password": PASSWORD, "name": "P", "phone": "(202) 555-0143"}
    assert api.post("/auth/signup", body).status == 201
    person = sign_in(api, Person(email=email, user_id=""))
    assert api.get("/me", token=person.token).body["phone"] == "+12025550143"


def test_wrong_password_and_unknown_email_answer_the_same(api):
    person = sign_up(api)
    wrong = api.post("/auth/login", {"email": person.email, "password": "Wrong-Pass-1"})
    unknown = api.post("/auth/login", {"email": unique_email(), "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body


def test_bad_json_is_a_400_naming_the_body(api):
    reply = api.call("POST", "/auth/login", raw="{not json")
    assert reply.status == 400
    assert "body" in reply.body["Message"]
    reply = api.post("/auth/login", ["a", "list"])
    assert reply.status == 400


def test_login_with_totp_needs_the_code(api):
    admin = admin_with_mfa(api)
    reply = api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert reply.status == 200
    assert reply.body["mfa_required"] is True
    assert "access_token" not in reply.body
    token = reply.body["mfa_token"]

    wrong = api.post("/auth/mfa", {"mfa_token": token, "code": "123456"})
    assert wrong.status == 401

    ok = api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()})
    assert ok.status == 200
    me = api.get("/me", token=ok.body["access_token"])
    assert me.status == 200
    assert me.body["mfa_enabled"] is True
    assert me.body["mfa_verified"] is True

    # the challenge is spent
    again = api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()})
    assert again.status == 401


def test_a_code_is_accepted_once(api):
    admin = admin_with_mfa(api)
    code = admin.code()
    first = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    assert api.post("/auth/mfa", {"mfa_token": first["mfa_token"], "code": code}).status == 200
    second = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    replay = api.post("/auth/mfa", {"mfa_token": second["mfa_token"], "code": code})
    assert replay.status == 401


def test_codes_outside_the_window_are_refused(api):
    admin = admin_with_mfa(api)
    challenge = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    stale = pyotp.TOTP(admin.totp_secret).at(time.time() - 120)
    assert api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": stale}).status == 401


def test_the_challenge_dies_after_five_wrong_codes(api):
    admin = admin_with_mfa(api)
    challenge = api.post("/auth/login", {"email": admin.email, "password": PASSWORD}).body
    for _ in range(5):
        api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": "000000"})
    late = api.post("/auth/mfa", {"mfa_token": challenge["mfa_token"], "code": admin.code()})
    assert late.status == 401


def test_the_login_access_token_of_an_mfa_user_is_never_usable(api):
    """The tokens Cognito issues at password time never leave the backend."""
    admin = admin_with_mfa(api)
    reply = api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert set(reply.body) == {"mfa_required", "mfa_token"}


def test_refresh_keeps_the_mfa_level(api):
    admin = admin_with_mfa(api)
    sign_in(api, admin)  # through /auth/mfa
    refreshed = api.post("/auth/refresh", {"refresh_token": admin.refresh_token})
    assert refreshed.status == 200
    token = refreshed.body["access_token"]
    assert api.get("/me", token=token).body["mfa_verified"] is True

    vol = volunteer(api)
    refreshed = api.post("/auth/refresh", {"refresh_token": vol.refresh_token})
    assert refreshed.status == 200
    assert api.get("/me", token=refreshed.body["access_token"]).body["mfa_verified"] is False


def test_refresh_with_an_unknown_token_is_401(api):
    assert api.post("/auth/refresh", {"refresh_token": "nope"}).status == 401


def test_logout_ends_the_session_at_once(api):
    vol = volunteer(api)
    assert api.get("/me", token=vol.token).status == 200
    assert api.post("/auth/logout", token=vol.token).status == 204
    after = api.get("/me", token=vol.token)
    assert after.status == 401
    assert api.post("/auth/refresh", {"refresh_token": vol.refresh_token}).status == 401


def test_other_sessions_survive_a_logout(api):
    vol = volunteer(api)
    other = sign_in(api, Person(email=vol.email, user_id=vol.user_id))
    api.post("/auth/logout", token=vol.token)
    assert api.get("/me", token=other.token).status == 200


def _forged(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[::-1]}"


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda token: "garbage", id="garbage"),
        pytest.param(_forged, id="forged-signature"),
        pytest.param(lambda token: token + "x", id="trailing-character"),
    ],
)
def test_garbage_and_forged_tokens_are_401(api, spoil):
    vol = volunteer(api)
    token = spoil(vol.token)
    reply = api.get("/me", token=token)
    assert reply.status == 401, token
    assert reply.body["Code"] == "UnauthorizedError"


def test_a_basic_or_missing_authorization_is_401(api):
    assert api.get("/me", headers={"Authorization": "Basic abc"}).status == 401
    assert api.get("/me").status == 401


def test_totp_enrolment(api):
    vol = volunteer(api)
    start = api.post("/me/mfa/totp", token=vol.token)
    assert start.status == 201
    assert start.body["otpauth_uri"].startswith("otpauth://totp/")
    assert vol.email.replace("@", "%40") in start.body["otpauth_uri"]
    vol.totp_secret = start.body["secret"]

    wrong = api.post("/me/mfa/totp/verify", {"code": "000000"}, token=vol.token)
    assert wrong.status == 400
    assert wrong.body["Message"].startswith("code")
    # not enabled yet: logging in still needs no code
    assert api.get("/me", token=vol.token).body["mfa_enabled"] is False

    ok = api.post("/me/mfa/totp/verify", {"code": vol.code()}, token=vol.token)
    assert ok.status == 200
    assert ok.body == {"mfa_enabled": True}
    me = api.get("/me", token=vol.token).body
    assert me["mfa_enabled"] is True
    assert me["mfa_verified"] is True  # this session counts as MFA-verified now

    assert api.post("/me/mfa/totp", token=vol.token).status == 409
    login = api.post("/auth/login", {"email": vol.email, "password": PASSWORD})
    assert login.body["mfa_required"] is True


def test_verify_without_enrolment_is_a_conflict(api):
    vol = volunteer(api)
    assert api.post("/me/mfa/totp/verify", {"code": "123456"}, token=vol.token).status == 409


def test_the_totp_secret_is_stored_encrypted(api, stack):
    import boto3

    vol = enrol_totp(api, volunteer(api))
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    item = table.get_item(Key={"pk": f"USER#{vol.user_id}", "sk": "TOTP"})["Item"]
    assert vol.totp_secret not in str(item)
    assert item["verified"] is True


def test_login_attempts_are_throttled_per_email(api):
    person = sign_up(api)
    statuses = [
        api.post("/auth/login", {"email": person.email, "password": "Wrong-Pass-1"}).status
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    throttled = api.post("/auth/login", {"email": person.email, "password": PASSWORD})
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.body["Code"] == "TooManyRequestsError"


def test_someone_elses_wrong_passwords_do_not_lock_the_owner_out(stack):
    """An attacker spends the allowance of their own source only: the owner, elsewhere,
    signs in at once."""
    from chalicelib.auth.cognito import Tokens
    from chalicelib.errors import NotAuthenticated, Throttled
    from chalicelib.logic import auth_flows

    email = "owner@example.org"
    auth_flows.sign_up(email, PASSWORD, "Owner", None, "198.51.100.20")
    outcomes = []
    for _ in range(12):
        try:
            auth_flows.login(email, "Wrong-Pass-1", "203.0.113.7")
        except NotAuthenticated:
            outcomes.append(401)
        except Throttled:
            outcomes.append(429)
    assert outcomes == [401] * 10 + [429, 429]
    assert isinstance(auth_flows.login(email, PASSWORD, "198.51.100.20"), Tokens)


def test_a_distributed_attack_trips_the_per_email_bound_and_is_counted(stack, monkeypatch):
    from chalicelib import observability
    from chalicelib.errors import NotAuthenticated, Throttled
    from chalicelib.logic import auth_flows, throttle

    monkeypatch.setitem(throttle.LIMITS, "login-email", (5, 300))
    counted: list[str] = []
    monkeypatch.setattr(throttle, "count", lambda name, value=1: counted.append(name))
    outcomes = []
    for i in range(7):
        try:
            auth_flows.login("target@example.org", "Wrong-Pass-1", f"203.0.113.{i}")
        except NotAuthenticated:
            outcomes.append(401)
        except Throttled:
            outcomes.append(429)
    assert outcomes == [401] * 5 + [429, 429]
    assert counted == ["SignInThrottled", "SignInThrottled"]
    assert "SignInThrottled" in observability.METRICS


def test_the_failed_sign_in_audit_names_an_unknown_email_by_a_keyed_hash(api, stack):
    import hashlib

    import boto3

    from chalicelib.audit import store

    api.post("/auth/login", {"email": "nobody@example.org", "password": "Wrong-Pass-1"})
    target = store.anonymous_target("nobody@example.org")
    assert target != hashlib.sha256(b"nobody@example.org").hexdigest()[: len(target)]
    records = boto3.resource("dynamodb").Table(stack["AUDIT_TABLE"]).scan()["Items"]
    failed = [r for r in records if r.get("event") == "auth.login"]
    assert failed and all(r["target"] == f"email:{target}" for r in failed)
    assert "nobody" not in str(failed)
