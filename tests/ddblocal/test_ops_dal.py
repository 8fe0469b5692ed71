"""Idempotency records on DynamoDB Local: of many requests racing with one key, one runs."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from chalicelib.dal import ops

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
