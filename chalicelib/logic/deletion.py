"""Deleting a campaign's data on its request: scheduled after the contract's grace period,
cancellable until then, erased in resumable parts run in parallel, with a receipt.

Nothing else erases campaign data (no expiry, no clean-up job): this module is the one
path, and `tests/deploy/test_nothing_else_erases.py` holds the template and the code to it.

The erasure, in order (each step's parts run in parallel):
1. access: memberships, staff grants and join codes, so no one reads or writes the
   campaign while the rest goes;
2. lists: each list's rows and their match keys, in ten parts per list (by the row
   number's first digit), and the campaign's entries in the ops table (cached CRM
   catalogs, breakers, kept answers to its requests);
3. campaign: everything else under the campaign's key (actions, lists, reports,
   integrations with their sealed credentials, sync records, the campaign itself);
4. audit: the campaign's records still in the audit table (the archive in the log
   bucket holds no personal data and stays under its Object Lock, as DESIGN.md says).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import aws, config, notify
from chalicelib.audit import store as audit_store
from chalicelib.auth.policy import Permission
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import deletion as deletion_dal
from chalicelib.dal import lists as lists_dal
from chalicelib.dal import ops
from chalicelib.dal import targets as targets_dal
from chalicelib.dal.common import iso, now
from chalicelib.domain.privacy import Deletion
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.logic import matching
from chalicelib.logic.access import require, require_with
from chalicelib.logic.principal import Principal
from chalicelib.observability import count, logger

WORKERS = 4  # parts erased at once
PAGE = 1000  # keys a part deletes between two checkpoints (one item holds them: ~100 KB)
ROWS_PAGE = 300  # list rows a page (each with up to a few match keys)
REMIND_BEFORE = timedelta(hours=25)  # the hourly run tells admins a day ahead
MAX_GRACE_DAYS = 90
SWEEP_AFTER = timedelta(hours=1)

Key = tuple[str, str, str, str]  # (table setting, pk, sk, kind)


# ---- the request ------------------------------------------------------------------------


def request(principal: Principal, campaign_id: str, confirm_name: str) -> Deletion:
    _, campaign = require_with(
        principal, campaign_id, Permission.DELETE_CAMPAIGN, campaigns_dal.campaign_key(campaign_id)
    )
    if campaign is None:
        raise NotFound("no such campaign")
    if confirm_name != campaign.name:
        raise InvalidInput("confirm_name", "must equal the campaign's name")
    when = now() + timedelta(days=campaign.deletion_grace_days)
    scheduled = deletion_dal.schedule(
        campaign_id, campaign.name, actor=principal.user_id, when=when
    )
    _tell_admins(
        campaign_id,
        "deletion_scheduled",
        f"An admin asked for every item of {campaign.name}'s data to be deleted. It will be "
        f"erased after {scheduled.scheduled_for}. Any admin can cancel until then.",
    )
    count("CampaignDeletionScheduled")
    return scheduled


def state(principal: Principal, campaign_id: str) -> Deletion | None:
    require(principal, campaign_id, Permission.VIEW_CAMPAIGN_SETTINGS)
    return deletion_dal.get(campaign_id)


def cancel(principal: Principal, campaign_id: str) -> Deletion:
    require(principal, campaign_id, Permission.DELETE_CAMPAIGN)
    cancelled = deletion_dal.cancel(campaign_id, principal.user_id)
    _tell_admins(
        campaign_id,
        "deletion_cancelled",
        f"The deletion of {cancelled.campaign_name}'s data was cancelled; nothing was erased.",
    )
    return cancelled


def _tell_admins(campaign_id: str, kind: str, body: str) -> list[str]:
    addresses = [a.email for a in campaigns_dal.admins(campaign_id)]
    for address in addresses:
        notify.send(address, kind, body=body)
    return addresses


# ---- the runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    campaign_id: str
    done: bool
    receipt: Deletion | None = None


def run_due(deadline: float | None = None) -> list[Outcome]:
    """The schedule's run: remind admins of erasures a day away, then erase what is due
    (and resume what a crash interrupted). `deadline` (time.monotonic) stops it between
    pages, leaving the rest for the next run. Erasures done an hour or more ago have their
    audit trail swept once more: a change made just before an erasure may reach the audit
    table (through the stream) after the erasure's audit part ran."""
    moment = now()
    for done in deletion_dal.erased_before(moment - SWEEP_AFTER):
        swept = 0
        while keys := audit_store.campaign_record_keys(done.campaign_id, PAGE):
            deletion_dal.delete_keys(config.settings().audit_table, keys)
            swept += len(keys)
        deletion_dal.close(done.campaign_id, swept)
    outcomes = []
    for found in deletion_dal.due(moment + REMIND_BEFORE):
        ahead = found.scheduled_for is not None and found.scheduled_for > iso(moment)
        if found.state == "scheduled" and not found.reminded and ahead:
            _tell_admins(
                found.campaign_id,
                "deletion_reminder",
                f"{found.campaign_name}'s data will be erased after "
                f"{found.scheduled_for}. Any admin can still cancel.",
            )
            deletion_dal.mark_reminded(found.campaign_id)
            continue
        if found.scheduled_for and found.scheduled_for <= iso(moment):
            outcomes.append(erase(found.campaign_id, deadline=deadline))
    return outcomes


def erase_now(campaign_id: str, *, operator: str, reference: str) -> Outcome:
    """An operator erases the campaign before its grace period ends, on a written request
    the contract allows (`reference` names it). Without a scheduled deletion, the written
    request is the request: one is scheduled in the operator's name first."""
    reference = reference.strip()
    if not reference or len(reference) > 500:
        raise InvalidInput("reference", "must name the written request (1 to 500 characters)")
    current = deletion_dal.get(campaign_id)
    if current is None or current.state == "cancelled":
        campaign = campaigns_dal.get_campaign(campaign_id)
        if campaign is None:
            raise NotFound("no such campaign")
        deletion_dal.schedule(campaign_id, campaign.name, actor=operator, when=now())
    audit_store.record(
        "campaign.erasure_run_early",
        f"campaign:{campaign_id}",
        actor_id=operator,
        campaign_id=campaign_id,
        values={"reference": reference},
        operator=True,
    )
    return erase(campaign_id, early=f"{operator}: {reference}")


def set_grace(campaign_id: str, days: int, *, operator: str) -> None:
    """The contract's grace period for this campaign (an operator's setting)."""
    if not 0 <= days <= MAX_GRACE_DAYS:
        raise InvalidInput("days", f"must be 0 to {MAX_GRACE_DAYS}")
    campaigns_dal.set_deletion_grace(campaign_id, days, operator)
    audit_store.record(
        "campaign.deletion_grace_set",
        f"campaign:{campaign_id}",
        actor_id=operator,
        campaign_id=campaign_id,
        values={"days": days},
        operator=True,
    )


def erase(campaign_id: str, *, early: str | None = None, deadline: float | None = None) -> Outcome:
    """Erase the campaign's data, or resume doing so. `early` (an operator, with the
    written request's reference) starts a scheduled deletion before its time."""
    runner = uuid.uuid4().hex
    notify_to = [a.email for a in campaigns_dal.admins(campaign_id)]
    taken = deletion_dal.take(campaign_id, runner, notify=notify_to, early=early)
    if taken is None:
        current = deletion_dal.get(campaign_id)
        return Outcome(campaign_id, current is not None and current.state == "done", current)
    logger.info("campaign erasure running", extra={"campaign_id": campaign_id})
    work = _Erasure(campaign_id, runner, deadline)
    for step in (
        work.access_parts(),
        work.list_parts(),
        [("campaign", work.campaign_page)],
        # targets once more: a refresh that began before its member left may have written;
        # export files once the exports are erased (no invocation starts writing one then)
        [("audit", work.audit_page), ("targets_again", work._targets), ("exports", work._files)],
    ):
        if not work.run_parts(step):  # out of time: the next run resumes from here
            deletion_dal.release(campaign_id, runner)
            return Outcome(campaign_id, False)
    parts = deletion_dal.chunks_of(campaign_id)
    totals: dict[str, int] = {}
    for part in parts:
        for kind, number in (part.counts or {}).items():
            totals[kind] = totals.get(kind, 0) + int(number)
    digest = hashlib.sha256(
        "".join(f"{p.name}:{p.digest}\n" for p in sorted(parts, key=lambda p: p.name)).encode()
    ).hexdigest()
    receipt = deletion_dal.finish(campaign_id, runner, counts=totals, digest=digest)
    audit_store.record(
        "campaign.erased",
        f"campaign:{campaign_id}",
        actor_id=early.split(": ", 1)[0] if early else "schedule",
        campaign_id=campaign_id,
        values={"counts": totals, "digest": digest, "requested_by": receipt.requested_by},
        operator=True,
    )
    for address in taken.notify:
        notify.send(
            address,
            "deletion_done",
            body=f"Every item of {taken.campaign_name}'s data was erased at {receipt.erased_at}.",
        )
    count("CampaignErased")
    return Outcome(campaign_id, True, receipt)


class _Erasure:
    """One run over a campaign's parts. A part is a name and a page function that returns
    the next keys to erase (an empty page: the part is done)."""

    def __init__(self, campaign_id: str, runner: str, deadline: float | None) -> None:
        self.campaign_id = campaign_id
        self.runner = runner
        self.deadline = deadline
        self.renewed = time.monotonic()
        settings = config.settings()
        self.tables = {
            "main": settings.main_table,
            "audit": settings.audit_table,
            "ops": settings.ops_table,
        }

    # -- the parts

    def access_parts(self) -> list[tuple[str, Callable[[], list[Key]]]]:
        return [
            ("members", lambda: self._partition("MEMBER#")),
            ("removed_members", lambda: self._partition("REMOVED#")),
            ("grants", lambda: self._partition("GRANT#")),
            ("join_codes", self._join_codes),
            ("targets", self._targets),
        ]

    def list_parts(self) -> list[tuple[str, Callable[[], list[Key]]]]:
        parts: list[tuple[str, Callable[[], list[Key]]]] = [("ops", self._ops)]
        for list_id in deletion_dal.list_ids(self.campaign_id):
            for digit in "0123456789":
                parts.append((f"list:{list_id}:{digit}", self._rows_of(list_id, digit)))
            parts.append((f"list:{list_id}:errors", self._errors_of(list_id)))
        return parts

    def campaign_page(self) -> list[Key]:
        return self._partition("")

    def audit_page(self) -> list[Key]:
        return [
            ("audit", pk, sk, "audit_record")
            for pk, sk in audit_store.campaign_record_keys(self.campaign_id, PAGE)
        ]

    def _partition(self, prefix: str) -> list[Key]:
        return [
            ("main", pk, sk, kind)
            for pk, sk, kind in deletion_dal.campaign_items(self.campaign_id, PAGE, prefix=prefix)
        ]

    def _join_codes(self) -> list[Key]:
        return [
            ("main", pk, sk, "join_code")
            for pk, sk in deletion_dal.join_code_keys(self.campaign_id, PAGE)
        ]

    def _targets(self) -> list[Key]:
        """The campaign's targets, kept in its volunteers' own partitions."""
        return [
            ("main", pk, sk, "target")
            for pk, sk in targets_dal.campaign_target_keys(self.campaign_id, PAGE)
        ]

    def _files(self) -> list[Key]:
        """The campaign's export files in the data bucket, and uploads of one not finished."""
        s3, bucket = aws.client("s3"), config.settings().data_bucket
        prefix = f"exports/{self.campaign_id}/"
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=PAGE)
        keys: list[Key] = [("s3", o["Key"], "", "export_file") for o in listed.get("Contents", [])]
        uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix, MaxUploads=PAGE)
        keys += [
            ("s3-upload", u["Key"], u["UploadId"], "export_upload")
            for u in uploads.get("Uploads", [])
        ]
        return keys

    def _ops(self) -> list[Key]:
        return [("ops", pk, sk, "ops_entry") for pk, sk in ops.campaign_item_keys(self.campaign_id)]

    def _errors_of(self, list_id: str) -> Callable[[], list[Key]]:
        def page() -> list[Key]:
            return [
                ("main", pk, sk, "list_error") for pk, sk in lists_dal.error_keys(list_id, PAGE)
            ]

        return page

    def _rows_of(self, list_id: str, digit: str) -> Callable[[], list[Key]]:
        def page() -> list[Key]:
            found: list[Key] = []
            for row in deletion_dal.list_rows(list_id, digit, ROWS_PAGE):
                found.append(("main", f"LIST#{list_id}", f"ROW#{row.row_id}", "list_row"))
                phones = [row.phone] if row.phone else []
                emails = [row.email] if row.email else []
                for key in matching.keys_for(phones, emails):
                    found.append(
                        (
                            "main",
                            f"LKEY#{self.campaign_id}#{key}",
                            f"{list_id}#{row.row_id}",
                            "list_match_key",
                        )
                    )
            return found

        return page

    # -- running them

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def run_parts(self, parts: list[tuple[str, Callable[[], list[Key]]]]) -> bool:
        """Run the parts, WORKERS at once; False when the deadline stopped any of them."""
        with ThreadPoolExecutor(WORKERS) as pool:
            finished = list(pool.map(lambda part: self._run_part(*part), parts))
        return all(finished)

    def _run_part(self, name: str, page: Callable[[], list[Key]]) -> bool:
        part = deletion_dal.chunk(self.campaign_id, name)
        if part.done:
            return True
        counts: dict[str, int] = {k: int(v) for k, v in (part.counts or {}).items()}
        digest = part.digest or ""
        if part.pending:  # a run stopped between deleting a page and counting it
            keys = [tuple(k) for k in part.pending]
            self._delete(keys)  # type: ignore[arg-type]
            digest = self._fold(part, keys, counts, digest)  # type: ignore[arg-type]
        while True:
            if self.out_of_time():
                return False
            keys = page()
            if not keys:
                deletion_dal.chunk_done(part)
                return True
            deletion_dal.hold_pending(part, [list(k) for k in keys])
            self._delete(keys)
            digest = self._fold(part, keys, counts, digest)
            self._keep_lease()

    def _delete(self, keys: list[Key]) -> None:
        by_table: dict[str, list[tuple[str, str]]] = {}
        for table, pk, sk, _kind in keys:
            by_table.setdefault(table, []).append((pk, sk))
        s3, bucket = aws.client("s3"), config.settings().data_bucket
        for table, found in by_table.items():
            if table == "s3":  # an object: its key
                objects = [{"Key": key} for key, _ in found]
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            elif table == "s3-upload":  # an unfinished upload: its key and id
                for key, upload_id in found:
                    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            else:
                deletion_dal.delete_keys(self.tables[table], found)

    @staticmethod
    def _fold(part: Any, keys: list[Key], counts: dict[str, int], digest: str) -> str:
        for _table, _pk, _sk, kind in keys:
            counts[kind] = counts.get(kind, 0) + 1
        running = hashlib.sha256(digest.encode())
        for table, pk, sk, _kind in sorted(keys):
            running.update(f"\n{table}|{pk}|{sk}".encode())
        digest = running.hexdigest()
        deletion_dal.fold_pending(part, counts, digest)
        return digest

    def _keep_lease(self) -> None:
        if time.monotonic() - self.renewed > 60:
            deletion_dal.renew(self.campaign_id, self.runner)
            self.renewed = time.monotonic()
