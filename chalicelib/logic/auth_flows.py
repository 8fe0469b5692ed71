"""Sign-up, sign-in with TOTP, refresh, logout, TOTP enrolment, and token checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import crypto, notify
from chalicelib.audit import store as audit_store
from chalicelib.auth import cognito, totp
from chalicelib.auth.cognito import Tokens
from chalicelib.config import app_secret, settings
from chalicelib.dal import ops, sessions
from chalicelib.dal import users as users_dal
from chalicelib.domain.people import User
from chalicelib.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    MfaRequired,
    NotAuthenticated,
    Throttled,
)
from chalicelib.logic import throttle
from chalicelib.logic.principal import Principal
from chalicelib.observability import count, log_auth

SESSION_TTL = 30 * 24 * 3600  # as long as the pool's refresh tokens live
CHALLENGE_TTL = 300
# the second factor locks after this many wrong codes in a row, each within the lock's
# length of the one before, for that long; and after this many codes in a UTC day
MFA_LOCK_AFTER = 10
MFA_LOCK_SECONDS = 15 * 60
MFA_DAILY_ATTEMPTS = 30


@dataclass(frozen=True)
class MfaChallenge:
    mfa_token: str


def _note(
    event: str,
    outcome: str,
    reason: str | None = None,
    *,
    user_id: str | None = None,
    email: str | None = None,
    **context: Any,
) -> None:
    """One log line and one audit record per authentication attempt (never a secret)."""
    log_auth(event, outcome, reason, user_id=user_id, **context)
    target = f"user:{user_id}" if user_id else f"email:{audit_store.anonymous_target(email or '')}"
    audit_store.record(
        f"auth.{event}",
        target,
        actor_id=user_id,
        user_id=user_id,
        values={"outcome": outcome, **({"reason": reason} if reason else {})},
    )


def _claims(access_token: str) -> dict[str, Any]:
    """Claims of a token we just received from Cognito itself (no need to re-verify)."""
    import jwt

    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return claims


def _totp_context(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "purpose": "totp"}


def _challenge_context(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "purpose": "mfa-challenge"}


def sign_up(email: str, password: str, name: str, phone: str | None, source_ip: str | None) -> User:
    throttle.check("signup-ip", source_ip)
    user_id = cognito.sign_up(email, password, name)
    try:
        user = users_dal.create_user(user_id, email, name, phone)
    except Exception:
        cognito.delete_identity(email)
        raise
    if not settings().auto_confirm_signup:
        from chalicelib.logic import account

        account.send_confirmation(email)
    _note("signup", "success", user_id=user_id, source_ip=source_ip)
    return user


def login(
    email: str, password: str, source_ip: str | None, user_agent: str | None = None
) -> Tokens | MfaChallenge:
    try:
        throttle.check("login-ip", source_ip)
        throttle.check("login-email-ip", f"{email.lower()}|{source_ip}")
        throttle.check("login-email", email.lower())
        issued = cognito.login(email, password)
    except DomainError as exc:
        _note("login", "failure", type(exc).__name__, email=email, source_ip=source_ip)
        raise
    claims = _claims(issued.access_token)
    user_id = str(claims["sub"])
    user = users_dal.get_user(user_id)
    if user is None:
        _note("login", "failure", "no profile", user_id=user_id, source_ip=source_ip)
        raise cognito.BadCredentials()
    if user.mfa_enabled:
        challenge = secrets.token_urlsafe(32)
        sessions.put_challenge(
            challenge,
            user_id,
            email,
            crypto.encrypt(issued.refresh_token, _challenge_context(user_id)),
            CHALLENGE_TTL,
        )
        _note("login", "mfa_required", user_id=user_id, source_ip=source_ip)
        return MfaChallenge(challenge)
    sessions.create_session(
        str(claims["origin_jti"]),
        user_id,
        email,
        mfa=False,
        refresh_token=issued.refresh_token,
        ttl=SESSION_TTL,
        user_agent=user_agent,
        source_ip=source_ip,
    )
    _note("login", "success", user_id=user_id, source_ip=source_ip, mfa=False)
    return issued


def _accept_code(user_id: str, code: str) -> str | None:
    """Check a TOTP code once: the encrypted secret it matched, or None."""
    enrolment = users_dal.get_totp(user_id)
    if enrolment is None:
        return None
    secret_enc, _verified = enrolment
    secret = crypto.decrypt(secret_enc, _totp_context(user_id))
    step = totp.matching_step(secret, code)
    if step is None or not ops.claim_totp_step(user_id, step):
        return None
    return secret_enc


def _dead_challenge(source_ip: str | None, user_id: str | None = None) -> NotAuthenticated:
    _note(
        "mfa",
        "failure",
        "unknown, expired or spent challenge",
        user_id=user_id,
        source_ip=source_ip,
    )
    return NotAuthenticated("the MFA challenge is not valid or has expired; sign in again")


RECOVERY_CODES = 10


def _recovery_hash(user_id: str, code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(
        app_secret(), f"recovery:{user_id}:{normal}".encode(), hashlib.sha256
    ).hexdigest()


def new_recovery_codes(principal: Principal) -> list[str]:
    """Ten one-time codes for when the authenticator is lost, shown once; they replace
    any earlier set. Only a session that passed the second factor may make them."""
    if not principal.mfa:
        raise MfaRequired()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    users_dal.set_recovery_hashes(
        principal.user_id, {_recovery_hash(principal.user_id, c) for c in codes}
    )
    _note("recovery_codes", "created", user_id=principal.user_id)
    return codes


def _accept_second_factor(user_id: str, code: str | None, recovery_code: str | None) -> bool:
    if recovery_code is not None:
        return users_dal.use_recovery_hash(user_id, _recovery_hash(user_id, recovery_code))
    return code is not None and _accept_code(user_id, code) is not None


def complete_mfa(
    mfa_token: str,
    code: str | None,
    source_ip: str | None,
    user_agent: str | None = None,
    recovery_code: str | None = None,
) -> Tokens:
    """The second step of a sign-in. Each code tried is counted before it is checked,
    per challenge and per account: after MFA_LOCK_AFTER wrong codes in a row (across
    challenges) or MFA_DAILY_ATTEMPTS in a day, the account's second factor is locked,
    even for a right code, and its owner is told by e-mail."""
    throttle.check("mfa-ip", source_ip)
    challenge = sessions.get_challenge(mfa_token)
    if challenge is None:
        raise _dead_challenge(source_ip)
    user_id, username, refresh_enc = challenge
    if not sessions.reserve_challenge_attempt(mfa_token):
        sessions.consume_challenge(mfa_token)
        raise _dead_challenge(source_ip, user_id)
    wait = ops.reserve_mfa_attempt(
        user_id, most=MFA_LOCK_AFTER, window=MFA_LOCK_SECONDS, daily=MFA_DAILY_ATTEMPTS
    )
    if wait is not None:
        _note("mfa", "failure", "second factor locked", user_id=user_id, source_ip=source_ip)
        raise Throttled(
            wait,
            "too many wrong codes: the second factor of this account is locked for now",
            reason="mfa_locked",
        )
    if not _accept_second_factor(user_id, code, recovery_code):
        _note("mfa", "failure", "wrong or reused code", user_id=user_id, source_ip=source_ip)
        if ops.mfa_streak(user_id) >= MFA_LOCK_AFTER:
            count("MfaLocked")
            notify.send(username, "mfa_locked")
            _note("mfa", "locked", user_id=user_id, source_ip=source_ip)
        raise NotAuthenticated("the code is wrong, expired or already used")
    ops.mfa_attempt_succeeded(user_id)
    if recovery_code is not None:
        count("RecoveryCodeUsed")
        _note("mfa", "recovery_code_used", user_id=user_id, source_ip=source_ip)
    if not sessions.consume_challenge(mfa_token):
        _note("mfa", "failure", "challenge already used", user_id=user_id, source_ip=source_ip)
        raise NotAuthenticated("the MFA challenge is not valid or has expired; sign in again")
    refresh_token = crypto.decrypt(refresh_enc, _challenge_context(user_id))
    issued = cognito.refresh(username, refresh_token)
    claims = _claims(issued.access_token)
    sessions.create_session(
        str(claims["origin_jti"]),
        user_id,
        username,
        mfa=True,
        refresh_token=refresh_token,
        ttl=SESSION_TTL,
        user_agent=user_agent,
        source_ip=source_ip,
    )
    _note("mfa", "success", user_id=user_id, source_ip=source_ip)
    return Tokens(issued.access_token, refresh_token, issued.expires_in)


def refresh(refresh_token: str, source_ip: str | None) -> Tokens:
    throttle.check("refresh-ip", source_ip)
    session = sessions.session_for_refresh_token(refresh_token)
    if session is None or session.revoked or session.expires_at < time.time():
        _note("refresh", "failure", "no live session", source_ip=source_ip)
        raise NotAuthenticated("the refresh token is not valid")
    try:
        issued = cognito.refresh(session.username, refresh_token)
    except NotAuthenticated:
        _note("refresh", "failure", "rejected by the pool", user_id=session.user_id)
        raise
    sessions.seen(session.session_id)
    _note("refresh", "success", user_id=session.user_id, source_ip=source_ip, mfa=session.mfa)
    return Tokens(issued.access_token, refresh_token, issued.expires_in)


def logout(principal: Principal) -> None:
    sessions.revoke(principal.session_id)
    _note("logout", "success", user_id=principal.user_id)


def start_totp_enrolment(principal: Principal) -> tuple[str, str]:
    """A new TOTP secret for the caller: (secret, otpauth URI)."""
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    if user.mfa_enabled:
        raise Conflict("TOTP is already enabled for this account")
    secret = totp.new_secret()
    users_dal.put_totp(user.user_id, crypto.encrypt(secret, _totp_context(user.user_id)))
    _note("totp_enrolment", "started", user_id=user.user_id)
    return secret, totp.provisioning_uri(secret, user.email, settings().totp_issuer)


def verify_totp_enrolment(principal: Principal, code: str) -> None:
    """Confirm enrolment with a first code; the session counts as MFA-verified."""
    enrolment = users_dal.get_totp(principal.user_id)
    if enrolment is None:
        raise Conflict("start TOTP enrolment first (POST /me/mfa/totp)")
    if enrolment[1]:
        raise Conflict("TOTP is already enabled for this account")
    secret_enc = _accept_code(principal.user_id, code)
    if secret_enc is None:
        _note("totp_enrolment", "failure", "wrong code", user_id=principal.user_id)
        raise InvalidInput("code", "is wrong, expired or already used")
    users_dal.confirm_totp(principal.user_id, secret_enc)
    sessions.mark_mfa(principal.session_id)
    _note("totp_enrolment", "success", user_id=principal.user_id)
