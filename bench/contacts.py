"""Contact sync and voter-list upload: wall time, DynamoDB calls and peak memory,
beside the floor of writing the same items with a plain boto3 batch writer.

Goals: calls within 10% of the floor's, time within 1.5x, memory flat in the number
of list rows (the CSV streams through; it is never held twice).

    .venv/bin/python bench/contacts.py          # CONTACTS=5000 ROWS=50000 by default

The emulator runs in a child process, so the memory figures are this process's own
(tracemalloc peak above the input, which is built before measuring).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTACTS = int(os.environ.get("CONTACTS", "5000"))
ROWS = int(os.environ.get("ROWS", "50000"))


class CallCounter:
    """Counts DynamoDB API calls made through botocore, by operation."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    @contextmanager
    def counting(self) -> Any:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        counts = self.counts

        def counted(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                counts[operation] = counts.get(operation, 0) + 1
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def measure(fn: Callable[[], Any]) -> tuple[float, int, float, dict[str, int]]:
    """(seconds, DynamoDB calls, peak MiB allocated during the call, calls by operation)."""
    counter = CallCounter()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    with counter.counting():
        fn()
    seconds = time.perf_counter() - started
    peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    tracemalloc.stop()
    return seconds, counter.total, peak, dict(counter.counts)


def start_emulator() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the emulator did not start")


def floor_write(table_name: str, items: list[dict[str, Any]]) -> None:
    import boto3

    table = boto3.resource("dynamodb").Table(table_name)
    with table.batch_writer() as writer:
        for item in items:
            writer.put_item(Item=item)


def scan_items(table_name: str, prefix: str) -> list[dict[str, Any]]:
    import boto3

    table = boto3.resource("dynamodb").Table(table_name)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += [i for i in page["Items"] if i["pk"].startswith(prefix)]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def csv_body(rows: int) -> bytes:
    out = io.StringIO()
    out.write("external_id,first_name,last_name,phone,email\r\n")
    for i in range(rows):
        out.write(f"{100000 + i},First{i},Last{i},+1202{i % 10_000_000:07d},v{i}@example.org\r\n")
    return out.getvalue().encode()


def report(title: str, ours: tuple, floor: tuple) -> None:
    print(f"\n{title}")
    print(f"{'':12}{'seconds':>10}{'DynamoDB calls':>16}{'peak MiB':>10}")
    for name, (seconds, calls, peak, _ops) in (("ours", ours), ("floor", floor)):
        print(f"{name:12}{seconds:>10.2f}{calls:>16}{peak:>10.1f}")
    print(
        f"calls: {ours[1] / floor[1]:.3f}x the floor (goal <= 1.10)   calls by operation: {ours[3]}"
    )
    print(f"time:  {ours[0] / floor[0]:.2f}x the floor (goal <= 1.50)")


def main() -> None:
    process, endpoint = start_emulator()
    try:
        from devstack.stack import apply, base_environment, provision

        env = base_environment(endpoint, stage="bench")
        env.update(provision(env))
        floor_env = {
            **env,
            "MAIN_TABLE": "vo-floor-main",
            "SESSIONS_TABLE": "vo-floor-sessions",
            "OPS_TABLE": "vo-floor-ops",
            "AUDIT_TABLE": "vo-floor-audit",
        }
        from devstack.stack import create_tables

        create_tables(floor_env)
        apply(env)

        from chalicelib.dal import campaigns as campaigns_dal
        from chalicelib.dal import users as users_dal
        from chalicelib.logic import contacts, lists
        from chalicelib.logic.access import Principal

        admin = users_dal.create_user("bench-admin", "admin@example.org", "Admin", None)
        campaigns_dal.create_campaign("bench-campaign", "Bench", admin)
        users_dal.create_user("bench-vol", "vol@example.org", "Vol", None)
        principal = Principal("bench-admin", "session", mfa=True)
        volunteer = Principal("bench-vol", "session", mfa=False)

        incoming = [
            {
                "name": f"Contact {i}",
                "phones": [f"(202) 6{i // 10000 % 10}{i // 1000 % 10}-{i % 1000:04d}"],
                "emails": [f"Contact{i}@Example.org"],
            }
            for i in range(CONTACTS)
        ]
        ours = measure(lambda: contacts.sync_contacts(volunteer, incoming))
        written = scan_items(env["MAIN_TABLE"], "USER#bench-vol")
        written = [i for i in written if i["sk"].startswith("CONTACT#")]
        floor = measure(lambda: floor_write(floor_env["MAIN_TABLE"], written))
        report(f"PUT /me/contacts: {CONTACTS} contacts ({len(written)} items)", ours, floor)

        peaks = []
        for rows in sorted({max(ROWS // 5, 1), max(ROWS // 2, 1), ROWS}):
            body = csv_body(rows)

            def upload(body: bytes = body, rows: int = rows) -> None:
                count, parsed = lists.csv_rows(body)
                lists.upload_list(principal, "bench-campaign", f"list {rows}", count, parsed)

            figures = measure(upload)
            peaks.append((rows, figures))
        rows, ours = peaks[-1]
        written = scan_items(env["MAIN_TABLE"], "LIST#") + scan_items(env["MAIN_TABLE"], "LKEY#")
        mine = [i for i in written if i.get("list_id") == _list_id_of(env, f"list {rows}")]
        floor = measure(lambda: floor_write(floor_env["MAIN_TABLE"], mine))
        report(f"POST /campaigns/{{cid}}/lists: {rows} CSV rows ({len(mine)} items)", ours, floor)
        print("\nmemory by list size (CSV body built beforehand, not counted):")
        for size, (seconds, calls, peak, _ops) in peaks:
            print(f"  {size:>7} rows: peak {peak:6.1f} MiB, {seconds:6.2f} s, {calls} calls")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _list_id_of(env: dict[str, str], name: str) -> str:
    import boto3

    table = boto3.resource("dynamodb").Table(env["MAIN_TABLE"])
    items = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :l)",
        ExpressionAttributeValues={":pk": "CAMPAIGN#bench-campaign", ":l": "LIST#"},
    )["Items"]
    return str(next(i["list_id"] for i in items if i["name"] == name))


if __name__ == "__main__":
    main()
