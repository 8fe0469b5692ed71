"""Reports to the campaign's CRMs: none lost, none posted twice, no person created.

A new report (from the main table's stream) gets one sync record per configured
provider, and a first attempt at once. The schedule retries what is due, with
backoff and a limit on attempts. Every attempt claims its record first (see
`dal.integrations`): whoever loses the claim does nothing. A new report's record is
created already claimed for its first attempt, so that attempt costs two writes (the
record, its outcome); a claim the invocation does not use (its time ran out, the
provider is down or paused) is given back, its attempt unspent.

Throughput. A provider that takes one report per call (VAN, Salsa) has an invocation
send a batch's reports from a small pool of threads (WORKERS, each with its own client:
clients are not thread-safe), paced by the provider account's rate limiter
(`crm.ratelimit.RateLimiter`, shared by the threads of the process) instead of running
into 429s. Each thread claims a record only just before sending it, so a claim is
never held while the record waits for its turn. An invocation starts attempts for
BUDGET seconds at most, and its calls stop waiting or retrying SEND_GRACE seconds
later (Lambda stops it at 30): what it has not claimed by then stays due, for the
schedule. A 429 is not the record's fault: the record is tried again after the
provider's Retry-After, with more attempts than other errors get.

What is written, from the action's sync instructions, is each provider's own business
(`logic.providers`): the runner knows none by name.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.crm import (
    CredentialsRejected,
    CrmError,
    DeadlineExceeded,
    EndpointNotAllowed,
    OutcomeUnknown,
    PersonNotFound,
    RateLimited,
    TransientCrmError,
)
from chalicelib.dal import integrations as integrations_dal
from chalicelib.dal import reports as reports_dal
from chalicelib.dal.common import chunks, now_iso
from chalicelib.domain.integrations import Integration, SyncRecord
from chalicelib.domain.lists import VoterList
from chalicelib.domain.reports import Report
from chalicelib.errors import DomainError
from chalicelib.logic import breaker, integrations, providers
from chalicelib.logic.providers import Skip
from chalicelib.observability import count, logger

SYSTEM = "system:crm-sync"
MAX_ATTEMPTS = 6
MAX_RATE_LIMITED_ATTEMPTS = 24  # a 429 says "not now", not "never": more patience for it
WORKERS = 8  # threads sending one batch's reports (VAN, Salsa) at once
BUDGET = 12.0  # seconds an invocation starts attempts for (Lambda's timeout is 30 s)
SEND_GRACE = 6.0  # seconds after that an attempt may still wait for its turn or to retry
RUN_DUE_PAGES = 25  # pages of due records one scheduled run takes at most
CLIENT_TTL = 300.0  # seconds a thread keeps a CRM client (and its connections) for reuse
CLIENTS_PER_THREAD = 4
PAUSED_WAIT = 900.0  # a paused integration's records are looked at again this much later
LEASE = timedelta(minutes=5)
BACKOFF_BASE = 60  # seconds: 1, 2, 4, 8, 16 minutes between attempts


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
    outage: bool = False  # the provider could not be reached or failed: not the record's doing


# ---- the circuit breaker ------------------------------------------------------------------
# BREAKER_THRESHOLD outages in a row for one provider account open its breaker: sync then
# waits (no record is claimed, no attempt spent) for a cool-down that doubles each time it
# opens again, then tries one record; a success closes it.
class _Batch:
    """The records of one campaign and provider that one invocation attempts: what their
    attempts share (the integration, reports already in hand, the campaign's time zone)."""

    def __init__(
        self,
        campaign_id: str,
        provider: str,
        integration: Integration | None,
        reports: dict[str, Report],
        claimed: dict[tuple[str, str, str], Attempt],
    ) -> None:
        self.campaign_id = campaign_id
        self.provider = provider
        self.integration = integration
        self.instructions = integration.instructions.get("actions", {}) if integration else {}
        self.reports = reports
        self.claimed = claimed
        self.crm = providers.get(provider)
        self.zone: ZoneInfo | None = None
        self.lists: dict[str, VoterList | None] = {}

    def claim(self, report_id: str) -> Attempt | None:
        """Claim the record, with its report; None when it is not ours to attempt now. A
        record whose report is gone is finished here (skipped)."""
        held = self.claimed.pop((self.campaign_id, report_id, self.provider), None)
        if held is not None:  # created claimed for this attempt
            return held
        token = secrets.token_hex(16)
        record = integrations_dal.claim(
            self.campaign_id, report_id, self.provider, token, LEASE, SYSTEM
        )
        if record is None:
            return None  # synced, skipped, failed for good, or someone else's attempt
        report = self.reports.get(report_id) or reports_dal.get_report(self.campaign_id, report_id)
        if report is None:
            _finish(
                Attempt(record, _missing_report(record), token),
                Outcome("skipped", "the report is gone"),
            )
            return None
        return Attempt(record, report, token)

    def plan(self, attempt: Attempt) -> Any:
        """What to send for this attempt; raises Skip when there is nothing."""
        report = attempt.report
        mapped = providers.mapped(report, self.provider, self.instructions)
        return self.crm.plan(report, mapped, self)

    # what a plan may need beyond the report (`providers.Lookups`)

    def local_day(self, report: Report) -> str:
        """The day the contact was made in the campaign's time zone (its setting, read once
        per batch): 8 pm in California is not the next day."""
        if self.zone is None:
            from chalicelib.dal import campaigns as campaigns_dal
            from chalicelib.logic.campaigns import DEFAULT_TIME_ZONE, time_zone_of

            campaign = campaigns_dal.get_campaign(self.campaign_id)
            self.zone = ZoneInfo(time_zone_of(campaign) if campaign else DEFAULT_TIME_ZONE)
        moment = datetime.fromisoformat(report.created_at.replace("Z", "+00:00"))
        return moment.astimezone(self.zone).date().isoformat()

    @property
    def settings(self) -> dict[str, Any]:
        return self.integration.settings if self.integration else {}

    def list_of(self, report: Report) -> VoterList | None:
        """The list the report's external id came from (each read once per batch)."""
        from chalicelib.dal import lists as lists_dal
        from chalicelib.logic.lists import split_list_row_id

        if not report.source_row_id:
            return None
        try:
            list_id, _row = split_list_row_id(report.source_row_id)
        except DomainError:
            return None
        if list_id not in self.lists:
            self.lists[list_id] = lists_dal.get_list(self.campaign_id, list_id)
        return self.lists[list_id]

    def row_phone(self, report: Report) -> str | None:
        """The phone on the campaign's own list row that gave the external id (campaign
        data: a volunteer's contact's phone is never sent)."""
        from chalicelib.logic import lists

        if not report.source_row_id:
            return None
        try:
            return lists.find_row(report.campaign_id, report.source_row_id).phone or None
        except DomainError:
            return None


# ---- entry points ----------------------------------------------------------------------


def _integrations(campaign_id: str, known: dict[str, list[Integration]]) -> list[Integration]:
    """The campaign's integrations, read once per batch (`known` holds those read)."""
    if campaign_id not in known:
        known[campaign_id] = integrations_dal.list_integrations(campaign_id)
    return known[campaign_id]


def open_records(
    report: Report, known: dict[str, list[Integration]] | None = None
) -> list[Attempt]:
    """A new report: one record per configured provider (once, however often the report
    is delivered), each created claimed for its first attempt: the attempts to make, for
    `first_attempts`. `known`: the batch's integrations, by campaign."""
    attempts = []
    for integration in _integrations(report.campaign_id, {} if known is None else known):
        token = secrets.token_hex(16)
        record = integrations_dal.create_record(
            report.campaign_id,
            report.report_id,
            integration.provider,
            SYSTEM,
            claim=token,
            lease=LEASE,
        )
        if record is not None:  # None: delivered before, and attempted then
            attempts.append(Attempt(record, report, token))
    return attempts


def first_attempts(attempts: list[Attempt]) -> None:
    """Make the first attempts of new reports together (PDI gets one array); a claim not
    used (time ran out, the provider is down or paused) is given back, still due."""
    claimed = {(a.record.campaign_id, a.record.report_id, a.record.provider): a for a in attempts}
    try:
        attempt_all(
            list(claimed), reports={a.report.report_id: a.report for a in attempts}, claimed=claimed
        )
    finally:
        for (campaign_id, report_id, provider), attempt in list(claimed.items()):
            integrations_dal.release(campaign_id, report_id, provider, attempt.token, SYSTEM)


def run_due(limit: int = 200) -> int:
    """The schedule: attempt the records that are due, a page of `limit` at a time, for
    BUDGET seconds at most; returns how many were looked at."""
    deadline = time.monotonic() + BUDGET
    looked = 0
    for _ in range(RUN_DUE_PAGES):
        due = integrations_dal.due_records(now_iso(), limit)
        looked += len(due)
        stamp = now_iso()
        keys = []
        waiting: dict[tuple[str, str], str | None] = {}
        for record in due:
            account = (record.campaign_id, record.provider)
            if account not in waiting:
                waiting[account] = breaker.open_until(*account)
            until = waiting[account]
            if until is not None and record.claim is None:
                # its provider is down: it waits for the breaker, its attempts unspent, and
                # leaves the front of the queue to the other accounts' records
                integrations_dal.postpone(
                    record.campaign_id, record.report_id, record.provider, until, SYSTEM
                )
                continue
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
        attempt_all(keys, deadline=deadline)
        if len(due) < limit or not keys or time.monotonic() >= deadline:
            break
    return looked


def attempt_all(
    keys: Iterable[tuple[str, str, str]],
    reports: dict[str, Report] | None = None,
    deadline: float | None = None,
    claimed: dict[tuple[str, str, str], Attempt] | None = None,
) -> None:
    """Claim and attempt records, grouped by campaign and provider (PDI posts a batch; VAN
    and Salsa reports go from a pool of threads). Records not claimed before `deadline`
    (time.monotonic(); by default BUDGET from now) are left as they are, still due.
    `claimed`: attempts already claimed, by key; each one used is taken out of it."""
    if deadline is None:
        deadline = time.monotonic() + BUDGET
    groups: dict[tuple[str, str], list[str]] = {}
    for campaign_id, report_id, provider in keys:
        groups.setdefault((campaign_id, provider), []).append(report_id)
    known = dict(reports or {})
    for (campaign_id, provider), report_ids in groups.items():
        if time.monotonic() >= deadline:
            return
        allowed = breaker.allows(campaign_id, provider)
        if allowed == 0:
            continue  # the provider is down: its records wait, their attempts unspent
        if allowed is not None:
            report_ids = report_ids[:allowed]
        integration = integrations_dal.get_integration(campaign_id, provider)
        batch = _Batch(
            campaign_id, provider, integration, known, {} if claimed is None else claimed
        )
        if integration is None:
            for report_id in report_ids:
                attempt = batch.claim(report_id)
                if attempt is not None:
                    _finish(attempt, Outcome("skipped", f"{provider} is no longer configured"))
        elif integration.paused_at:  # an operator paused it: the records wait, unspent
            for report_id in report_ids:
                integrations_dal.postpone(
                    campaign_id, report_id, provider, integrations_dal.later(PAUSED_WAIT), SYSTEM
                )
        elif batch.crm.batch_size > 1:
            _attempt_together(batch, report_ids, deadline)
        else:
            _attempt_each(batch, report_ids, deadline)


# ---- attempts ----------------------------------------------------------------------------


def _missing_report(record: SyncRecord) -> Report:
    return Report(
        record.campaign_id, record.report_id, "", "", None, None, "", None, "", [], None, ""
    )


_OUTCOME_METRICS = {"synced": "CrmSynced", "failed": "CrmSyncFailed", "skipped": "CrmSkipped"}


def _finish(attempt: Attempt, outcome: Outcome) -> None:
    record = attempt.record
    breaker.note(
        record.campaign_id, record.provider, outage=outcome.outage, synced=outcome.state == "synced"
    )
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
    count(_OUTCOME_METRICS[outcome.state])
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
    if isinstance(exc, RateLimited) and attempt.record.attempts < MAX_RATE_LIMITED_ATTEMPTS:
        # not taken, and not the record's fault: again once the provider allows it
        delay = exc.retry_after if exc.retry_after is not None else BACKOFF_BASE
        return Outcome("failed", message, integrations_dal.later(delay))
    retryable = isinstance(exc, CrmError) and (
        exc.retryable or isinstance(exc, CredentialsRejected)
    )
    outage = isinstance(exc, TransientCrmError) and not isinstance(exc, DeadlineExceeded)
    if retryable and attempt.record.attempts < MAX_ATTEMPTS:
        delay = BACKOFF_BASE * 2 ** (attempt.record.attempts - 1)
        return Outcome("failed", message, integrations_dal.later(delay), outage=outage)
    if retryable:
        return Outcome(
            "failed", f"{message} (after {attempt.record.attempts} attempts)", outage=outage
        )
    return Outcome("failed", message)


def _unplannable(exc: Exception) -> Outcome:
    """Nothing was sent: what the report maps to cannot be written for this CRM."""
    logger.exception("crm sync: the report's mapping cannot be used")
    return Outcome("failed", f"not sent: the mapping cannot be used ({type(exc).__name__})")


def _client_failure(batch: _Batch, attempts: list[Attempt], exc: Exception) -> None:
    logger.exception("crm client unavailable", extra={"provider": batch.provider})
    for attempt in attempts:
        _finish(attempt, _failure(attempt, CrmError(batch.provider, type(exc).__name__)))


def _attempt_together(batch: _Batch, report_ids: list[str], deadline: float) -> None:
    """A provider that takes many reports a call (PDI): claim them all, then send them
    `batch_size` at a time, each report finished by its own outcome."""
    assert batch.integration is not None
    ready: list[tuple[Attempt, Any]] = []
    for report_id in report_ids:
        if time.monotonic() >= deadline:
            break
        attempt = batch.claim(report_id)
        if attempt is None:
            continue
        try:
            ready.append((attempt, batch.plan(attempt)))
        except Skip as reason:
            _finish(attempt, Outcome("skipped", str(reason)))
        except Exception as exc:  # a mapping this CRM cannot take fails its record alone
            _finish(attempt, _unplannable(exc))
    if not ready:
        return
    try:
        client = _client_for(batch.integration)
    except Exception as exc:  # the sealed credentials cannot be opened
        _client_failure(batch, [attempt for attempt, _ in ready], exc)
        return
    from chalicelib.crm.retries import deadline as crm_deadline

    for part in chunks(ready, batch.crm.batch_size):
        with crm_deadline(deadline + SEND_GRACE):
            outcomes = batch.crm.send(client, [(a.report, plan) for a, plan in part])
        for (attempt, _plan), error in zip(part, outcomes, strict=True):
            _finish(attempt, Outcome("synced") if error is None else _failure(attempt, error))


_local = threading.local()


def _client_for(integration: Integration) -> Any:
    """This thread's client for the integration. Kept for CLIENT_TTL seconds and reused by the
    next batches (a warm Lambda keeps it): no KMS call to open the credentials, no new TLS
    connection and, for PDI, no new sign-in per batch. Keyed by the sealed credentials, so a
    reconfigured integration gets a new client; a client is never shared between threads."""
    clients: dict[tuple[str, str, str], tuple[Any, float]] = _local.__dict__.setdefault(
        "clients", {}
    )
    sealed = hashlib.sha256(integration.sealed_credentials.encode()).hexdigest()
    key = (integration.campaign_id, integration.provider, sealed)
    moment = time.monotonic()
    for old_key, (old_client, made) in list(clients.items()):
        if moment - made >= CLIENT_TTL:
            del clients[old_key]
            old_client.close()
    if key in clients:
        return clients[key][0]
    while len(clients) >= CLIENTS_PER_THREAD:
        oldest = min(clients, key=lambda k: clients[k][1])
        clients.pop(oldest)[0].close()
    client = integrations.client_for(integration)
    clients[key] = (client, moment)
    return client


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The process's worker threads, kept across invocations (a warm Lambda keeps them, and
    with them each thread's DynamoDB connection)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="crm-sync")
        return _pool


def _attempt_each(batch: _Batch, report_ids: list[str], deadline: float) -> None:
    """VAN, Salsa: one call (or a few) per report, from up to WORKERS threads at once."""
    queue = deque(report_ids)
    workers = min(WORKERS, len(queue))
    if workers <= 1:
        _work(batch, queue, deadline)
        return
    futures = [_executor().submit(_work, batch, queue, deadline) for _ in range(workers)]
    errors = [exc for exc in (future.exception() for future in futures) if exc is not None]
    if errors:
        raise errors[0]


def _work(batch: _Batch, queue: deque[str], deadline: float) -> None:
    """One thread: claim, send and finish records until the queue or the time runs out."""
    from chalicelib.crm.retries import deadline as crm_deadline

    assert batch.integration is not None
    while time.monotonic() < deadline:
        try:
            report_id = queue.popleft()
        except IndexError:
            return
        attempt = batch.claim(report_id)
        if attempt is None:
            continue
        try:
            plan = batch.plan(attempt)
        except Skip as reason:
            _finish(attempt, Outcome("skipped", str(reason)))
            continue
        except Exception as exc:  # a mapping this CRM cannot take fails its record alone
            _finish(attempt, _unplannable(exc))
            continue
        try:
            client = _client_for(batch.integration)
        except Exception as exc:  # the sealed credentials cannot be opened
            _client_failure(batch, [attempt], exc)
            continue
        with crm_deadline(deadline + SEND_GRACE):
            (error,) = batch.crm.send(client, [(attempt.report, plan)])
        _finish(attempt, Outcome("synced") if error is None else _failure(attempt, error))
