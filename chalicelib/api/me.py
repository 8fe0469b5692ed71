"""/me: the caller's own profile."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import route
from chalicelib.logic import me
from chalicelib.logic.access import Principal

bp = Blueprint(__name__)


@route(bp, "/me", methods=["GET"])
def get_me(principal: Principal) -> dict[str, Any]:
    found = me.get_me(principal)
    user = found.user
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "mfa_enabled": user.mfa_enabled,
        "mfa_verified": principal.mfa,
        "is_staff": user.is_staff,
        "memberships": [
            {"campaign_id": m.campaign_id, "campaign_name": name, "role": m.role.value}
            for m, name in found.memberships
        ],
    }
