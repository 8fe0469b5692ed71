"""The ops table on DynamoDB Local (`dal.ops`): idempotency records (of many requests racing
with one key, one runs), TOTP steps, second-factor attempts and rate-limit hits."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from chalicelib.dal import ops
from tests.ddblocal.helpers import race, stored

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


def test_one_claim_wins_a_race_and_the_rest_see_it(ddb: Tables) -> None:
    now = int(time.time())
    results: list[ops.KeyedRequest | None] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        found = ops.claim_key("u1#k", "fp", expires_at=now + 600, lapses_at=now + 60)
        with lock:
            results.append(found)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results.count(None) == 1
    assert [r for r in results if r is not None] == [ops.KeyedRequest("fp", None, None)] * 7


def test_an_answer_is_kept_and_a_release_forgets_the_claim(ddb: Tables) -> None:
    now = int(time.time())
    assert ops.claim_key("u1#a", "fp", expires_at=now + 600, lapses_at=now + 60) is None
    ops.answer_key("u1#a", "fp", 201, {"report_id": "r1"})
    again = ops.claim_key("u1#a", "fp", expires_at=now + 600, lapses_at=now + 60)
    assert again == ops.KeyedRequest("fp", 201, {"report_id": "r1"})
    stored = ddb.ops.get_item(Key={"pk": "IDEMP#u1#a", "sk": "REQUEST"})["Item"]
    assert stored["state"] == "answered" and stored["expires_at"] == now + 600
    assert "lapses_at" not in stored  # an answered request does not lapse

    assert ops.claim_key("u1#b", "fp", expires_at=now + 600, lapses_at=now + 60) is None
    ops.release_key("u1#b")
    assert ops.claim_key("u1#b", "fp2", expires_at=now + 600, lapses_at=now + 60) is None


def test_expired_and_lapsed_claims_can_be_claimed_again(ddb: Tables) -> None:
    now = int(time.time())
    assert ops.claim_key("u1#old", "fp", expires_at=now - 1, lapses_at=0) is None
    ops.answer_key("u1#old", "fp", 200, {})
    assert ops.claim_key("u1#old", "new", expires_at=now + 600, lapses_at=now + 60) is None
    assert ops.claim_key("u1#dead", "fp", expires_at=now + 600, lapses_at=now - 1) is None
    assert ops.claim_key("u1#dead", "new", expires_at=now + 600, lapses_at=now + 60) is None
    assert ops.claim_key("u1#dead", "new", expires_at=now + 600, lapses_at=now + 60) == (
        ops.KeyedRequest("new", None, None)
    )


def test_concurrent_second_factor_attempts_of_an_account_get_the_streak_exactly(
    ddb: Tables,
) -> None:
    outcomes = race(*[lambda: ops.reserve_mfa_attempt("u1", most=10, window=900, daily=30)] * 20)
    allowed = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if isinstance(o, int)]
    assert len(allowed) == 10 and len(refused) == 10
    assert all(0 < wait <= 900 for wait in refused)
    assert ops.mfa_streak("u1") == 10
    ops.mfa_attempt_succeeded("u1")
    assert ops.mfa_streak("u1") == 0
    assert ops.reserve_mfa_attempt("u1", most=10, window=900, daily=30) is None


def test_the_days_cap_holds_across_streaks(ddb: Tables) -> None:
    for _ in range(3):
        assert ops.reserve_mfa_attempt("u2", most=10, window=900, daily=3) is None
    wait = ops.reserve_mfa_attempt("u2", most=10, window=900, daily=3)
    assert wait is not None and 0 < wait <= 86400
    assert ops.mfa_streak("u2") == 3  # the refused attempt was given back to the streak


def test_claim_totp_step_refuses_replays_and_older_steps(ddb: Tables) -> None:
    step = int(time.time()) // 30

    assert ops.claim_totp_step("u1", step) is True
    assert ops.claim_totp_step("u1", step) is False  # replay
    assert ops.claim_totp_step("u1", step - 1) is False  # older
    assert ops.claim_totp_step("u1", step + 1) is True
    assert ops.claim_totp_step("u1", step) is False
    assert ops.claim_totp_step("u2", step) is True  # per user

    item = stored(ddb.ops, "TOTP#u1", "LAST_STEP")
    assert item is not None
    assert item["value"] == step + 1


def test_claim_totp_step_under_threads_one_wins(ddb: Tables) -> None:
    step = int(time.time()) // 30

    outcomes = race(*[lambda: ops.claim_totp_step("u1", step)] * 8)

    assert sorted(outcomes) == [False] * 7 + [True]
    assert (stored(ddb.ops, "TOTP#u1", "LAST_STEP") or {})["value"] == step


def test_claim_totp_step_under_threads_with_different_steps_keeps_the_newest(
    ddb: Tables,
) -> None:
    step = int(time.time()) // 30
    steps = [step - 1, step, step + 1, step - 1, step, step + 1]

    outcomes = race(*[lambda s=s: ops.claim_totp_step("u1", s) for s in steps])

    assert outcomes.count(True) >= 1
    assert outcomes[2] is True or outcomes[5] is True  # one of the newest claims wins
    assert not (outcomes[2] and outcomes[5])
    assert (stored(ddb.ops, "TOTP#u1", "LAST_STEP") or {})["value"] == step + 1


def test_hit_counts_within_a_window(ddb: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    window_seconds = 60
    start = (int(time.time()) // window_seconds + 1) * window_seconds  # a window in the future
    clock = {"now": start + 10}
    monkeypatch.setattr(ops, "time", SimpleNamespace(time=lambda: clock["now"]))

    assert ops.hit("login", "ann@example.org", window_seconds) == (1, 50)
    clock["now"] = start + 30
    assert ops.hit("login", "ann@example.org", window_seconds) == (2, 30)
    assert ops.hit("login", "bob@example.org", window_seconds) == (1, 30)  # per key
    assert ops.hit("mfa", "ann@example.org", window_seconds) == (1, 30)  # per bucket
    clock["now"] = start + 59
    assert ops.hit("login", "ann@example.org", window_seconds) == (3, 1)

    window = start // window_seconds
    item = stored(ddb.ops, "RATE#login#ann@example.org", str(window))
    assert item is not None
    assert item["value"] == 3
    assert item["expires_at"] == start + window_seconds + 60

    clock["now"] = start + 60  # the next window starts from zero
    assert ops.hit("login", "ann@example.org", window_seconds) == (1, 60)


def test_hit_under_threads_counts_every_hit(ddb: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    now = (int(time.time()) // 60 + 1) * 60 + 5
    monkeypatch.setattr(ops, "time", SimpleNamespace(time=lambda: now))

    outcomes = race(*[lambda: ops.hit("login", "ann", 60)] * 10)

    assert sorted(count for count, _ in outcomes) == list(range(1, 11))
    assert (stored(ddb.ops, "RATE#login#ann", str(now // 60)) or {})["value"] == 10
