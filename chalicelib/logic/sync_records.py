"""What admins see and do of the CRM sync: each report's sync records, and failed records
put back to pending. The sync itself runs in `logic.sync`."""

from __future__ import annotations

from chalicelib.auth.policy import Permission
from chalicelib.dal import integrations as integrations_dal
from chalicelib.domain.integrations import SyncRecord, SyncState
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput
from chalicelib.logic import integrations
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal


def retry_failed(principal: Principal, campaign_id: str, provider: str) -> None:
    """Put a provider's failed records back to pending (an admin's decision): in the
    background, as the request would otherwise read every sync record of the campaign."""
    from chalicelib.logic import work_queue

    require(principal, campaign_id, Permission.MANAGE_INTEGRATIONS)
    integrations.check_provider(provider)
    work_queue.send(
        [
            {
                "kind": "retry_failed",
                "cid": campaign_id,
                "provider": provider,
                "actor": principal.user_id,
            }
        ]
    )


def requeue_failed(campaign_id: str, provider: str, actor: str) -> int:
    """The background half of `retry_failed`: how many records went back to pending."""
    count = 0
    for record in integrations_dal.failed_records(campaign_id, provider):
        if integrations_dal.requeue(campaign_id, record.report_id, provider, actor):
            count += 1
    return count


def list_records(
    principal: Principal, campaign_id: str, *, state: str | None, limit: int, cursor: str | None
) -> Page:
    require(principal, campaign_id, Permission.VIEW_INTEGRATIONS)
    if state is not None and state not in SyncState._value2member_map_:
        raise InvalidInput("state", f"must be one of {', '.join(SyncState)}")
    return integrations_dal.list_records(campaign_id, state=state, limit=limit, cursor=cursor)


def records_for_reports(campaign_id: str, report_ids: list[str]) -> dict[str, list[SyncRecord]]:
    return integrations_dal.records_for_reports(campaign_id, report_ids)
