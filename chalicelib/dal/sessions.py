"""Server-side sessions, refresh-token pointers and pending MFA challenges.

Operational data: the sessions table has no stream, so none of this is audited
through the stream (the auth flows write their own audit and log lines).
"""

from __future__ import annotations

import hashlib
import time

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.dal.common import now_iso
from chalicelib.dal.models import SessionModel
from chalicelib.domain.people import Session
from chalicelib.errors import NotAuthenticated

MFA_CHALLENGE_ATTEMPTS = 5


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session(item: SessionModel) -> Session:
    return Session(
        session_id=item.session_id or "",
        user_id=item.user_id,
        username=item.username or "",
        mfa=bool(item.mfa),
        revoked=bool(item.revoked),
        expires_at=int(item.expires_at),
        created_at=item.created_at or "",
        last_seen_at=item.last_seen_at or item.created_at or "",
        user_agent=item.user_agent,
        source_ip=item.source_ip,
    )


def create_session(
    session_id: str,
    user_id: str,
    username: str,
    *,
    mfa: bool,
    refresh_token: str,
    ttl: int,
    user_agent: str | None = None,
    source_ip: str | None = None,
) -> Session:
    """A session keyed by the tokens' origin_jti, and its refresh-token pointer."""
    expires_at = int(time.time()) + ttl
    stamp = now_iso()
    item = SessionModel(
        f"SESSION#{session_id}",
        kind="session",
        session_id=session_id,
        user_id=user_id,
        username=username,
        mfa=mfa,
        revoked=False,
        created_at=stamp,
        last_seen_at=stamp,
        expires_at=expires_at,
        gsi1pk=f"USER#{user_id}",
        gsi1sk=f"{stamp}#{session_id}",
        user_agent=(user_agent or "")[:300] or None,
        source_ip=source_ip,
    )
    item.save()
    SessionModel(
        f"REFRESH#{token_hash(refresh_token)}",
        kind="refresh",
        session_id=session_id,
        user_id=user_id,
        username=username,
        created_at=stamp,
        expires_at=expires_at,
    ).save()
    return _session(item)


def get_session(session_id: str) -> Session | None:
    try:
        return _session(SessionModel.get(f"SESSION#{session_id}", consistent_read=True))
    except DoesNotExist:
        return None


def session_for_refresh_token(refresh_token: str) -> Session | None:
    try:
        pointer = SessionModel.get(f"REFRESH#{token_hash(refresh_token)}", consistent_read=True)
    except DoesNotExist:
        return None
    return get_session(pointer.session_id or "")


def user_sessions(user_id: str) -> list[Session]:
    """The user's sessions that still work (from the index: one just made may be missing
    for a moment)."""
    now = time.time()
    found = [_session(item) for item in SessionModel.by_user.query(f"USER#{user_id}")]
    return [s for s in found if not s.revoked and s.expires_at > now]


def seen(session_id: str) -> None:
    """The session was used (a refresh): its last_seen_at moves."""
    try:
        SessionModel(f"SESSION#{session_id}").update(
            actions=[SessionModel.last_seen_at.set(now_iso())],
            condition=SessionModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def revoke_user_sessions(user_id: str, *, keep: str | None = None) -> int:
    """End every session of the user but `keep`; how many were ended."""
    return sum(1 for s in user_sessions(user_id) if s.session_id != keep and revoke(s.session_id))


def mark_mfa(session_id: str) -> None:
    try:
        SessionModel(f"SESSION#{session_id}").update(
            actions=[SessionModel.mfa.set(True)],
            condition=SessionModel.pk.exists() & (SessionModel.revoked == False),  # noqa: E712
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotAuthenticated("the session has ended; sign in again") from None
        raise


def revoke(session_id: str) -> bool:
    """Revoke a session at once; False when there was no live session."""
    try:
        SessionModel(f"SESSION#{session_id}").update(
            actions=[SessionModel.revoked.set(True)],
            condition=SessionModel.pk.exists() & (SessionModel.revoked == False),  # noqa: E712
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def put_challenge(
    challenge_token: str, user_id: str, username: str, secret_enc: str, ttl: int
) -> None:
    """A pending MFA challenge: holds the login's refresh token, encrypted."""
    SessionModel(
        f"MFA#{token_hash(challenge_token)}",
        kind="mfa_challenge",
        user_id=user_id,
        username=username,
        secret_enc=secret_enc,
        created_at=now_iso(),
        expires_at=int(time.time()) + ttl,
    ).save()


def get_challenge(challenge_token: str) -> tuple[str, str, str] | None:
    """(user_id, username, encrypted refresh token) of a live challenge."""
    try:
        item = SessionModel.get(f"MFA#{token_hash(challenge_token)}", consistent_read=True)
    except DoesNotExist:
        return None
    if int(item.expires_at) < time.time() or int(item.attempts or 0) >= MFA_CHALLENGE_ATTEMPTS:
        return None
    return item.user_id, item.username or "", item.secret_enc or ""


def reserve_challenge_attempt(challenge_token: str) -> bool:
    """Count one code tried on this challenge, before it is checked: False once the
    challenge has had MFA_CHALLENGE_ATTEMPTS (one conditional write, so concurrent
    requests cannot try more)."""
    item = SessionModel(f"MFA#{token_hash(challenge_token)}")
    try:
        item.update(
            actions=[SessionModel.attempts.add(1)],
            condition=SessionModel.pk.exists()
            & (
                SessionModel.attempts.does_not_exist()
                | (SessionModel.attempts < MFA_CHALLENGE_ATTEMPTS)
            ),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def consume_challenge(challenge_token: str) -> bool:
    """Delete a challenge once; False if someone else consumed it first."""
    try:
        SessionModel(f"MFA#{token_hash(challenge_token)}").delete(
            condition=SessionModel.pk.exists()
        )
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def revoke_everyone() -> int:
    """End every live session of every user (an incident's last resort): a parallel Scan
    of the sessions table, each live session revoked as `revoke` does. How many ended."""
    from concurrent.futures import ThreadPoolExecutor

    segments = 4
    now = time.time()

    def segment(number: int) -> int:
        ended = 0
        for item in SessionModel.scan(
            (SessionModel.kind == "session") & (SessionModel.revoked == False),  # noqa: E712
            segment=number,
            total_segments=segments,
        ):
            if item.expires_at > now and item.session_id and revoke(item.session_id):
                ended += 1
        return ended

    with ThreadPoolExecutor(segments) as pool:
        return sum(pool.map(segment, range(segments)))
