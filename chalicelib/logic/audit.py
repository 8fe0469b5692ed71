"""Reading the audit trail, and recording what no table change shows (sign-ins,
staff access)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.audit import store
from chalicelib.auth.policy import Permission
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal


def _since(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("since", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise InvalidInput("since", "must carry a time zone (e.g. Z)")
    from chalicelib.dal.common import iso

    return iso(moment)


def campaign_audit(
    principal: Principal, campaign_id: str, *, since: str | None, limit: int, cursor: str | None
) -> Page:
    require(principal, campaign_id, Permission.VIEW_AUDIT)
    return store.campaign_records(campaign_id, since=_since(since), limit=limit, cursor=cursor)
