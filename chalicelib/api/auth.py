"""/auth/* and /me/mfa/*: sign-up, sign-in with TOTP, refresh, logout, enrolment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, parse, route, source_ip
from chalicelib.errors import InvalidInput
from chalicelib.logic.normalize import phone_e164

if TYPE_CHECKING:
    from chalicelib.auth.cognito import Tokens
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def _tokens(tokens: Tokens) -> dict[str, Any]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "token_type": "Bearer",
    }


@route(
    bp,
    "/auth/signup",
    methods=["POST"],
    public=True,
    body="SignupIn",
    status=201,
    response="UserId",
)
def signup() -> Response:
    from chalicelib.logic import auth_flows, inputs

    body = parse(inputs.SignupIn, json_body(bp.current_request))
    phone = None
    if body.phone:
        try:
            phone = phone_e164(body.phone)
        except ValueError as exc:
            raise InvalidInput("phone", str(exc)) from None
    user = auth_flows.sign_up(
        body.email, body.password, body.name, phone, source_ip(bp.current_request)
    )
    return Response(body={"user_id": user.user_id}, status_code=201)


@route(bp, "/auth/login", methods=["POST"], public=True, body="LoginIn", response="Tokens")
def login() -> dict[str, Any]:
    from chalicelib.logic import auth_flows, inputs

    body = parse(inputs.LoginIn, json_body(bp.current_request))
    request = bp.current_request
    result = auth_flows.login(
        body.email, body.password, source_ip(request), request.headers.get("user-agent")
    )
    if isinstance(result, auth_flows.MfaChallenge):
        return {"mfa_required": True, "mfa_token": result.mfa_token}
    return _tokens(result)


@route(bp, "/auth/mfa", methods=["POST"], public=True, body="MfaIn", response="Tokens")
def mfa() -> dict[str, Any]:
    from chalicelib.logic import auth_flows, inputs

    body = parse(inputs.MfaIn, json_body(bp.current_request))
    request = bp.current_request
    return _tokens(
        auth_flows.complete_mfa(
            body.mfa_token,
            body.code,
            source_ip(request),
            request.headers.get("user-agent"),
            recovery_code=body.recovery_code,
        )
    )


@route(bp, "/auth/refresh", methods=["POST"], public=True, body="RefreshIn", response="Tokens")
def refresh() -> dict[str, Any]:
    from chalicelib.logic import auth_flows, inputs

    body = parse(inputs.RefreshIn, json_body(bp.current_request))
    return _tokens(auth_flows.refresh(body.refresh_token, source_ip(bp.current_request)))


@route(bp, "/auth/logout", methods=["POST"], status=204)
def logout(principal: Principal) -> Response:
    from chalicelib.logic import auth_flows

    auth_flows.logout(principal)
    return Response(body="", status_code=204)


@route(bp, "/me/mfa/totp", methods=["POST"], status=201, response="TotpStart")
def start_totp(principal: Principal) -> Response:
    from chalicelib.logic import auth_flows

    secret, uri = auth_flows.start_totp_enrolment(principal)
    return Response(body={"secret": secret, "otpauth_uri": uri}, status_code=201)


@route(bp, "/me/mfa/recovery-codes", methods=["POST"], status=201, response="RecoveryCodes")
def new_recovery_codes(principal: Principal) -> Response:
    from chalicelib.logic import auth_flows

    return Response(body={"codes": auth_flows.new_recovery_codes(principal)}, status_code=201)


@route(bp, "/me/mfa/totp/verify", methods=["POST"], body="CodeIn", response="MfaEnabled")
def verify_totp(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import auth_flows, inputs

    body = parse(inputs.CodeIn, json_body(bp.current_request))
    auth_flows.verify_totp_enrolment(principal, body.code)
    return {"mfa_enabled": True}


# ---- the account's lifecycle -------------------------------------------------------------


@route(bp, "/auth/confirm", methods=["POST"], public=True, body="ConfirmIn", status=204)
def confirm_signup() -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.ConfirmIn, json_body(bp.current_request))
    account.confirm_signup(body.email, body.code, source_ip(bp.current_request))
    return Response(body="", status_code=204)


@route(
    bp,
    "/auth/confirm/resend",
    methods=["POST"],
    public=True,
    body="ForgotIn",
    status=202,
    response="Status",
)
def resend_confirmation() -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.ForgotIn, json_body(bp.current_request))
    account.resend_confirmation(body.email, source_ip(bp.current_request))
    return Response(body={"status": "sent if the account needs it"}, status_code=202)


@route(
    bp,
    "/auth/password/forgot",
    methods=["POST"],
    public=True,
    body="ForgotIn",
    status=202,
    response="Status",
)
def forgot_password() -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.ForgotIn, json_body(bp.current_request))
    account.forgot_password(body.email, source_ip(bp.current_request))
    return Response(body={"status": "sent if the account exists"}, status_code=202)


@route(bp, "/auth/password/reset", methods=["POST"], public=True, body="ResetIn", status=204)
def reset_password() -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.ResetIn, json_body(bp.current_request))
    account.reset_password(body.email, body.code, body.password, source_ip(bp.current_request))
    return Response(body="", status_code=204)


@route(bp, "/me/password", methods=["POST"], body="PasswordChangeIn", status=204)
def change_password(principal: Principal) -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.PasswordChangeIn, json_body(bp.current_request))
    account.change_password(principal, body.current_password, body.new_password)
    return Response(body="", status_code=204)


@route(bp, "/me/sessions", methods=["GET"], response="Page[Session]")
def list_sessions(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import account

    found = account.list_sessions(principal)
    return {
        "items": [
            {
                "session_id": s.session_id,
                "created_at": s.created_at,
                "last_seen_at": s.last_seen_at,
                "user_agent": s.user_agent,
                "source_ip": s.source_ip,
                "mfa": s.mfa,
                "current": s.session_id == principal.session_id,
            }
            for s in found
        ],
        "next_cursor": None,
    }


@route(bp, "/me/sessions/{session_id}", methods=["DELETE"], status=204)
def end_session(principal: Principal, session_id: str) -> Response:
    from chalicelib.logic import account

    account.end_session(principal, session_id)
    return Response(body="", status_code=204)


@route(bp, "/me/sessions", methods=["DELETE"], status=204)
def end_other_sessions(principal: Principal) -> Response:
    from chalicelib.logic import account

    account.end_other_sessions(principal)
    return Response(body="", status_code=204)


@route(bp, "/me", methods=["DELETE"], body="PasswordIn", status=204)
def delete_account(principal: Principal) -> Response:
    from chalicelib.logic import account, inputs

    body = parse(inputs.PasswordIn, json_body(bp.current_request))
    account.delete_account(principal, body.password)
    return Response(body="", status_code=204)
