"""CRM integrations and the sync records of reports (main table).

A sync record moves pending -> synced | failed | skipped. Every attempt first
*claims* the record with a conditional write (a token and a lease); only the
holder of the claim may finish it. So a redelivered stream batch, two schedules
overlapping or a retry racing the first attempt cannot post a report twice: the
second claim fails. A claim that outlives its lease means an attempt died half
way, after which nobody knows whether the CRM got the report: such a record is
failed for a person to look at, never retried by itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.dal import stats
from chalicelib.dal.common import iso, now, now_iso, paged_query
from chalicelib.dal.models import IntegrationModel, SyncModel
from chalicelib.domain.integrations import Integration, SyncRecord
from chalicelib.domain.paging import Page
from chalicelib.errors import NotFound

DUE = "SYNCDUE"


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _integration(item: IntegrationModel) -> Integration:
    return Integration(
        campaign_id=item.campaign_id,
        provider=item.provider,
        key_hint=item.key_hint,
        instructions=dict(item.instructions or {}),
        configured_at=item.configured_at,
        sealed_credentials=item.credentials,
        paused_at=item.paused_at,
        settings=dict(item.settings or {}),
    )


def set_paused(campaign_id: str, provider: str, *, paused: bool, actor: str) -> Integration:
    """Pause (or resume) an integration's sync; its records wait, nothing is lost."""
    item = IntegrationModel(_pk(campaign_id), f"INTEGRATION#{provider}")
    stamp = now_iso()
    actions: list[Any] = [
        IntegrationModel.updated_at.set(stamp),
        IntegrationModel.updated_by.set(actor),
    ]
    if paused:
        actions += [IntegrationModel.paused_at.set(stamp), IntegrationModel.paused_by.set(actor)]
    else:
        actions += [IntegrationModel.paused_at.remove(), IntegrationModel.paused_by.remove()]
    try:
        item.update(actions=actions, condition=IntegrationModel.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"{provider} is not configured for this campaign") from None
        raise
    return _integration(item)


def put_integration(
    campaign_id: str,
    provider: str,
    sealed: str,
    key_hint: str,
    actor: str,
    settings: dict[str, Any] | None = None,
) -> Integration:
    """Store (or replace) an integration's credentials; its instructions are kept."""
    current = get_integration(campaign_id, provider)
    stamp = now_iso()
    item = IntegrationModel(
        _pk(campaign_id),
        f"INTEGRATION#{provider}",
        entity="integration",
        campaign_id=campaign_id,
        provider=provider,
        credentials=sealed,
        key_hint=key_hint,
        settings=settings or None,
        instructions=current.instructions if current else {},
        configured_at=stamp,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    item.save()
    return _integration(item)


def get_integration(campaign_id: str, provider: str) -> Integration | None:
    try:
        return _integration(
            IntegrationModel.get(_pk(campaign_id), f"INTEGRATION#{provider}", consistent_read=True)
        )
    except DoesNotExist:
        return None


def list_integrations(campaign_id: str) -> list[Integration]:
    return [
        _integration(item)
        for item in IntegrationModel.query(
            _pk(campaign_id), range_key_condition=IntegrationModel.sk.startswith("INTEGRATION#")
        )
    ]


def set_instructions(
    campaign_id: str, provider: str, instructions: dict[str, Any], actor: str
) -> Integration:
    item = IntegrationModel(_pk(campaign_id), f"INTEGRATION#{provider}")
    try:
        item.update(
            actions=[
                IntegrationModel.instructions.set(instructions),
                IntegrationModel.updated_at.set(now_iso()),
                IntegrationModel.updated_by.set(actor),
            ],
            condition=IntegrationModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"{provider} is not configured for this campaign") from None
        raise
    return _integration(item)


def delete_integration(campaign_id: str, provider: str, actor: str) -> bool:
    """Remove an integration (stamping the remover first, for the audit trail)."""
    item = IntegrationModel(_pk(campaign_id), f"INTEGRATION#{provider}")
    try:
        item.update(
            actions=[
                IntegrationModel.updated_at.set(now_iso()),
                IntegrationModel.updated_by.set(actor),
            ],
            condition=IntegrationModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    item.delete()
    return True


# ---- sync records -----------------------------------------------------------------------


def _record(item: SyncModel) -> SyncRecord:
    return SyncRecord(
        campaign_id=item.campaign_id,
        report_id=item.report_id,
        provider=item.provider,
        state=item.state,
        attempts=int(item.attempts or 0),
        last_error=item.last_error,
        retryable=bool(item.retryable),
        next_attempt_at=item.next_attempt_at,
        claim=item.claim,
        claimed_until=item.claimed_until,
        updated_at=item.updated_at,
    )


def _sk(report_id: str, provider: str) -> str:
    return f"SYNC#{report_id}#{provider}"


def _due_key(when: str, campaign_id: str, report_id: str, provider: str) -> str:
    return f"{when}#{campaign_id}#{report_id}#{provider}"


def create_record(
    campaign_id: str,
    report_id: str,
    provider: str,
    actor: str,
    *,
    claim: str | None = None,
    lease: timedelta = timedelta(0),
) -> SyncRecord | None:
    """A pending record, due now; None when there already is one (a redelivery). With
    `claim`, the record is created already claimed for a first attempt (as `claim` would
    leave it: one write, not two), held for `lease`."""
    moment = now()
    stamp = iso(moment)
    item = SyncModel(
        _pk(campaign_id),
        _sk(report_id, provider),
        entity="sync",
        gsi1pk=DUE,
        gsi1sk=_due_key(stamp, campaign_id, report_id, provider),
        campaign_id=campaign_id,
        report_id=report_id,
        provider=provider,
        state="pending",
        attempts=0,
        retryable=True,
        next_attempt_at=stamp,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    if claim is not None:
        item.claim, item.claimed_until, item.attempts = claim, iso(moment + lease), 1
    try:
        item.save(condition=SyncModel.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    stats.add(campaign_id, stats.SYNC, {"pending": 1})
    return _record(item)


def get_record(campaign_id: str, report_id: str, provider: str) -> SyncRecord | None:
    try:
        return _record(
            SyncModel.get(_pk(campaign_id), _sk(report_id, provider), consistent_read=True)
        )
    except DoesNotExist:
        return None


def claim(
    campaign_id: str, report_id: str, provider: str, token: str, lease: timedelta, actor: str
) -> SyncRecord | None:
    """Take the record for one attempt; None when it is not to be attempted now
    (synced, skipped, failed for good, or another attempt holds it)."""
    moment = now()
    item = SyncModel(_pk(campaign_id), _sk(report_id, provider))
    actions: list[Action] = [
        SyncModel.state.set("pending"),
        SyncModel.claim.set(token),
        SyncModel.claimed_until.set(iso(moment + lease)),
        SyncModel.attempts.add(1),
        SyncModel.updated_at.set(iso(moment)),
        SyncModel.updated_by.set(actor),
    ]
    free = SyncModel.pk.exists() & SyncModel.claim.does_not_exist()
    was_failed = (SyncModel.state == "failed") & (SyncModel.retryable == True)  # noqa: E712
    # most often a pending record (its state, and so its count, stays); else a failed one
    # tried again, pending once more
    for state, condition in (("pending", SyncModel.state == "pending"), ("failed", was_failed)):
        try:
            item.update(actions=actions, condition=free & condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue
            raise
        if state == "failed":
            stats.add(campaign_id, stats.SYNC, {"failed": -1, "pending": 1})
        return _record(item)
    return None


def finish(
    campaign_id: str,
    report_id: str,
    provider: str,
    token: str,
    *,
    state: str,
    error: str | None,
    retry_at: str | None,
    actor: str,
) -> bool:
    """End the attempt holding `token`: synced, skipped, or failed (retried at
    `retry_at`, or never when it is None). False when the claim was not ours."""
    item = SyncModel(_pk(campaign_id), _sk(report_id, provider))
    actions: list[Any] = [
        SyncModel.state.set(state),
        SyncModel.claim.remove(),
        SyncModel.claimed_until.remove(),
        SyncModel.retryable.set(retry_at is not None),
        SyncModel.updated_at.set(now_iso()),
        SyncModel.updated_by.set(actor),
        SyncModel.last_error.set(error) if error else SyncModel.last_error.remove(),
    ]
    if retry_at is not None:
        actions += [
            SyncModel.next_attempt_at.set(retry_at),
            SyncModel.gsi1pk.set(DUE),
            SyncModel.gsi1sk.set(_due_key(retry_at, campaign_id, report_id, provider)),
        ]
    else:
        actions += [
            SyncModel.next_attempt_at.remove(),
            SyncModel.gsi1pk.remove(),
            SyncModel.gsi1sk.remove(),
        ]
    try:
        item.update(actions=actions, condition=SyncModel.claim == token)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    if state != "pending":  # a claimed record is pending until its attempt ends
        stats.add(campaign_id, stats.SYNC, {"pending": -1, state: 1})
    return True


def release(campaign_id: str, report_id: str, provider: str, token: str, actor: str) -> bool:
    """Give back a claim no attempt was made under (its attempt not spent): the record is
    as it was before the claim, still due. False when the claim was not ours."""
    item = SyncModel(_pk(campaign_id), _sk(report_id, provider))
    try:
        item.update(
            actions=[
                SyncModel.claim.remove(),
                SyncModel.claimed_until.remove(),
                SyncModel.attempts.add(-1),
                SyncModel.updated_at.set(now_iso()),
                SyncModel.updated_by.set(actor),
            ],
            condition=SyncModel.claim == token,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def abandon_stale_claim(
    campaign_id: str, report_id: str, provider: str, claim_token: str, actor: str
) -> bool:
    """An attempt died holding its claim: nobody knows if the CRM got the report."""
    return finish(
        campaign_id,
        report_id,
        provider,
        claim_token,
        state="failed",
        error="an attempt was interrupted and may have reached the CRM: not retried "
        "automatically (check the CRM, then retry)",
        retry_at=None,
        actor=actor,
    )


def due_records(until: str, limit: int) -> list[SyncRecord]:
    """Records the scheduler should look at: due by `until` (oldest first)."""
    return [
        _record(item)  # type: ignore[arg-type]
        for item in SyncModel.gsi1.query(
            DUE, range_key_condition=SyncModel.gsi1sk <= f"{until}~", limit=limit
        )
    ]


def list_records(campaign_id: str, *, state: str | None, limit: int, cursor: str | None) -> Page:
    return paged_query(
        SyncModel,
        _pk(campaign_id),
        scope=f"sync:{campaign_id}:{state or ''}",
        limit=limit,
        cursor=cursor,
        convert=_record,
        range_key_condition=SyncModel.sk.startswith("SYNC#"),
        filter_condition=(SyncModel.state == state) if state else None,
        newest_first=True,
    )


def resume_paused(campaign_id: str, provider: str, actor: str) -> int:
    """Make the provider's pending records of the campaign due now (its sync was paused:
    they were waiting). How many."""
    due_now = now_iso()
    resumed = 0
    for item in SyncModel.query(
        _pk(campaign_id),
        range_key_condition=SyncModel.sk.startswith("SYNC#"),
        filter_condition=(SyncModel.provider == provider) & (SyncModel.state == "pending"),
    ):
        if postpone(campaign_id, item.report_id, provider, due_now, actor):
            resumed += 1
    return resumed


def records_for_reports(campaign_id: str, report_ids: list[str]) -> dict[str, list[SyncRecord]]:
    """The sync records of several reports: one Query over their key range."""
    if not report_ids:
        return {}
    found: dict[str, list[SyncRecord]] = {rid: [] for rid in report_ids}
    low, high = min(report_ids), max(report_ids)
    for item in SyncModel.query(
        _pk(campaign_id),
        range_key_condition=SyncModel.sk.between(f"SYNC#{low}#", f"SYNC#{high}#~"),
    ):
        if item.report_id in found:
            found[item.report_id].append(_record(item))
    return found


def failed_records(campaign_id: str, provider: str) -> list[SyncRecord]:
    return [
        _record(item)
        for item in SyncModel.query(
            _pk(campaign_id),
            range_key_condition=SyncModel.sk.startswith("SYNC#"),
            filter_condition=(SyncModel.state == "failed") & (SyncModel.provider == provider),
        )
    ]


def requeue(campaign_id: str, report_id: str, provider: str, actor: str) -> bool:
    """A failed record goes back to pending, due now, with a fresh set of attempts."""
    stamp = now_iso()
    item = SyncModel(_pk(campaign_id), _sk(report_id, provider))
    try:
        item.update(
            actions=[
                SyncModel.state.set("pending"),
                SyncModel.attempts.set(0),
                SyncModel.retryable.set(True),
                SyncModel.next_attempt_at.set(stamp),
                SyncModel.gsi1pk.set(DUE),
                SyncModel.gsi1sk.set(_due_key(stamp, campaign_id, report_id, provider)),
                SyncModel.updated_at.set(stamp),
                SyncModel.updated_by.set(actor),
            ],
            condition=(SyncModel.state == "failed") & SyncModel.claim.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    stats.add(campaign_id, stats.SYNC, {"failed": -1, "pending": 1})
    return True


def postpone(campaign_id: str, report_id: str, provider: str, until: str, actor: str) -> bool:
    """A due record waits until `until` (its provider is down): no attempt is spent."""
    stamp = now_iso()
    item = SyncModel(_pk(campaign_id), _sk(report_id, provider))
    try:
        item.update(
            actions=[
                SyncModel.next_attempt_at.set(until),
                SyncModel.gsi1sk.set(_due_key(until, campaign_id, report_id, provider)),
                SyncModel.updated_at.set(stamp),
                SyncModel.updated_by.set(actor),
            ],
            condition=(SyncModel.gsi1pk == DUE) & SyncModel.claim.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def later(seconds: float) -> str:
    return iso(now() + timedelta(seconds=seconds))
