"""Reports: what a volunteer's outreach disclosed to the campaign (main table)."""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.dal import stats
from chalicelib.dal.common import id_floor, paged_query
from chalicelib.dal.db import conflicted, failed_conditions, transaction
from chalicelib.dal.models import MemberModel, ReportModel
from chalicelib.domain.paging import Page
from chalicelib.domain.reports import Report
from chalicelib.errors import NotFound


def _report(item: ReportModel) -> Report:
    return Report(
        campaign_id=item.campaign_id,
        report_id=item.report_id,
        action_id=item.action_id,
        user_id=item.user_id,
        contact_id=item.contact_id,
        list_row_id=item.list_row_id,
        contact_name=item.contact_name,
        external_id=item.external_id,
        result=item.result,
        responses=list(item.responses or []),
        notes=item.notes,
        created_at=item.created_at,
        source_row_id=item.source_row_id,
        external_provider=item.external_provider,
    )


def report_counts(report: Report) -> tuple[str, dict[str, int]]:
    """What a report adds to its action's dashboard counters."""
    counts = {"reports": 1, f"result:{report.result}": 1}
    for answer in report.responses:
        counts[f"answer:{answer['question_id']}:{answer['response_id']}"] = 1
    return stats.action_scope(report.action_id), counts


_TRIES = 4  # a report's transaction, cancelled by a concurrent one on its counters


def create_report(report: Report) -> Report:
    """The report, the reporter's count in the campaign and the action's dashboard counters,
    in one transaction; tried again (the same report, so at most once) when a concurrent
    transaction on one of those counters cancelled it."""
    for attempt in range(_TRIES):
        try:
            _write_report(report)
            return report
        except TransactWriteError as exc:
            if any(failed_conditions(exc)):
                raise NotFound("no such campaign") from None
            if not conflicted(exc) or attempt == _TRIES - 1:
                raise
            time.sleep((10 + secrets.randbelow(40)) / 1000 * (attempt + 1))
    raise AssertionError("unreachable")


def _write_report(report: Report) -> None:
    with_member = MemberModel(f"CAMPAIGN#{report.campaign_id}", f"MEMBER#{report.user_id}")
    with transaction() as tx:
        tx.save(
            ReportModel(
                f"CAMPAIGN#{report.campaign_id}",
                f"REPORT#{report.report_id}",
                entity="report",
                gsi1pk=f"USER#{report.user_id}",
                gsi1sk=f"REPORT#{report.report_id}",
                campaign_id=report.campaign_id,
                report_id=report.report_id,
                action_id=report.action_id,
                user_id=report.user_id,
                contact_id=report.contact_id,
                list_row_id=report.list_row_id,
                contact_name=report.contact_name,
                external_id=report.external_id,
                external_provider=report.external_provider,
                source_row_id=report.source_row_id,
                result=report.result,
                responses=report.responses,
                notes=report.notes,
                created_at=report.created_at,
                updated_at=report.created_at,
                updated_by=report.user_id,
            ),
            condition=ReportModel.pk.does_not_exist(),
        )
        tx.update(
            with_member,
            actions=[
                MemberModel.reports_count.add(1),
                MemberModel.updated_at.set(report.created_at),
                MemberModel.updated_by.set(report.user_id),
            ],
            condition=MemberModel.pk.exists(),
        )
        tx.update(*stats.counter_update(report.campaign_id, *report_counts(report)))


def get_report(campaign_id: str, report_id: str) -> Report | None:
    try:
        return _report(ReportModel.get(f"CAMPAIGN#{campaign_id}", f"REPORT#{report_id}"))
    except DoesNotExist:
        return None


def list_campaign_reports(
    campaign_id: str, *, limit: int, cursor: str | None, since: datetime | None = None
) -> Page:
    """The campaign's reports, newest first; with `since`, only those filed from then on
    (report ids sort by time: a key range, not a filter)."""
    condition = (
        ReportModel.sk.between(f"REPORT#{id_floor(since)}", "REPORT#~")
        if since is not None
        else ReportModel.sk.startswith("REPORT#")
    )
    return paged_query(
        ReportModel,
        f"CAMPAIGN#{campaign_id}",
        scope=f"reports:{campaign_id}" + (f":{since.isoformat()}" if since else ""),
        limit=limit,
        cursor=cursor,
        convert=_report,
        range_key_condition=condition,
        newest_first=True,
    )


def list_user_reports(user_id: str, *, limit: int, cursor: str | None) -> Page:
    return paged_query(
        ReportModel,
        f"USER#{user_id}",
        scope=f"my-reports:{user_id}",
        limit=limit,
        cursor=cursor,
        convert=_report,
        range_key_condition=ReportModel.gsi1sk.startswith("REPORT#"),
        index=ReportModel.gsi1,
        newest_first=True,
    )


def report_from_image(image: dict[str, Any]) -> Report | None:
    """The report a stream record's NewImage holds (None for any other item)."""
    if image.get("entity", {}).get("S") != "report":
        return None
    item = ReportModel.from_raw_data(image)
    item.serialize(null_check=True)  # raises when a required attribute is missing
    return _report(item)
