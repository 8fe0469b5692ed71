"""Reports: a volunteer's outreach to one person, and what it discloses.

Filing a report on one of your own contacts is what discloses that contact to
the campaign: its name and the external id the campaign's lists give it, as a
snapshot that stays if the volunteer later deletes the contact. Nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.policy import Permission
from chalicelib.dal import actions as actions_dal
from chalicelib.dal import contacts as contacts_dal
from chalicelib.dal import reports as reports_dal
from chalicelib.dal.common import new_id, now_iso
from chalicelib.domain.actions import Action
from chalicelib.domain.paging import Page
from chalicelib.domain.reports import Report
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.logic import lists, matching, throttle
from chalicelib.logic.access import require, require_with
from chalicelib.logic.assignments import assigned_to
from chalicelib.logic.principal import Principal

if TYPE_CHECKING:
    from chalicelib.logic.inputs import AnswerIn, ReportIn


def _checked_responses(action: Action, responses: list[AnswerIn]) -> list[dict[str, str]]:
    """Responses must name questions of this action and responses of those questions."""
    questions = {q.question_id: {r.response_id for r in q.responses} for q in action.questions}
    seen: set[str] = set()
    for index, answer in enumerate(responses):
        question_id, response_id = answer.question_id, answer.response_id
        if question_id not in questions:
            raise InvalidInput(
                f"responses[{index}].question_id", "names no question of this action"
            )
        if response_id not in questions[question_id]:
            raise InvalidInput(
                f"responses[{index}].response_id", "names no response of that question"
            )
        if question_id in seen:
            raise InvalidInput(f"responses[{index}].question_id", "is answered twice")
        seen.add(question_id)
    return [{"question_id": a.question_id, "response_id": a.response_id} for a in responses]


def file_report(principal: Principal, campaign_id: str, action_id: str, given: ReportIn) -> Report:
    access, action = require_with(
        principal,
        campaign_id,
        Permission.FILE_REPORT,
        actions_dal.action_key(campaign_id, action_id),
    )
    throttle.check("report-member", f"{campaign_id}:{principal.user_id}")
    if action is None or action.deleted or (action.status != "live" and not access.is_admin):
        raise NotFound("no such action")  # a volunteer sees only live actions
    if action.status != "live":
        raise Conflict("reports can only be filed on a live action")
    contact_id, list_row_id = given.contact_id, given.list_row_id
    if (contact_id is None) == (list_row_id is None):
        raise InvalidInput("contact_id", "give exactly one of contact_id and list_row_id")
    responses = _checked_responses(action, given.responses)

    assignment = None
    if contact_id is not None:
        contact = contacts_dal.get_contact(principal.user_id, contact_id)
        if contact is None:
            raise NotFound("no such contact")
        match = matching.match_for(campaign_id, contact)
        name = contact.name
        external_id, provider, source_row = (
            (match.external_id, match.provider, lists.list_row_id(match.list_id, match.row_id))
            if match
            else (None, None, None)
        )
    else:
        assignment = None
        if not access.is_admin:
            # a volunteer may name only rows assigned to them for this action: any other
            # row is absent to them, whether or not it exists (or is well formed)
            try:
                list_id, row_id = lists.split_list_row_id(str(list_row_id))
            except InvalidInput:
                raise NotFound("no such list row") from None
            assignment = assigned_to(principal, campaign_id, action_id, list_id, row_id)
        row = lists.find_row(campaign_id, str(list_row_id))
        name = " ".join(p for p in (row.first_name, row.last_name) if p)
        external_id, provider, source_row = row.external_id, row.provider, str(list_row_id)

    report = Report(
        campaign_id=campaign_id,
        report_id=new_id(),
        action_id=action_id,
        user_id=principal.user_id,
        contact_id=contact_id,
        list_row_id=list_row_id,
        contact_name=name,
        external_id=external_id,
        external_provider=provider,
        source_row_id=source_row,
        result=given.result,
        responses=responses,
        notes=given.notes,
        created_at=now_iso(),
    )
    filed = reports_dal.create_report(report)
    if contact_id is not None:  # made matched or not: the calls tell the filer nothing
        from chalicelib.dal import targets as targets_dal

        targets_dal.mark_reported(principal.user_id, campaign_id, contact_id)
    if list_row_id is not None and assignment is not None:
        from chalicelib.dal import assignments as assignments_dal

        assignments_dal.mark_reported(campaign_id, action_id, assignment.list_id, assignment.row_id)
    return filed


def list_reports(principal: Principal, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    require(principal, campaign_id, Permission.VIEW_REPORTS)
    return reports_dal.list_campaign_reports(campaign_id, limit=limit, cursor=cursor)


def authors_present(reports: list[Report]) -> set[str]:
    """Which of the reports' authors still have an account (one BatchGetItem a page)."""
    from chalicelib.dal import users as users_dal

    return set(users_dal.get_users(sorted({r.user_id for r in reports})))


def my_reports(principal: Principal, *, limit: int, cursor: str | None) -> Page:
    return reports_dal.list_user_reports(principal.user_id, limit=limit, cursor=cursor)
