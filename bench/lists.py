"""Importing a voter file through the pipeline on DynamoDB Local: 1,000,000 rows (a phone
and an e-mail each: 3,000,000 items) with N workers at once, N in 1, 2, 4.

Prints, per N: the time and rows a second from the plan to `ready`, the DynamoDB calls
beside the BatchWriteItem floor (one call per 25 items written), and each worker's peak
memory; and the memory of a worker at SMALL rows beside ROWS (flat: a worker holds one
chunk at a time).

    .venv/bin/python bench/lists.py                         # ROWS=1000000 NS=1,2,4: long
    ROWS=200000 NS=1,2 .venv/bin/python bench/lists.py

What runs. S3 and SQS are the moto server in this process (`devstack.stack.Emulator`),
DynamoDB is DynamoDB Local (a child JVM). The CSV is generated and PUT to the upload place
as an admin's presigned PUT would; the plan (`logic.imports.plan`) streams it and sends the
chunk messages; then N worker processes each take messages from the import queue and run
`logic.imports.handle`, as N concurrent Lambda invocations would, until the list is ready.
Each worker counts its own DynamoDB calls and reports its peak RSS (the whole process:
Python, botocore and the app's modules included). This
machine has two cores shared by the workers, the JVM and moto, so N=4 shows contention
more than scaling; in AWS each worker is its own Lambda and DynamoDB is not the bottleneck.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("ROWS", "1000000"))
SMALL = int(os.environ.get("SMALL", "100000"))
NS = [int(n) for n in os.environ.get("NS", "1,2,4").split(",") if n.strip()]


def csv_body(rows: int) -> bytes:
    from bench.contacts import phone

    lines = ["external_id,first_name,last_name,phone,email\n"]
    lines += [
        f"{100000 + n},First{n},Last{n},{phone(n)},voter{n}@example.org\n" for n in range(rows)
    ]
    return "".join(lines).encode()


def worker(env: dict[str, str], results: Any) -> None:
    """One import worker: messages until the queue stays empty; its calls and memory."""
    from bench.harness import counting, dynamodb_operations
    from devstack.stack import apply

    apply(env)
    import boto3

    from chalicelib.logic import imports

    sqs = boto3.client("sqs")
    url = env["IMPORT_QUEUE_URL"]
    idle = 0
    with counting(dynamodb_operations) as calls:
        while idle < 3:
            out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
            messages = out.get("Messages", [])
            if not messages:
                idle += 1
                continue
            idle = 0
            for message in messages:
                imports.handle(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    results.put({"calls": dict(calls), "peak_mib": peak_rss_kib() / 1024})


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM: unlike getrusage's ru_maxrss, it starts
    again at exec, so a spawned worker does not report its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(rows: int, workers: int) -> dict[str, Any]:
    import boto3

    from bench.harness import counting, dynamodb_operations, on_dynamodb_local
    from chalicelib.dal import campaigns, users
    from chalicelib.dal import lists as lists_dal
    from chalicelib.logic import imports

    with on_dynamodb_local() as env:
        admin = users.create_user("bench-admin", "admin@example.org", "Admin", None)
        campaigns.create_campaign("CAMPAIGN", "Bench", admin)
        lists_dal.create_list(
            "CAMPAIGN", "LIST", "Statewide", "bench-admin", None, "waiting_upload"
        )
        key = imports.upload_key("CAMPAIGN", "LIST")
        body = csv_body(rows)
        s3 = boto3.client("s3")
        sqs = boto3.client("sqs")
        # the bucket's notice would start the plan: here the plan runs by hand, so drop it
        s3.put_object(Bucket=env["DATA_BUCKET"], Key=key, Body=body)
        del body
        sqs.purge_queue(QueueUrl=env["IMPORT_QUEUE_URL"])
        started = time.perf_counter()
        with counting(dynamodb_operations) as plan_calls:
            imports.plan(key)
        plan_seconds = time.perf_counter() - started
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        processes = [
            context.Process(target=worker, args=(dict(os.environ), results)) for _ in range(workers)
        ]
        for process in processes:
            process.start()
        reports = [results.get() for _ in processes]
        for process in processes:
            process.join()
        seconds = time.perf_counter() - started
        done = lists_dal.get_list("CAMPAIGN", "LIST")
    calls: Counter[str] = Counter(plan_calls)
    for report in reports:
        calls.update(report["calls"])
    assert done is not None and done.status == "ready", done
    assert done.row_count == rows and done.rejected_count == 0, done
    items = rows * 3  # a row, its phone's key, its e-mail's key
    floor = -(-items // 25)
    return {
        "rows": rows,
        "workers": workers,
        "seconds": seconds,
        "plan_seconds": plan_seconds,
        "rows_per_second": rows / seconds,
        "calls": dict(calls),
        "total_calls": sum(calls.values()),
        "floor": floor,
        "peak_mib": [round(r["peak_mib"], 1) for r in reports],
    }


def main() -> None:
    import logging

    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    results = []
    for workers in NS:
        result = run(ROWS, workers)
        results.append(result)
        print(json.dumps(result), flush=True)
    small = run(SMALL, 1)
    print(json.dumps(small), flush=True)
    print()
    print(f"{ROWS:,} rows ({ROWS * 3:,} items), DynamoDB Local on this machine")
    print(f"{'N':>3} {'seconds':>9} {'rows/s':>9} {'calls':>9} {'floor':>9} {'ratio':>6}  peak MiB")
    base = results[0]["rows_per_second"]
    for r in results:
        print(
            f"{r['workers']:>3} {r['seconds']:>9.1f} {r['rows_per_second']:>9.0f} "
            f"{r['total_calls']:>9,} {r['floor']:>9,} {r['total_calls'] / r['floor']:>6.3f}  "
            f"{r['peak_mib']}  (x{r['rows_per_second'] / base:.2f} of N=1)"
        )
    print(
        f"peak memory of a worker: {small['peak_mib'][0]} MiB at {SMALL:,} rows, "
        f"{results[0]['peak_mib'][0]} MiB at {ROWS:,} rows"
    )


if __name__ == "__main__":
    main()
