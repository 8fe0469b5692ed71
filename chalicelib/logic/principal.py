"""Who the caller is: the check of an access token and its session, on every request.

Kept apart from sign-in (`auth_flows`) and from the policy questions (`access`): a request
with a bad token loads only this module, the token check and the sessions table's data
access before it is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.auth import tokens
from chalicelib.dal import sessions
from chalicelib.errors import NotAuthenticated


@dataclass(frozen=True)
class Principal:
    """The signed-in caller, as their token and live session vouch for them."""

    user_id: str
    session_id: str
    mfa: bool


def authenticate(access_token: str) -> Principal:
    """A valid token of a live, unrevoked session; `NotAuthenticated` otherwise."""
    claims = tokens.verify_access_token(access_token)
    session = sessions.get_session(str(claims["origin_jti"]))
    if session is None or session.revoked or session.expires_at < time.time():
        raise NotAuthenticated("the session has ended; sign in again")
    if session.user_id != claims["sub"]:
        raise NotAuthenticated("the token does not belong to this session")
    return Principal(user_id=session.user_id, session_id=session.session_id, mfa=session.mfa)
