"""Sessions and second-factor challenges on DynamoDB Local (`dal.sessions`): what is
stored, revocation, strongly consistent reads, challenge attempts under threads."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.dal import sessions
from chalicelib.domain.people import Session
from chalicelib.errors import NotAuthenticated
from tests.ddblocal.helpers import race, stored

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


def test_token_hash_is_sha256_hex() -> None:
    assert sessions.token_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_a_users_sessions_are_listed_and_ended_together(ddb: Tables) -> None:
    for jti in ("a", "b", "c"):
        sessions.create_session(jti, "u9", "u9@example.org", mfa=False, refresh_token=jti, ttl=60)
    sessions.create_session("x", "other", "o@example.org", mfa=False, refresh_token="x", ttl=60)
    assert sorted(s.session_id for s in sessions.user_sessions("u9")) == ["a", "b", "c"]
    assert sessions.revoke_user_sessions("u9", keep="b") == 2
    assert [s.session_id for s in sessions.user_sessions("u9")] == ["b"]
    assert sessions.get_session("x") is not None and not sessions.get_session("x").revoked


def test_create_session_stores_the_session_and_its_refresh_pointer(ddb: Tables) -> None:
    before = int(time.time())

    session = sessions.create_session(
        "jti-1", "u1", "ann@example.org", mfa=False, refresh_token="refresh-secret", ttl=3600
    )

    assert session == Session(
        session_id="jti-1",
        user_id="u1",
        username="ann@example.org",
        mfa=False,
        revoked=False,
        expires_at=session.expires_at,
        created_at=session.created_at,
        last_seen_at=session.created_at,
    )
    assert session.created_at
    assert before + 3600 <= session.expires_at <= int(time.time()) + 3600
    assert sessions.get_session("jti-1") == session
    assert sessions.session_for_refresh_token("refresh-secret") == session
    assert sessions.session_for_refresh_token("other-token") is None
    assert sessions.get_session("jti-unknown") is None
    item = stored(ddb.sessions, "SESSION#jti-1")
    pointer = stored(ddb.sessions, f"REFRESH#{sessions.token_hash('refresh-secret')}")
    assert item is not None
    assert pointer is not None
    assert item["kind"] == "session"
    assert item["expires_at"] == session.expires_at  # the table's TTL attribute
    assert pointer["kind"] == "refresh"
    assert pointer["session_id"] == "jti-1"
    assert pointer["expires_at"] == session.expires_at
    everything = ddb.sessions.scan(ConsistentRead=True)["Items"]
    assert "refresh-secret" not in repr(everything)  # only its hash is stored


def test_mark_mfa(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=False, refresh_token="rt", ttl=3600)

    sessions.mark_mfa("jti-1")

    assert sessions.get_session("jti-1").mfa is True  # type: ignore[union-attr]


def test_mark_mfa_of_a_revoked_or_missing_session_writes_nothing(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=False, refresh_token="rt", ttl=3600)
    sessions.revoke("jti-1")

    with pytest.raises(NotAuthenticated):
        sessions.mark_mfa("jti-1")
    with pytest.raises(NotAuthenticated):
        sessions.mark_mfa("jti-missing")

    assert sessions.get_session("jti-1").mfa is False  # type: ignore[union-attr]
    assert stored(ddb.sessions, "SESSION#jti-missing") is None


def test_revoke_is_immediate_and_idempotent(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)
    sessions.create_session("jti-2", "u1", "ann", mfa=True, refresh_token="rt2", ttl=3600)

    assert sessions.revoke("jti-1") is True

    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]
    assert sessions.session_for_refresh_token("rt").revoked is True  # type: ignore[union-attr]
    assert sessions.get_session("jti-2").revoked is False  # type: ignore[union-attr]
    item = stored(ddb.sessions, "SESSION#jti-1")
    assert item is not None
    assert item["revoked"] is True
    assert item["mfa"] is True  # nothing else changed

    assert sessions.revoke("jti-1") is False
    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]


def test_revoke_of_nothing_is_false_and_creates_nothing(ddb: Tables) -> None:
    assert sessions.revoke("jti-missing") is False
    assert stored(ddb.sessions, "SESSION#jti-missing") is None


def test_concurrent_revokes_report_one_revocation(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)

    outcomes = race(*[lambda: sessions.revoke("jti-1")] * 6)

    assert sorted(outcomes) == [False] * 5 + [True]


def test_session_reads_are_strongly_consistent(
    ddb: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection.base import Connection

    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)
    sessions.revoke("jti-1")
    seen: list[dict[str, Any]] = []
    dispatch = Connection.dispatch

    def spy(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        if operation_name == "GetItem":
            seen.append(operation_kwargs)
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", spy)

    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]
    assert seen
    assert all(kwargs.get("ConsistentRead") is True for kwargs in seen), seen


def test_challenge_put_get_and_consume_once(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)

    assert sessions.get_challenge("challenge-token") == ("u1", "ann", "refresh-enc")
    assert sessions.get_challenge("other-token") is None
    item = stored(ddb.sessions, f"MFA#{sessions.token_hash('challenge-token')}")
    assert item is not None
    assert item["kind"] == "mfa_challenge"
    assert item["secret_enc"] == "refresh-enc"
    assert "challenge-token" not in repr(item)

    assert sessions.consume_challenge("challenge-token") is True
    assert sessions.consume_challenge("challenge-token") is False
    assert sessions.get_challenge("challenge-token") is None
    assert stored(ddb.sessions, f"MFA#{sessions.token_hash('challenge-token')}") is None


def test_an_expired_challenge_is_not_returned(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=-1)
    assert sessions.get_challenge("challenge-token") is None


def test_a_challenge_allows_the_allowed_attempts_then_none(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)
    key = f"MFA#{sessions.token_hash('challenge-token')}"

    for attempt in range(1, sessions.MFA_CHALLENGE_ATTEMPTS):
        assert sessions.reserve_challenge_attempt("challenge-token") is True
        assert sessions.get_challenge("challenge-token") == ("u1", "ann", "refresh-enc")
        assert (stored(ddb.sessions, key) or {})["attempts"] == attempt

    assert sessions.reserve_challenge_attempt("challenge-token") is True  # the last one
    assert sessions.get_challenge("challenge-token") is None
    assert sessions.reserve_challenge_attempt("challenge-token") is False
    assert (stored(ddb.sessions, key) or {})["attempts"] == sessions.MFA_CHALLENGE_ATTEMPTS


def test_reserving_an_attempt_on_nothing_creates_nothing(ddb: Tables) -> None:
    assert sessions.reserve_challenge_attempt("no-such-challenge") is False
    assert stored(ddb.sessions, f"MFA#{sessions.token_hash('no-such-challenge')}") is None


def test_concurrent_attempts_on_a_challenge_get_the_allowed_number_exactly(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)

    outcomes = race(*[lambda: sessions.reserve_challenge_attempt("challenge-token")] * 12)

    assert sorted(outcomes) == [False] * 7 + [True] * sessions.MFA_CHALLENGE_ATTEMPTS
    assert sessions.get_challenge("challenge-token") is None


def test_consume_challenge_succeeds_once_under_threads(ddb: Tables) -> None:
    for round_ in range(3):
        token = f"challenge-{round_}"
        sessions.put_challenge(token, "u1", "ann", "refresh-enc", ttl=300)

        outcomes = race(*[lambda t=token: sessions.consume_challenge(t)] * 8)

        assert sorted(outcomes) == [False] * 7 + [True]
