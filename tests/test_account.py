"""The account's lifecycle: sessions seen and ended, a password changed or reset, and what
an attacker holding an old token or guessing codes gets from it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import PASSWORD, sign_in, sign_up, volunteer

NEW_PASSWORD = "Brand-New-Pass-42"


@pytest.fixture(autouse=True)
def many_requests(monkeypatch):
    from chalicelib.logic import throttle

    for bucket in ("login-email-ip", "login-ip", "reset-ip", "reset-email"):
        monkeypatch.setitem(throttle.LIMITS, bucket, (1000, 300))


def _second_device(api, person):
    """Another sign-in of the same person: (access token, refresh token)."""
    reply = api.post(
        "/auth/login",
        {"email": person.email, "password": PASSWORD},
        headers={"User-Agent": "other-phone/2.0"},
    )
    assert reply.status == 200, reply
    return reply.body["access_token"], reply.body["refresh_token"]


def test_a_user_sees_their_sessions_and_ends_one_at_once(api):
    vol = volunteer(api)
    other_access, other_refresh = _second_device(api, vol)
    listed = api.get("/me/sessions", token=vol.token).body["items"]
    assert len(listed) == 2
    assert sum(s["current"] for s in listed) == 1
    other = next(s for s in listed if not s["current"])
    assert other["user_agent"] == "other-phone/2.0"
    assert api.delete(f"/me/sessions/{other['session_id']}", token=vol.token).status == 204
    assert api.get("/me", token=other_access).status == 401
    assert api.post("/auth/refresh", {"refresh_token": other_refresh}).status == 401
    assert api.get("/me", token=vol.token).status == 200


def test_no_one_can_end_someone_elses_session(api):
    vol, attacker = volunteer(api), volunteer(api, "attacker")
    mine = api.get("/me/sessions", token=vol.token).body["items"][0]["session_id"]
    assert api.delete(f"/me/sessions/{mine}", token=attacker.token).status == 404
    assert api.get("/me", token=vol.token).status == 200
    assert mine not in str(api.get("/me/sessions", token=attacker.token).body)


def test_signing_out_everywhere_else_keeps_this_session(api):
    vol = volunteer(api)
    devices = [_second_device(api, vol) for _ in range(3)]
    assert api.delete("/me/sessions", token=vol.token).status == 204
    for access, refresh in devices:
        assert api.get("/me", token=access).status == 401
        assert api.post("/auth/refresh", {"refresh_token": refresh}).status == 401
    assert api.get("/me", token=vol.token).status == 200


def test_a_password_change_ends_every_other_session_and_old_tokens(api):
    vol = volunteer(api)
    stolen_access, stolen_refresh = _second_device(api, vol)
    wrong = api.post(
        "/me/password",
        {"current_password": "Wrong-Pass-1", "new_password": NEW_PASSWORD},
        token=vol.token,
    )
    assert wrong.status == 400 and wrong.body["Field"] == "current_password"
    assert api.get("/me", token=stolen_access).status == 200  # nothing changed yet
    changed = api.post(
        "/me/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        token=vol.token,
    )
    assert changed.status == 204, changed
    assert api.get("/me", token=stolen_access).status == 401
    assert api.post("/auth/refresh", {"refresh_token": stolen_refresh}).status == 401
    assert api.get("/me", token=vol.token).status == 200
    assert api.post("/auth/login", {"email": vol.email, "password": PASSWORD}).status == 401
    assert api.post("/auth/login", {"email": vol.email, "password": NEW_PASSWORD}).status == 200


def test_a_weak_new_password_is_refused_naming_the_field(api):
    vol = volunteer(api)
    reply = api.post(
        "/me/password", {"current_password": PASSWORD, "new_password": "short"}, token=vol.token
    )
    assert reply.status == 400 and reply.body["Field"] == "new_password"


def test_forgot_answers_alike_and_resets_with_the_mailed_code(api, outbox):
    person = sign_up(api)
    sign_in(api, person)
    known = api.post("/auth/password/forgot", {"email": person.email})
    unknown = api.post("/auth/password/forgot", {"email": "nobody-here@example.org"})
    assert known.status == unknown.status == 202 and known.body == unknown.body
    (mail,) = [m for m in outbox() if m["kind"] == "password_reset"]
    assert mail["to"] == person.email and len(mail["code"]) == 8
    reset = api.post(
        "/auth/password/reset",
        {"email": person.email, "code": mail["code"], "password": NEW_PASSWORD},
    )
    assert reset.status == 204, reset
    assert api.get("/me", token=person.token).status == 401  # every session ended
    assert api.post("/auth/login", {"email": person.email, "password": NEW_PASSWORD}).status == 200
    again = api.post(
        "/auth/password/reset",
        {"email": person.email, "code": mail["code"], "password": "Third-Pass-777"},
    )
    assert again.status == 400 and again.body["Field"] == "code"  # a code works once


def test_reset_codes_cannot_be_guessed_even_at_once(api, outbox, monkeypatch):
    from chalicelib.logic import account

    person = sign_up(api)
    api.post("/auth/password/forgot", {"email": person.email})
    (mail,) = [m for m in outbox() if m["kind"] == "password_reset"]
    guesses = [f"{n:08d}" for n in range(20) if f"{n:08d}" != mail["code"]]
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda code: api.post(
                    "/auth/password/reset",
                    {"email": person.email, "code": code, "password": NEW_PASSWORD},
                ),
                guesses,
            )
        )
    assert {r.status for r in replies} == {400}
    # the code had RESET_CODE_TRIES tries in all: the right one is spent now too
    late = api.post(
        "/auth/password/reset",
        {"email": person.email, "code": mail["code"], "password": NEW_PASSWORD},
    )
    assert late.status == 400
    assert account.RESET_CODE_TRIES <= 5
    assert api.post("/auth/login", {"email": person.email, "password": PASSWORD}).status == 200


@pytest.fixture
def confirming(monkeypatch):
    """A deployment that confirms sign-ups (as the packaged stage does)."""
    from chalicelib import config

    monkeypatch.setenv("AUTO_CONFIRM_SIGNUP", "false")
    config.reset()
    yield
    config.reset()


def test_a_sign_up_is_confirmed_with_the_code_sent_to_the_address(api, outbox, confirming):
    from tests.helpers import unique_email

    email = unique_email("confirm")
    body = {"email": email, "password": PASSWORD, "name": "Cy"}
    assert api.post("/auth/signup", body).status == 201
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status == 401
    (mail,) = [m for m in outbox() if m["kind"] == "confirm_signup"]
    assert mail["to"] == email
    wrong = api.post("/auth/confirm", {"email": email, "code": "00000000"})
    assert wrong.status == 400 and wrong.body["Field"] == "code"
    assert api.post("/auth/confirm", {"email": email, "code": mail["code"]}).status == 204
    assert api.post("/auth/login", {"email": email, "password": PASSWORD}).status == 200
    # a confirmed account gets no more codes, and the answer does not say so
    assert api.post("/auth/confirm/resend", {"email": email}).status == 202
    assert len([m for m in outbox() if m["kind"] == "confirm_signup"]) == 1


def test_resend_answers_alike_and_only_the_latest_code_works(api, outbox, confirming):
    from tests.helpers import unique_email

    email = unique_email("late")
    api.post("/auth/signup", {"email": email, "password": PASSWORD, "name": "Di"})
    first = api.post("/auth/confirm/resend", {"email": email})
    nobody = api.post("/auth/confirm/resend", {"email": unique_email("nobody")})
    assert first.status == nobody.status == 202 and first.body == nobody.body
    old, new = [m["code"] for m in outbox() if m["kind"] == "confirm_signup"]
    if old != new:
        assert api.post("/auth/confirm", {"email": email, "code": old}).status == 400
    assert api.post("/auth/confirm", {"email": email, "code": new}).status == 204


def test_deleting_the_account_erases_what_is_the_users_and_keeps_the_reports(api, stack):
    import boto3

    from tests.helpers import admin_with_mfa, create_action, create_campaign, join

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    api.put(
        "/me/contacts", {"contacts": [{"name": "Ann", "phones": ["2025550181"]}]}, token=vol.token
    )
    contact = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    aid = create_action(api, admin, cid)["action_id"]
    filed = api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": contact, "result": "other"},
        token=vol.token,
    )
    assert filed.status == 201
    other_access, _ = _second_device(api, vol)

    wrong = api.call("DELETE", "/me", {"password": "Wrong-Pass-1"}, token=vol.token)
    assert wrong.status == 400 and wrong.body["Field"] == "password"
    gone = api.call("DELETE", "/me", {"password": PASSWORD}, token=vol.token)
    assert gone.status == 204, gone

    assert api.get("/me", token=vol.token).status == 401
    assert api.get("/me", token=other_access).status == 401
    assert api.post("/auth/login", {"email": vol.email, "password": PASSWORD}).status == 401
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    assert vol.user_id not in {m["user_id"] for m in members}
    (report,) = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert report["report_id"] == filed.body["report_id"] and report["user_id"] is None
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    left = [i for i in table.scan()["Items"] if i["pk"] == f"USER#{vol.user_id}"]
    assert left == []  # profile, TOTP, contacts: nothing of the user's own is left


def test_the_only_admin_cannot_delete_their_account(api):
    from tests.helpers import admin_with_mfa, create_campaign

    admin = admin_with_mfa(api)
    create_campaign(api, admin)
    reply = api.call("DELETE", "/me", {"password": PASSWORD}, token=admin.token)
    assert reply.status == 409 and reply.body["Reason"] == "last_admin"
    assert api.get("/me", token=admin.token).status == 200
