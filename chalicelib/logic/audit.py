"""Reading the audit trail, and recording what no table change shows (sign-ins,
staff access)."""

from __future__ import annotations

from chalicelib.audit import store
from chalicelib.auth.policy import Permission
from chalicelib.domain.paging import Page
from chalicelib.logic import normalize
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal


def _since(value: str | None) -> str | None:
    from chalicelib.dal.common import iso

    moment = normalize.since(value)
    return iso(moment) if moment else None


def campaign_audit(
    principal: Principal, campaign_id: str, *, since: str | None, limit: int, cursor: str | None
) -> Page:
    require(principal, campaign_id, Permission.VIEW_AUDIT)
    return store.campaign_records(campaign_id, since=_since(since), limit=limit, cursor=cursor)
