"""The second factor against someone who has the password: every code they try is counted
before it is checked, per challenge and per account, so neither concurrency nor fresh
logins buy them more guesses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import PASSWORD, admin_with_mfa


@pytest.fixture(autouse=True)
def many_logins(monkeypatch):
    """These attacks sign in again and again from one source: the per-source sign-in
    bounds (tested elsewhere) would stop them first, so they are lifted here."""
    from chalicelib.logic import throttle

    monkeypatch.setitem(throttle.LIMITS, "login-email-ip", (1000, 300))
    monkeypatch.setitem(throttle.LIMITS, "login-ip", (1000, 300))
    monkeypatch.setitem(throttle.LIMITS, "mfa-ip", (1000, 300))


def _challenge(api, person) -> str:
    reply = api.post("/auth/login", {"email": person.email, "password": PASSWORD})
    assert reply.status == 200 and reply.body["mfa_required"], reply
    return str(reply.body["mfa_token"])


def _wrong(person) -> str:
    """A code that is wrong in every step of the accepted window."""
    near = {person.code(step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1000, 2000) if f"{n:06d}" not in near)


def _evaluated(monkeypatch) -> list[str]:
    """The user ids whose codes were actually checked against their secret."""
    from chalicelib.logic import auth_flows

    checked: list[str] = []
    accept = auth_flows._accept_code

    def counting(user_id: str, code: str):
        checked.append(user_id)
        return accept(user_id, code)

    monkeypatch.setattr(auth_flows, "_accept_code", counting)
    return checked


def test_concurrent_wrong_codes_on_one_challenge_are_checked_five_times_at_most(api, monkeypatch):
    admin = admin_with_mfa(api)
    token = _challenge(api, admin)
    checked = _evaluated(monkeypatch)
    wrong = _wrong(admin)
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda _: api.post("/auth/mfa", {"mfa_token": token, "code": wrong}), range(20)
            )
        )
    assert len(checked) <= 5, len(checked)
    assert all(r.status == 401 for r in replies), [r.status for r in replies]
    # the challenge is spent: even the right code is refused on it
    assert api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()}).status == 401


def test_ten_wrong_codes_across_challenges_lock_the_second_factor(api, outbox, monkeypatch):
    admin = admin_with_mfa(api)
    checked = _evaluated(monkeypatch)
    wrong = _wrong(admin)
    statuses = []
    for _ in range(4):  # fresh logins give fresh challenges, not fresh guesses
        token = _challenge(api, admin)
        for _ in range(4):
            statuses.append(api.post("/auth/mfa", {"mfa_token": token, "code": wrong}).status)
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}
    assert len(checked) == 10

    token = _challenge(api, admin)
    locked = api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()})
    assert locked.status == 429  # even the right code
    assert locked.body["Reason"] == "mfa_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    mails = [m for m in outbox() if m["kind"] == "mfa_locked"]
    assert [m["to"] for m in mails] == [admin.email]
    assert "code" not in mails[0]


def test_concurrent_wrong_codes_across_challenges_get_ten_checks_at_most(api, monkeypatch):
    admin = admin_with_mfa(api)
    tokens = [_challenge(api, admin) for _ in range(6)]
    checked = _evaluated(monkeypatch)
    wrong = _wrong(admin)
    attempts = [t for t in tokens for _ in range(5)]  # 30 attempts, 5 per challenge
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda t: api.post("/auth/mfa", {"mfa_token": t, "code": wrong}), attempts)
        )
    assert len(checked) <= 10, len(checked)
    assert {r.status for r in replies} <= {401, 429}


def test_a_right_code_ends_the_streak(api):
    admin = admin_with_mfa(api)
    wrong = _wrong(admin)
    for step in (0, 1):  # a code is good once: the second round uses the next step's
        for _ in range(4):
            token = _challenge(api, admin)
            assert api.post("/auth/mfa", {"mfa_token": token, "code": wrong}).status == 401
        token = _challenge(api, admin)
        right = api.post("/auth/mfa", {"mfa_token": token, "code": admin.code(step)})
        assert right.status == 200, right  # 4 wrong, then right: twice, never locked


def test_the_lock_lifts_after_its_time(api, monkeypatch):
    import time as real_time

    from chalicelib.dal import ops

    admin = admin_with_mfa(api)
    wrong = _wrong(admin)
    for _ in range(10):
        token = _challenge(api, admin)
        api.post("/auth/mfa", {"mfa_token": token, "code": wrong})
    token = _challenge(api, admin)
    assert api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()}).status == 429

    later = real_time.time() + 15 * 60 + 5
    monkeypatch.setattr(ops.time, "time", lambda: later)
    token = _challenge(api, admin)
    lifted = api.post("/auth/mfa", {"mfa_token": token, "code": admin.code()})
    assert lifted.status == 200, lifted  # the code refused while locked was never checked
    assert ops.mfa_streak(admin.user_id) == 0


@pytest.mark.parametrize("daily", [3])
def test_a_day_allows_few_codes_however_they_are_spread(api, monkeypatch, daily):
    """Streaks reset after a quiet spell, so a patient attacker would get 9 guesses every
    15 minutes; the day's cap bounds them all (MFA_DAILY_ATTEMPTS, 30 in production)."""
    from chalicelib.logic import auth_flows

    monkeypatch.setattr(auth_flows, "MFA_DAILY_ATTEMPTS", daily)
    admin = admin_with_mfa(api)
    wrong = _wrong(admin)
    statuses = []
    for _ in range(daily + 2):
        token = _challenge(api, admin)
        statuses.append(api.post("/auth/mfa", {"mfa_token": token, "code": wrong}).status)
    assert statuses == [401] * daily + [429, 429]


def test_a_recovery_code_signs_in_once_when_the_phone_is_lost(api, outbox):
    admin = admin_with_mfa(api)
    made = api.post("/me/mfa/recovery-codes", token=admin.token)
    assert made.status == 201
    codes = made.body["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    token = _challenge(api, admin)
    used = api.post("/auth/mfa", {"mfa_token": token, "recovery_code": codes[0].lower()})
    assert used.status == 200, used
    assert api.get("/me", token=used.body["access_token"]).body["mfa_verified"] is True
    again = api.post("/auth/mfa", {"mfa_token": _challenge(api, admin), "recovery_code": codes[0]})
    assert again.status == 401  # each code works once
    # a new set replaces the old one
    fresh = api.post("/me/mfa/recovery-codes", token=used.body["access_token"]).body["codes"]
    stale = api.post("/auth/mfa", {"mfa_token": _challenge(api, admin), "recovery_code": codes[1]})
    assert stale.status == 401
    ok = api.post("/auth/mfa", {"mfa_token": _challenge(api, admin), "recovery_code": fresh[0]})
    assert ok.status == 200


def test_recovery_codes_need_a_second_factor_session_and_guesses_count_toward_the_lock(
    api, monkeypatch
):
    from tests.helpers import volunteer

    vol = volunteer(api)
    refused = api.post("/me/mfa/recovery-codes", token=vol.token)
    assert refused.status == 403 and refused.body["Reason"] == "mfa_required"
    admin = admin_with_mfa(api)
    api.post("/me/mfa/recovery-codes", token=admin.token)
    statuses = []
    for n in range(11):
        token = _challenge(api, admin)
        reply = api.post("/auth/mfa", {"mfa_token": token, "recovery_code": f"AAAAA-{n:05d}"})
        statuses.append(reply.status)
    assert statuses == [401] * 10 + [429]
    both = api.post(
        "/auth/mfa", {"mfa_token": _challenge(api, admin), "code": "123456", "recovery_code": "X"}
    )
    assert both.status == 400
