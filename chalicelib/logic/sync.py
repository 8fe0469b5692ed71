"""Reports to the campaign's CRMs: none lost, none posted twice, no person created.

A new report (from the main table's stream) gets one sync record per configured
provider, and a first attempt at once. The schedule retries what is due, with
backoff and a limit on attempts. Every attempt claims its record first (see
`dal.integrations`): whoever loses the claim does nothing.

What is written, per provider, from the action's sync instructions:
- VAN: a `canvassed` report with mapped answers or activist codes -> survey
  responses and activist codes; any other result -> its mapped result code;
  never both in one call.
- PDI: flags (the result's flag, each answer's flag with its question, each tag),
  one POST /flags array for all the reports of a batch.
- Salsa: the supporter is searched first and written only when FOUND: segments for
  the result and tags, custom fields for answers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib.auth.policy import Permission
from chalicelib.crm import (
    CredentialsRejected,
    CrmError,
    EndpointNotAllowed,
    OutcomeUnknown,
    PersonNotFound,
    RateLimited,
)
from chalicelib.dal import integrations as integrations_dal
from chalicelib.dal import reports as reports_dal
from chalicelib.dal.common import now_iso
from chalicelib.domain import Integration, Page, Report, SyncRecord
from chalicelib.errors import InvalidInput
from chalicelib.logic import integrations
from chalicelib.logic.access import Principal, require
from chalicelib.observability import logger

SYSTEM = "system:crm-sync"
MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)
BACKOFF_BASE = 60  # seconds: 1, 2, 4, 8, 16 minutes between attempts
VAN_CONTACT_TYPES = {"call": "1", "canvass": "2", "text": "37", "share": "81", "survey": "2"}
DEFAULT_PDI_ACQUISITION_TYPE = "1"


class Skip(Exception):
    """Nothing to send for this report and provider; the reason is kept."""


@dataclass
class Attempt:
    record: SyncRecord
    report: Report
    token: str


@dataclass
class Outcome:
    state: str
    error: str | None = None
    retry_at: str | None = None


@dataclass
class _Batch:
    attempts: list[Attempt] = field(default_factory=list)


# ---- entry points ----------------------------------------------------------------------


def open_records(report: Report) -> None:
    """A new report: one pending record per configured provider (once, however often
    the report is delivered)."""
    for integration in integrations_dal.list_integrations(report.campaign_id):
        integrations_dal.create_record(
            report.campaign_id, report.report_id, integration.provider, SYSTEM
        )


def first_attempts(reports: list[Report]) -> None:
    """Attempt the records of new reports together (a redelivered one is not attempted
    again: its claim fails)."""
    keys = []
    for report in reports:
        for integration in integrations_dal.list_integrations(report.campaign_id):
            keys.append((report.campaign_id, report.report_id, integration.provider))
    attempt_all(keys, reports={r.report_id: r for r in reports})


def run_due(limit: int = 200) -> int:
    """The schedule: attempt every record that is due; returns how many were looked at."""
    due = integrations_dal.due_records(now_iso(), limit)
    stamp = now_iso()
    keys = []
    for record in due:
        if record.claim is not None:
            if record.claimed_until and record.claimed_until < stamp and record.claim:
                logger.warning(
                    "sync attempt interrupted",
                    extra={"report_id": record.report_id, "provider": record.provider},
                )
                integrations_dal.abandon_stale_claim(
                    record.campaign_id, record.report_id, record.provider, record.claim, SYSTEM
                )
            continue
        keys.append((record.campaign_id, record.report_id, record.provider))
    attempt_all(keys)
    return len(due)


def attempt_all(
    keys: Iterable[tuple[str, str, str]], reports: dict[str, Report] | None = None
) -> None:
    """Claim and attempt records, grouped by campaign and provider (PDI posts a batch)."""
    groups: dict[tuple[str, str], _Batch] = {}
    known = dict(reports or {})
    for campaign_id, report_id, provider in keys:
        token = secrets.token_hex(16)
        record = integrations_dal.claim(campaign_id, report_id, provider, token, LEASE, SYSTEM)
        if record is None:
            continue  # synced, skipped, failed for good, or someone else's attempt
        report = known.get(report_id) or reports_dal.get_report(campaign_id, report_id)
        if report is None:
            _finish(
                Attempt(record, _missing_report(record), token),
                Outcome("skipped", "the report is gone"),
            )
            continue
        known[report_id] = report
        groups.setdefault((campaign_id, provider), _Batch()).attempts.append(
            Attempt(record, report, token)
        )
    for (campaign_id, provider), batch in groups.items():
        integration = integrations_dal.get_integration(campaign_id, provider)
        if integration is None:
            for attempt in batch.attempts:
                _finish(attempt, Outcome("skipped", f"{provider} is no longer configured"))
            continue
        _attempt_batch(integration, batch.attempts)


def retry_failed(principal: Principal, campaign_id: str, provider: str) -> int:
    """Put a provider's failed records back to pending (an admin's decision)."""
    require(principal, campaign_id, Permission.MANAGE_INTEGRATIONS)
    integrations.check_provider(provider)
    count = 0
    for record in integrations_dal.failed_records(campaign_id, provider):
        if integrations_dal.requeue(campaign_id, record.report_id, provider, principal.user_id):
            count += 1
    return count


def list_records(
    principal: Principal, campaign_id: str, *, state: str | None, limit: int, cursor: str | None
) -> Page:
    require(principal, campaign_id, Permission.VIEW_INTEGRATIONS)
    if state is not None and state not in ("pending", "synced", "failed", "skipped"):
        raise InvalidInput("state", "must be one of pending, synced, failed, skipped")
    return integrations_dal.list_records(campaign_id, state=state, limit=limit, cursor=cursor)


def records_for_reports(campaign_id: str, report_ids: list[str]) -> dict[str, list[SyncRecord]]:
    return integrations_dal.records_for_reports(campaign_id, report_ids)


# ---- attempts ----------------------------------------------------------------------------


def _missing_report(record: SyncRecord) -> Report:
    return Report(
        record.campaign_id, record.report_id, "", "", None, None, "", None, "", [], None, ""
    )


def _finish(attempt: Attempt, outcome: Outcome) -> None:
    record = attempt.record
    integrations_dal.finish(
        record.campaign_id,
        record.report_id,
        record.provider,
        attempt.token,
        state=outcome.state,
        error=outcome.error,
        retry_at=outcome.retry_at,
        actor=SYSTEM,
    )
    logger.info(
        "crm sync",
        extra={
            "kind": "crm_sync",
            "report_id": record.report_id,
            "provider": record.provider,
            "state": outcome.state,
            "attempt": record.attempts,
            "error": outcome.error,
        },
    )


def _failure(attempt: Attempt, exc: Exception) -> Outcome:
    """What an error means for the record: retried later, or failed for good."""
    message = str(getattr(exc, "message", "") or type(exc).__name__)
    if isinstance(exc, OutcomeUnknown):
        return Outcome(
            "failed", f"{message} (not retried automatically: check the CRM, then retry)"
        )
    if isinstance(exc, PersonNotFound):
        return Outcome("failed", "the person is not in the CRM (no one is ever created)")
    if isinstance(exc, ValueError):  # what we would send is not valid for this CRM
        return Outcome("failed", f"not sent: {exc}")
    if isinstance(exc, EndpointNotAllowed):
        return Outcome("failed", "internal error: a call outside the allowed endpoints")
    retryable = isinstance(exc, CrmError) and (
        exc.retryable or isinstance(exc, CredentialsRejected)
    )
    if retryable and attempt.record.attempts < MAX_ATTEMPTS:
        delay = BACKOFF_BASE * 2 ** (attempt.record.attempts - 1)
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        return Outcome("failed", message, integrations_dal.later(delay))
    if retryable:
        return Outcome("failed", f"{message} (after {attempt.record.attempts} attempts)")
    return Outcome("failed", message)


def _attempt_batch(integration: Integration, attempts: list[Attempt]) -> None:
    instructions = integration.instructions.get("actions", {})
    ready: list[tuple[Attempt, Any]] = []
    for attempt in attempts:
        try:
            ready.append((attempt, _plan(integration.provider, attempt.report, instructions)))
        except Skip as reason:
            _finish(attempt, Outcome("skipped", str(reason)))
    if not ready:
        return
    try:
        client = integrations.client_for(integration)
    except Exception as exc:  # the sealed credentials cannot be opened
        logger.exception("crm client unavailable", extra={"provider": integration.provider})
        for attempt, _ in ready:
            _finish(attempt, _failure(attempt, CrmError(integration.provider, type(exc).__name__)))
        return
    try:
        if integration.provider == "pdi":
            _send_pdi(client, ready)
        else:
            for attempt, plan in ready:
                try:
                    _send_one(integration.provider, client, attempt.report, plan)
                except Exception as exc:  # one bad report fails alone
                    _finish(attempt, _failure(attempt, exc))
                else:
                    _finish(attempt, Outcome("synced"))
    finally:
        client.close()


def _send_pdi(client: Any, ready: list[tuple[Attempt, Any]]) -> None:
    flags = [flag for _attempt, plan in ready for flag in plan]
    try:
        client.post_flags(flags)
    except Exception as exc:
        for attempt, _ in ready:
            _finish(attempt, _failure(attempt, exc))
        return
    for attempt, _ in ready:
        _finish(attempt, Outcome("synced"))


def _send_one(provider: str, client: Any, report: Report, plan: dict[str, Any]) -> None:
    if provider == "van":
        client.post_canvass_response(report.external_id, **plan)
        return
    supporter = str(report.external_id)
    if not client.person_exists(supporter):
        raise PersonNotFound("salsa", supporter)
    for segment in plan["segments"]:
        client.add_to_segment(segment, [supporter])
    if plan["fields"]:
        client.set_custom_fields(supporter, plan["fields"])


# ---- what to write -------------------------------------------------------------------------


def _plan(provider: str, report: Report, instructions: dict[str, Any]) -> Any:
    if not report.external_id:
        raise Skip("the contact has no external id from this campaign's lists")
    mapping = instructions.get(report.action_id)
    if not mapping:
        raise Skip("nothing is mapped for this action")
    answers = []
    for answer in report.responses:
        question = mapping.get("questions", {}).get(answer["question_id"])
        if question and answer["response_id"] in question.get("responses", {}):
            answers.append(
                (question["external_question_id"], question["responses"][answer["response_id"]])
            )
    codes = list(mapping.get("activist_codes", []))
    result_code = mapping.get("results", {}).get(report.result)
    day = report.created_at[:10]
    if provider == "van":
        return _van_plan(report, mapping, answers, codes, result_code, day)
    if provider == "pdi":
        return _pdi_plan(report, mapping, answers, codes, result_code, day)
    return _salsa_plan(answers, codes, result_code)


def _van_plan(
    report: Report, mapping: dict[str, Any], answers: list, codes: list, result_code: Any, day: str
) -> dict[str, Any]:
    from chalicelib.dal import actions as actions_dal

    contact_type = mapping.get("contact_type_id")
    if contact_type is None:
        action = actions_dal.get_action(report.campaign_id, report.action_id)
        contact_type = VAN_CONTACT_TYPES.get(action.type if action else "", "2")
    plan: dict[str, Any] = {"date": day, "contact_type_id": int(contact_type)}
    if report.result == "canvassed":
        if not answers and not codes:
            raise Skip("a canvassed report with no mapped answers or activist codes")
        plan["survey_responses"] = [(int(q), int(r)) for q, r in answers]
        plan["activist_codes"] = [int(c) for c in codes]
    else:
        if result_code is None:
            raise Skip(f"the result '{report.result}' is not mapped to a VAN result code")
        plan["result_code_id"] = int(result_code)
    return plan


def _pdi_plan(
    report: Report, mapping: dict[str, Any], answers: list, codes: list, result_code: Any, day: str
) -> list[dict[str, str]]:
    from chalicelib.crm.pdi import make_flag

    acquisition = mapping.get("acquisition_type_id") or DEFAULT_PDI_ACQUISITION_TYPE
    pdi_id = str(report.external_id)
    flags = []
    if result_code is not None:
        flags.append(make_flag(pdi_id, result_code, date=day, acquisition_type_id=acquisition))
    for question_id, flag_id in answers:
        flags.append(
            make_flag(
                pdi_id, flag_id, date=day, acquisition_type_id=acquisition, question_id=question_id
            )
        )
    for code in codes:
        flags.append(make_flag(pdi_id, code, date=day, acquisition_type_id=acquisition))
    if not flags:
        raise Skip("nothing mapped for this result or these answers")
    return flags


def _salsa_plan(answers: list, codes: list, result_code: Any) -> dict[str, Any]:
    segments = ([str(result_code)] if result_code is not None else []) + [str(c) for c in codes]
    fields = [{"fieldId": str(q), "value": str(r)} for q, r in answers]
    if not segments and not fields:
        raise Skip("nothing mapped for this result or these answers")
    return {"segments": list(dict.fromkeys(segments)), "fields": fields}
