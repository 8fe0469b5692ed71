"""Erasing a campaign: 100,000 list rows (with a phone and an e-mail each: 200,000 match
keys) and 10,000 reports (each with a sync record), on DynamoDB Local.

Prints the time and the DynamoDB calls of the erasure, by operation, beside the floor (one
BatchWriteItem per 25 items erased), and the receipt's counts.

    .venv/bin/python bench/erase.py                     # ROWS=100000 REPORTS=10000, ~5 min
    ROWS=20000 REPORTS=2000 .venv/bin/python bench/erase.py

DynamoDB runs on DynamoDB Local (AWS's engine; `make setup` unpacks it), in a child JVM;
KMS, S3 and Secrets Manager on the moto server in this process. The campaign is built
through the data layer (the list rows with `dal.lists.store_rows`, as an import writes
them; reports and sync records as raw items, 25 a call), then erased as the schedule does
(`logic.deletion.erase`, WORKERS parts at once). DynamoDB Local on two cores is far slower
per call than DynamoDB, so the time is a ceiling; the calls are what AWS would see.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("ROWS", "100000"))
REPORTS = int(os.environ.get("REPORTS", "10000"))
LISTS = int(os.environ.get("LISTS", "2"))


def build(campaign_id: str) -> int:
    """The campaign: an admin, lists, reports, sync records. Returns the items written."""
    from chalicelib import config
    from chalicelib.dal import batch, campaigns, lists, users
    from chalicelib.dal.models import ReportModel, SyncModel
    from chalicelib.domain.lists import ListRow
    from chalicelib.logic import matching

    admin = users.create_user("bench-admin", "admin@example.org", "Admin", None)
    campaigns.create_campaign(campaign_id, "Bench Campaign", admin)
    written = 2
    per_list = ROWS // LISTS
    for number in range(LISTS):
        list_id = f"LIST{number}"
        lists.create_list(campaign_id, list_id, f"Ward {number}", "bench-admin")

        def rows(list_id: str = list_id, number: int = number) -> Iterator[lists.RowToStore]:
            for n in range(1, per_list + 1):
                phone, email = f"+1202{number}{n:06d}", f"v{number}-{n}@example.org"
                yield lists.RowToStore(
                    ListRow(
                        campaign_id=campaign_id,
                        list_id=list_id,
                        row_id=f"{n:06d}",
                        external_id=str(100000 + n),
                        first_name=f"Voter{n}",
                        last_name="Bench",
                        phone=phone,
                        email=email,
                    ),
                    matching.keys_for([phone], [email]),
                )

        lists.store_rows(campaign_id, list_id, rows(), "bench-admin")
        lists.mark_ready(campaign_id, list_id)
        written += 1 + per_list * 3

    stamp = "2026-12-01T12:00:00.000Z"

    def reports() -> Iterator[dict[str, Any]]:
        for n in range(REPORTS):
            report_id = f"R{n:08d}"
            yield ReportModel(
                f"CAMPAIGN#{campaign_id}",
                f"REPORT#{report_id}",
                entity="report",
                campaign_id=campaign_id,
                report_id=report_id,
                action_id="A1",
                user_id="bench-admin",
                contact_name=f"Voter {n}",
                external_id=str(100000 + n),
                result="canvassed",
                created_at=stamp,
                updated_at=stamp,
                updated_by="bench-admin",
                gsi1pk="USER#bench-admin",
                gsi1sk=f"REPORT#{report_id}",
            ).serialize()
            yield SyncModel(
                f"CAMPAIGN#{campaign_id}",
                f"SYNC#{report_id}#van",
                entity="sync",
                campaign_id=campaign_id,
                report_id=report_id,
                provider="van",
                state="synced",
                attempts=1,
                created_at=stamp,
                updated_at=stamp,
                updated_by="system",
            ).serialize()

    batch.write(config.settings().main_table, puts=reports())
    return written + REPORTS * 2


def main() -> None:
    import logging

    from bench.harness import counting, dynamodb_operations, on_dynamodb_local
    from chalicelib.dal import deletion as deletion_dal
    from chalicelib.dal.common import now
    from chalicelib.logic import deletion
    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    with on_dynamodb_local():
        campaign_id = "BENCHCAMPAIGN"
        started = time.perf_counter()
        items = build(campaign_id)
        print(f"built {items:,} items in {time.perf_counter() - started:.0f} s", flush=True)
        deletion_dal.schedule(campaign_id, "Bench Campaign", actor="bench-admin", when=now())
        with counting(dynamodb_operations) as calls:
            started = time.perf_counter()
            outcome = deletion.erase(campaign_id)
            seconds = time.perf_counter() - started

    assert outcome.done and outcome.receipt is not None
    counts = outcome.receipt.counts
    erased = sum(counts.values())
    floor = -(-erased // 25)
    total = sum(calls.values())
    print()
    print(f"erased {erased:,} items ({ROWS:,} rows, {REPORTS:,} reports) in {seconds:.1f} s")
    print(f"  {erased / seconds:,.0f} items/s with {deletion.WORKERS} parts at once")
    print(f"  DynamoDB calls: {total:,} (floor {floor:,}: one BatchWriteItem per 25 items)")
    print(f"  ratio to the floor: {total / floor:.3f}")
    for operation, number in calls.most_common():
        print(f"    {operation:16} {number:,}")
    print("  receipt counts:")
    for kind, number in sorted(counts.items()):
        print(f"    {kind:16} {number:,}")
    assert counts.get("list_row") == ROWS // LISTS * LISTS
    assert counts.get("report") == REPORTS


if __name__ == "__main__":
    main()
