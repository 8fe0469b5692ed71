"""/auth/* and /me/mfa/*: sign-up, sign-in with TOTP, refresh, logout, enrolment.

Request schemas are imported inside the views that parse a body: pydantic costs
~70 ms of cold start, which no other request should pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, parse, route, source_ip
from chalicelib.errors import InvalidInput
from chalicelib.lazy import lazy
from chalicelib.logic.normalize import phone_e164

if TYPE_CHECKING:
    from chalicelib.auth.cognito import Tokens
    from chalicelib.logic import auth_flows
    from chalicelib.logic.principal import Principal
else:
    auth_flows = lazy("chalicelib.logic.auth_flows")

bp = Blueprint(__name__)


def _tokens(tokens: Tokens) -> dict[str, Any]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "token_type": "Bearer",
    }


@route(bp, "/auth/signup", methods=["POST"], public=True)
def signup() -> Response:
    from chalicelib.api import schemas

    body = parse(schemas.SignupIn, json_body(bp.current_request))
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


@route(bp, "/auth/login", methods=["POST"], public=True)
def login() -> dict[str, Any]:
    from chalicelib.api import schemas

    body = parse(schemas.LoginIn, json_body(bp.current_request))
    result = auth_flows.login(body.email, body.password, source_ip(bp.current_request))
    if isinstance(result, auth_flows.MfaChallenge):
        return {"mfa_required": True, "mfa_token": result.mfa_token}
    return _tokens(result)


@route(bp, "/auth/mfa", methods=["POST"], public=True)
def mfa() -> dict[str, Any]:
    from chalicelib.api import schemas

    body = parse(schemas.MfaIn, json_body(bp.current_request))
    return _tokens(
        auth_flows.complete_mfa(body.mfa_token, body.code, source_ip(bp.current_request))
    )


@route(bp, "/auth/refresh", methods=["POST"], public=True)
def refresh() -> dict[str, Any]:
    from chalicelib.api import schemas

    body = parse(schemas.RefreshIn, json_body(bp.current_request))
    return _tokens(auth_flows.refresh(body.refresh_token, source_ip(bp.current_request)))


@route(bp, "/auth/logout", methods=["POST"])
def logout(principal: Principal) -> Response:
    auth_flows.logout(principal)
    return Response(body="", status_code=204)


@route(bp, "/me/mfa/totp", methods=["POST"])
def start_totp(principal: Principal) -> Response:
    secret, uri = auth_flows.start_totp_enrolment(principal)
    return Response(body={"secret": secret, "otpauth_uri": uri}, status_code=201)


@route(bp, "/me/mfa/totp/verify", methods=["POST"])
def verify_totp(principal: Principal) -> dict[str, Any]:
    from chalicelib.api import schemas

    body = parse(schemas.CodeIn, json_body(bp.current_request))
    auth_flows.verify_totp_enrolment(principal, body.code)
    return {"mfa_enabled": True}
