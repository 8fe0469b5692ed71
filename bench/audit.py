"""Audit consumer throughput: 10,000 changes through the stream handler.

Prints records per second and DynamoDB calls, beside the floor of batch-writing the
same audit records directly with a plain boto3 batch writer.
Goal: calls within 10% of the floor's.

    .venv/bin/python bench/audit.py          # CHANGES=10000 by default

The changes are stream records as DynamoDB hands them to Lambda (batches of 100),
built from real action items; the emulator (moto) runs in this process.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANGES = int(os.environ.get("CHANGES", "10000"))
BATCH = 100


def stream_records(count: int) -> list[dict[str, Any]]:
    """INSERT and MODIFY records of action items, as the stream delivers them."""
    from chalicelib.dal.models import ActionModel

    records = []
    for n in range(count):
        stamp = f"2026-11-28T12:{n // 6000 % 60:02d}:{n // 100 % 60:02d}.{n % 1000:03d}Z"
        item = ActionModel(
            "CAMPAIGN#bench",
            f"ACTION#{n:08d}",
            entity="action",
            campaign_id="bench",
            action_id=f"{n:08d}",
            type="call",
            title=f"Action {n}",
            status="live",
            questions=[],
            created_at=stamp,
            created_by="admin",
            updated_at=stamp,
            updated_by="admin",
        ).serialize()
        old = None
        if n % 2:
            old = dict(item)
            old["title"] = {"S": f"Old title {n}"}
        records.append(
            {
                "eventID": f"bench-{n:08d}",
                "eventName": "MODIFY" if old else "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/bench/stream/x",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795000000,
                    "Keys": {"pk": item["pk"], "sk": item["sk"]},
                    "NewImage": item,
                    **({"OldImage": old} if old else {}),
                    "SequenceNumber": f"{n:021d}",
                    "SizeBytes": 300,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    return records


def main() -> None:
    from bench.harness import counting, dynamodb_operations
    from devstack.stack import Emulator, apply, base_environment, create_tables, provision

    emulator = Emulator.start()
    try:
        env = base_environment(emulator.endpoint, stage="bench")
        env.update(provision(env))
        apply(env)
        floor_env = {
            **env,
            **{
                k: f"floor-{k.lower()}"
                for k in ("MAIN_TABLE", "SESSIONS_TABLE", "OPS_TABLE", "AUDIT_TABLE", "KEYS_TABLE")
            },
        }
        create_tables(floor_env)

        from app import app
        from chalicelib.audit import store
        from chalicelib.audit.derive import derive
        from devstack.streams import LambdaContext

        handler = app.handler_map["audit_consumer"]
        records = stream_records(CHANGES)
        batches = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]

        started = time.perf_counter()
        failures = 0
        with counting(dynamodb_operations) as counter:
            for batch in batches:
                result = handler({"Records": batch}, LambdaContext("audit_consumer"))
                failures += len(result["batchItemFailures"])
        ours = time.perf_counter() - started

        import boto3
        from boto3.dynamodb.types import TypeDeserializer

        plain = TypeDeserializer()
        items = []
        for record in records:
            entry = derive(record)
            assert entry is not None
            raw = store._item(entry).serialize()
            items.append({k: plain.deserialize(v) for k, v in raw.items()})
        table = boto3.resource("dynamodb").Table(floor_env["AUDIT_TABLE"])
        started = time.perf_counter()
        with counting(dynamodb_operations) as floor_counter, table.batch_writer() as writer:
            for item in items:
                writer.put_item(Item=item)
        floor = time.perf_counter() - started

        print(f"audit consumer: {CHANGES} changes in batches of {BATCH} (failures: {failures})")
        print(f"{'':8}{'seconds':>10}{'records/s':>12}{'DynamoDB calls':>16}")
        print(f"{'ours':8}{ours:>10.2f}{CHANGES / ours:>12.0f}{counter.total():>16}")
        print(f"{'floor':8}{floor:>10.2f}{CHANGES / floor:>12.0f}{floor_counter.total():>16}")
        print(f"calls: {counter.total() / floor_counter.total():.3f}x the floor (goal <= 1.10)")
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
