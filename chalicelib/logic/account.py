"""The account's lifecycle beyond signing in: its sessions, and its password (changed, or
reset by a code sent to its e-mail).

A password change ends every other session of the user and a reset ends all of them, at
once: the sessions table is what every request and refresh check, so neither an access
token nor a refresh token of an ended session works again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib import notify
from chalicelib.audit import store as audit_store
from chalicelib.auth import cognito
from chalicelib.config import app_secret
from chalicelib.dal import ops, sessions
from chalicelib.dal import users as users_dal
from chalicelib.domain.people import Session
from chalicelib.errors import InvalidInput, NotAuthenticated, NotFound
from chalicelib.logic import throttle
from chalicelib.logic.principal import Principal
from chalicelib.observability import log_auth

RESET_CODE_TTL = 15 * 60
RESET_CODE_TRIES = 5


def _note(event: str, outcome: str, user_id: str | None, reason: str | None = None) -> None:
    log_auth(event, outcome, reason, user_id=user_id)
    audit_store.record(
        f"auth.{event}",
        f"user:{user_id}" if user_id else "user:unknown",
        actor_id=user_id,
        user_id=user_id,
        values={"outcome": outcome, **({"reason": reason} if reason else {})},
    )


# ---- sessions -----------------------------------------------------------------------------


def list_sessions(principal: Principal) -> list[Session]:
    found = sessions.user_sessions(principal.user_id)
    if all(s.session_id != principal.session_id for s in found):  # the index lags a moment
        current = sessions.get_session(principal.session_id)
        if current is not None:
            found.append(current)
    return sorted(found, key=lambda s: s.created_at, reverse=True)


def end_session(principal: Principal, session_id: str) -> None:
    """Sign one of the caller's devices out at once (404 for anyone else's)."""
    session = sessions.get_session(session_id)
    if session is None or session.user_id != principal.user_id or session.revoked:
        raise NotFound("no such session")
    sessions.revoke(session_id)
    _note("session_ended", "success", principal.user_id)


def end_other_sessions(principal: Principal) -> int:
    ended = sessions.revoke_user_sessions(principal.user_id, keep=principal.session_id)
    _note("sessions_ended", "success", principal.user_id)
    return ended


# ---- password -----------------------------------------------------------------------------


def change_password(principal: Principal, current: str, new: str) -> None:
    """The current password proves it is the owner; every other session ends."""
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    try:
        cognito.login(user.email, current)
    except NotAuthenticated:
        _note("password_change", "failure", user.user_id, "wrong current password")
        raise InvalidInput("current_password", "is not the account's password") from None
    if current == new:
        raise InvalidInput("new_password", "is the current password")
    cognito.set_password(user.email, new)
    sessions.revoke_user_sessions(user.user_id, keep=principal.session_id)
    _note("password_change", "success", user.user_id)


# ---- codes sent by e-mail (password reset, sign-up confirmation) --------------------------


def _scope(purpose: str, email: str) -> str:
    digest = hmac.new(app_secret(), email.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{purpose}#{digest}"


def _code_hash(email: str, code: str) -> str:
    return hmac.new(app_secret(), f"reset:{email}:{code}".encode(), hashlib.sha256).hexdigest()


def _send_code(purpose: str, email: str, kind: str, ttl: int) -> None:
    """A fresh 8-digit code for `purpose`, replacing any earlier one, e-mailed as `kind`."""
    code = f"{secrets.randbelow(10**8):08d}"
    ops.put_code(_scope(purpose, email), _code_hash(email, code), ttl)
    notify.send(email, kind, code=code)


def _check_code(purpose: str, email: str, code: str, event: str) -> str:
    """The scope of a right code (counted before it is checked: RESET_CODE_TRIES at most);
    400 naming `code` otherwise."""
    scope = _scope(purpose, email)
    stored = ops.reserve_code_attempt(scope, RESET_CODE_TRIES)
    if stored is None or not hmac.compare_digest(stored, _code_hash(email, code.strip())):
        _note(event, "failure", None, "wrong or expired code")
        raise InvalidInput("code", "is wrong or has expired; ask for a new one")
    return scope


def forgot_password(email: str, source_ip: str | None) -> None:
    """E-mail a reset code if the account exists; the caller is told nothing either way."""
    throttle.check("reset-ip", source_ip)
    throttle.check("reset-email", email)
    user_id = cognito.user_id_of(email)
    if user_id is None:
        _note("password_forgot", "unknown_email", None)
        return
    _send_code("reset", email, "password_reset", RESET_CODE_TTL)
    _note("password_forgot", "code_sent", user_id)


def reset_password(email: str, code: str, new: str, source_ip: str | None) -> None:
    """A right code (each counted before it is checked, RESET_CODE_TRIES at most) sets the
    new password and ends every session of the account."""
    throttle.check("reset-ip", source_ip)
    scope = _check_code("reset", email, code, "password_reset")
    user_id = cognito.user_id_of(email)
    if user_id is None:
        raise InvalidInput("code", "is wrong or has expired; ask for a new one")
    cognito.set_password(email, new, field="password")  # a refused password keeps the code
    ops.consume_code(scope)
    ended = sessions.revoke_user_sessions(user_id)
    notify.send(email, "password_changed")
    _note("password_reset", "success", user_id, f"{ended} sessions ended")


# ---- confirming an address ---------------------------------------------------------------

CONFIRM_CODE_TTL = 24 * 3600


def send_confirmation(email: str) -> None:
    """A fresh code to confirm the address (where the deployment confirms sign-ups)."""
    _send_code("confirm", email, "confirm_signup", CONFIRM_CODE_TTL)


def resend_confirmation(email: str, source_ip: str | None) -> None:
    """Another code, if the account exists and is not confirmed; the caller is told
    nothing either way."""
    throttle.check("reset-ip", source_ip)
    throttle.check("reset-email", email)
    if cognito.is_confirmed(email) is False:
        send_confirmation(email)


def confirm_signup(email: str, code: str, source_ip: str | None) -> None:
    throttle.check("reset-ip", source_ip)
    scope = _check_code("confirm", email, code, "signup_confirm")
    cognito.confirm(email)
    ops.consume_code(scope)
    _note("signup_confirm", "success", cognito.user_id_of(email))


# ---- deleting the account ----------------------------------------------------------------


def delete_account(principal: Principal, password: str) -> None:
    """The account and everything that is the user's alone are erased: contacts, sessions,
    TOTP secret, recovery codes, profile and identity; memberships end. Reports already
    filed stay with their campaigns (their author no longer exists). Refused (409) while
    the user is a campaign's only admin: the campaign would have no one to run it."""
    from chalicelib.dal import campaigns as campaigns_dal
    from chalicelib.dal import contacts as contacts_dal
    from chalicelib.domain.campaigns import Role
    from chalicelib.errors import Conflict, MfaRequired

    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("no such user")
    if user.mfa_enabled and not principal.mfa:
        raise MfaRequired()
    try:
        cognito.login(user.email, password)
    except NotAuthenticated:
        _note("account_delete", "failure", user.user_id, "wrong password")
        raise InvalidInput("password", "is not the account's password") from None
    memberships = campaigns_dal.list_user_memberships(user.user_id)
    for membership in memberships:
        if membership.role is Role.ADMIN:
            campaign = campaigns_dal.get_campaign(membership.campaign_id)
            if campaign is not None and campaign.admin_count <= 1:
                raise Conflict(
                    f"you are the only admin of {campaign.name}: name another admin first",
                    reason="last_admin",
                )
    for membership in memberships:
        try:
            campaigns_dal.remove_member(
                membership.campaign_id, user.user_id, user.user_id, bar=False
            )
        except Conflict as exc:
            raise Conflict(exc.message, reason="last_admin") from None
        except NotFound:
            continue
    contacts_dal.delete_all_contacts(user.user_id)
    sessions.revoke_user_sessions(user.user_id)
    users_dal.delete_user(user.user_id)
    cognito.delete_identity(user.email)
    _note("account_delete", "success", user.user_id)
