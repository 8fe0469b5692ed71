"""The custom authorizer: Cognito JWT (JWKS) plus the server-side session.

A request without an Authorization header is answered 401 by the gateway itself.
A header with a bad token, or a token of an ended session, is let through marked
unauthenticated, and the view layer answers 401 in the API's error shape (API
Gateway would otherwise answer a denial with a 403 in its own shape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest

from chalicelib.errors import NotAuthenticated, Unavailable
from chalicelib.lazy import lazy
from chalicelib.observability import log_auth

if TYPE_CHECKING:
    from chalicelib.logic import principal
else:
    principal = lazy("chalicelib.logic.principal")

bp = Blueprint(__name__)


@bp.authorizer(ttl_seconds=0)
def session_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Not cached (ttl 0): a logout or a revoked session takes effect at once."""
    scheme, _, token = (auth_request.token or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        reason = "the Authorization header must be 'Bearer <access_token>'"
    else:
        try:
            caller = principal.authenticate(token.strip())
        except NotAuthenticated as exc:
            reason = exc.message
        except Unavailable as exc:  # the view answers 503: not the caller's fault
            log_auth("token", "unavailable", exc.message)
            return AuthResponse(
                routes=["*"],
                principal_id="anonymous",
                context={"authenticated": "false", "unavailable": "true", "reason": exc.message},
            )
        else:
            return AuthResponse(
                routes=["*"],
                principal_id=caller.user_id,
                context={
                    "authenticated": "true",
                    "session_id": caller.session_id,
                    "mfa": "true" if caller.mfa else "false",
                },
            )
    log_auth("token", "failure", reason)
    return AuthResponse(
        routes=["*"],
        principal_id="anonymous",
        context={"authenticated": "false", "reason": reason},
    )
