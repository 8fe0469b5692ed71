"""Contact sync and voter-list upload: wall time, DynamoDB calls and peak memory,
beside the floor of writing the same items with a plain boto3 batch writer.

Goals: calls within 10% of the floor's, time within 1.5x, memory flat in the number
of list rows (the CSV streams through; it is never held twice).

    .venv/bin/python bench/contacts.py              # CONTACTS=5000 ROWS=50000 by default
    ENGINE=moto ROWS=5000 .venv/bin/python bench/contacts.py   # on the moto server instead

Engine. DynamoDB Local (AWS's own engine, the jar `make setup` unpacks under
`.cache/dynamodb-local/`) runs as a child JVM on a free loopback port and is stopped at
the end; `ENGINE=moto` runs the moto server in a child process instead (far slower: use
smaller sizes). The tables come from `devstack.stack.create_tables`.

Time and calls. Each operation first runs once unmeasured (another user, another list),
which makes every client and connection, and before the timed runs the engine takes
WARM_ITEMS throwaway items (DynamoDB Local's JIT makes its first ~20,000 writes two to
three times slower; whichever side went first would pay for it). The floor gets the items
our code wrote, the same number and shape: `chalicelib.dal.batch.write` is wrapped to
capture them in an unmeasured run, boto3's TypeDeserializer turns them into plain Python,
and they go through `boto3.resource("dynamodb").Table(...).batch_writer()` into the same
table, their `pk` prefixed so that they are new items there as ours are. Timed runs are
not under tracemalloc (it slows allocation-heavy code, botocore's serialiser most of all,
several times over). Ours and the floor take turns going first and each keeps its best:
of three runs for the sync, of REPEATS (default 1) for the 50,000-row upload.

Memory. tracemalloc's peak above what was allocated when the run began; the input (the
CSV body, the contacts) is built before. tracemalloc costs ~1.5 us an allocation here,
and botocore makes thousands a call: under it, a 50,000-row upload spends ~20 ms of our
CPU and ~14 ms of the engine's per BatchWriteItem, over three minutes. So each list size
runs in a process of its own, two at a time (one a core), and (MEMORY_SEND=stub, the
default) the BatchWriteItem calls of those runs are answered at botocore's `before-send`
event with what DynamoDB answers when it took every item, `{"UnprocessedItems": {}}`:
each request is still built, serialised and signed in full and the answer parsed, so
every byte our process holds is counted, but the engine stores nothing for these runs
(their GetItem, PutItem and UpdateItem go to it). MEMORY_SEND=engine sends them too, one
size after another (concurrent writers slow DynamoDB Local down several times); the
bench then takes over ten minutes. Each run makes its clients with a small upload
first, then measures one upload and hands its items to a file (the floor's input is the
largest run's), so every size pays the same few bytes for that.

Counting calls. A handler on botocore's `before-call.dynamodb` event counts one per API
call (retries inside one call are not calls; an unprocessed-items resend is). botocore
copies a session's handlers into a client when it creates the client, and pynamodb makes
its own botocore sessions and clients (one per model class), so no one session reaches
every client. The counter therefore registers its handler on every live DynamoDB client,
found through the garbage collector, just before a measured run, and after the run
checks that no client appeared that it had not hooked: if one had, the count could be
short, and the bench stops rather than print it. That keeps to botocore's public event
API; patching `BaseClient._make_api_call` would be the fallback if that check ever fired.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTACTS = int(os.environ.get("CONTACTS", "5000"))
ROWS = int(os.environ.get("ROWS", "50000"))
ENGINE = os.environ.get("ENGINE", "ddblocal")
REPEATS = max(1, int(os.environ.get("REPEATS", "1")))
MEMORY_SEND = os.environ.get("MEMORY_SEND", "stub")
CONTACT_REPEATS = max(3, REPEATS)  # a sync is quick: always the best of three
WARM_ITEMS = int(os.environ.get("WARM_ITEMS", "25000"))


# Settings the app requires but these operations never use (no Cognito calls). KMS is the
# emulator's: a sync wraps and unwraps the volunteer's contacts key there.
DUMMY_SETTINGS = {
    "USER_POOL_ID": "us-east-1_bench",
    "USER_POOL_CLIENT_ID": "bench-client",
    "USER_POOL_CLIENT_SECRET": "bench-client-secret",
    "APP_SECRET": "bench-app-secret-that-is-long-enough-0123456789",
}


# --- the engine ------------------------------------------------------------------------


def _moto_command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def start_engine(workdir: Path) -> Any:
    """The engine in a child process on a free loopback port, answering ListTables."""
    from devstack import ddblocal

    if ENGINE not in ("ddblocal", "moto"):
        raise SystemExit(f"ENGINE must be ddblocal or moto, not {ENGINE!r}")
    try:
        return ddblocal.start(workdir, _moto_command if ENGINE == "moto" else ddblocal.command)
    except ddblocal.NotInstalled as exc:
        raise SystemExit(f"{exc} Or set ENGINE=moto.") from None


# --- counting calls, measuring time and memory ---------------------------------------------


class CallCounter:
    """DynamoDB API calls by operation, counted by a `before-call.dynamodb` handler."""

    HANDLER_ID = "bench-contacts-call-counter"

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.active = False
        self._hooked: list[Any] = []  # referenced, so an id is never reused while we run

    def _on_call(self, model: Any, **_: Any) -> None:
        if self.active:
            self.counts[model.name] += 1

    @staticmethod
    def dynamodb_clients() -> list[Any]:
        from botocore.client import BaseClient

        return [
            obj
            for obj in gc.get_objects()
            if isinstance(obj, BaseClient) and obj.meta.service_model.service_name == "dynamodb"
        ]

    def _unhooked(self) -> list[Any]:
        hooked = {id(c) for c in self._hooked}
        return [c for c in self.dynamodb_clients() if id(c) not in hooked]

    def hook_all(self) -> None:
        for client in self._unhooked():
            client.meta.events.register(
                "before-call.dynamodb", self._on_call, unique_id=self.HANDLER_ID
            )
            self._hooked.append(client)

    @contextlib.contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        self.hook_all()
        self.counts = Counter()
        self.active = True
        try:
            yield self.counts
        finally:
            self.active = False
        missed = self._unhooked()
        if missed:
            raise SystemExit(
                f"{len(missed)} DynamoDB client(s) were created during a measured run, "
                "after the counter hooked the others: the call count may be short"
            )


COUNTER = CallCounter()


@dataclass
class Figures:
    seconds: float
    calls: Counter[str]
    peak_mib: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def timed(fn: Callable[[], Any]) -> Figures:
    """Seconds and DynamoDB calls of one run (no tracemalloc)."""
    gc.collect()
    with COUNTER.counting() as calls:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return Figures(seconds, Counter(calls), extra={"result": result})


def traced(fn: Callable[[], Any]) -> Figures:
    """A run under tracemalloc: peak MiB allocated above the start (and its time, calls)."""
    gc.collect()
    with COUNTER.counting() as calls:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            started = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - started
            peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        finally:
            tracemalloc.stop()
    return Figures(seconds, Counter(calls), peak, extra={"result": result})


def best(figures: list[Figures]) -> Figures:
    return min(figures, key=lambda f: f.seconds)


# --- capturing what our code writes, and the floor ---------------------------------------


@contextlib.contextmanager
def capturing_writes(sink: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Hands `sink` every item `chalicelib.dal.batch.write` puts (raw attribute maps)."""
    from chalicelib.dal import batch

    original = batch.write

    def tee(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            sink(item)
            yield item

    def write(
        table: str,
        puts: Iterable[dict[str, Any]] = (),
        deletes: Iterable[dict[str, Any]] = (),
    ) -> int:
        return original(table, puts=tee(puts), deletes=deletes)

    batch.write = write  # type: ignore[assignment]
    try:
        yield
    finally:
        batch.write = original  # type: ignore[assignment]


def plain(items: Iterable[dict[str, Any]], pk_prefix: str) -> list[dict[str, Any]]:
    """Attribute maps as the plain Python a boto3 Table takes, keys moved under a prefix."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    out = []
    for item in items:
        value = {k: deserializer.deserialize(v) for k, v in item.items()}
        value["pk"] = pk_prefix + value["pk"]
        out.append(value)
    return out


class Floor:
    """The same items through a plain boto3 batch writer."""

    def __init__(self, table_name: str) -> None:
        import boto3

        self.table = boto3.resource("dynamodb").Table(table_name)

    def write(self, items: list[dict[str, Any]]) -> None:
        with self.table.batch_writer() as writer:
            for item in items:
                writer.put_item(Item=item)


# --- inputs --------------------------------------------------------------------------------

AREA_CODES = ("202", "212", "305", "312", "415", "617", "713", "206")
FORMATS = (
    "({a}) {e}-{l}",
    "{a}-{e}-{l}",
    "+1 {a} {e} {l}",
    "{a}.{e}.{l}",
)


def phone(i: int) -> str:
    """The i-th of distinct, valid US numbers in the ways people write them.

    Area codes cycle; the rest of i picks an exchange 200-999 and a line 0000-9999
    (a bijection, so no two i give the same number below 8 * 800 * 10,000).
    """
    area = AREA_CODES[i % len(AREA_CODES)]
    rest = i // len(AREA_CODES)
    exchange = 200 + rest % 800
    line = (rest // 800 * 7919 + rest % 800 * 13) % 10_000
    return FORMATS[i % len(FORMATS)].format(a=area, e=exchange, l=f"{line:04d}")


def csv_body(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["external_id", "first_name", "last_name", "phone", "email"])
    for i in range(rows):
        writer.writerow([100_000 + i, f"First{i}", f"Last{i}", phone(i), f"V{i}@Example.org"])
    return out.getvalue().encode()


def incoming_contacts(count: int) -> list[dict[str, Any]]:
    """A phone's contacts: a name, a phone and an e-mail each (numbers apart from the list's)."""
    return [
        {"name": f"Contact {i}", "phones": [phone(i)], "emails": [f"Contact{i}@Example.org"]}
        for i in range(1_000_000, 1_000_000 + count)
    ]


# --- the report ------------------------------------------------------------------------------


def report(title: str, ours: Figures, floor: Figures, goals: list[tuple[str, bool]]) -> None:
    print(f"\n{title}")
    print(f"  {'':8}{'seconds':>10}{'DynamoDB calls':>16}{'peak MiB':>10}")
    for name, figures in (("ours", ours), ("floor", floor)):
        peak = f"{figures.peak_mib:>10.1f}" if figures.peak_mib is not None else f"{'-':>10}"
        print(f"  {name:8}{figures.seconds:>10.2f}{figures.total_calls:>16}{peak}")
    calls_ratio = ours.total_calls / floor.total_calls
    time_ratio = ours.seconds / floor.seconds
    print(f"  calls by operation, ours: {dict(sorted(ours.calls.items()))}")
    print(f"  calls by operation, floor: {dict(sorted(floor.calls.items()))}")
    met = calls_ratio <= 1.10
    goals.append((f"{title}: calls {calls_ratio:.3f}x the floor (goal <= 1.10)", met))
    print(f"  calls: {calls_ratio:.3f}x the floor (goal <= 1.10): {'met' if met else 'MISSED'}")
    met = time_ratio <= 1.5
    goals.append((f"{title}: time {time_ratio:.2f}x the floor (goal <= 1.50)", met))
    print(f"  time:  {time_ratio:.2f}x the floor (goal <= 1.50): {'met' if met else 'MISSED'}")


# --- the runs --------------------------------------------------------------------------------


def main() -> None:
    from devstack.stack import apply, base_environment, create_tables

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-contacts-"))
    engine = start_engine(workdir)
    from devstack.stack import Emulator, client

    kms = Emulator.start()  # KMS for the contacts keys; DynamoDB stays the engine
    saved_env = dict(os.environ)
    try:
        env = base_environment(kms.endpoint, stage="bench")
        env.update(DUMMY_SETTINGS)
        env["KMS_KEY_ID"] = client(env, "kms").create_key()["KeyMetadata"]["KeyId"]
        env["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint  # wins over AWS_ENDPOINT_URL
        create_tables(env, engine.endpoint)
        apply(env)  # os.environ too: the memory runs' processes inherit it
        print(
            f"engine: {ENGINE} at {engine.endpoint}; "
            f"CONTACTS={CONTACTS} ROWS={ROWS} REPEATS={REPEATS} MEMORY_SEND={MEMORY_SEND}",
            flush=True,
        )
        create_campaign()
        sizes = sorted({max(ROWS // 5, 1), max(ROWS // 2, 1), ROWS})
        memory = memory_runs(sizes, workdir)
        warm_engine(env["MAIN_TABLE"])
        floor = Floor(env["MAIN_TABLE"])
        goals: list[tuple[str, bool]] = []
        run_contacts(floor, goals)
        run_lists(floor, workdir / f"items-{ROWS}.jsonl", memory, goals)
        print("\ngoals:")
        for text, met in goals:
            print(f"  [{'met' if met else 'MISSED'}] {text}")
        print(f"\nbench took {time.perf_counter() - started:.0f} s")
    finally:
        kms.stop()
        if not engine.stop():
            print(f"warning: port {engine.port} still listening after {ENGINE} stopped")
        shutil.rmtree(workdir, ignore_errors=True)
        os.environ.clear()
        os.environ.update(saved_env)


ADMIN = "bench-admin"
CAMPAIGN = "bench-campaign"


def create_campaign() -> None:
    from chalicelib.dal import campaigns as campaigns_dal
    from chalicelib.dal import users as users_dal

    admin = users_dal.create_user(ADMIN, "admin@example.org", "Admin", None)
    campaigns_dal.create_campaign(CAMPAIGN, "Bench", admin)


def upload(body: bytes, rows: int, name: str) -> Callable[[], Any]:
    """One CSV's rows checked and stored as an import's chunks store them (without S3 and
    the queue, which `bench/lists.py` measures); checks every row was stored with its
    phone and e-mail."""
    from chalicelib.dal import lists as lists_dal
    from chalicelib.dal.common import new_id
    from chalicelib.logic import lists

    def run() -> Any:
        _count, parsed = lists.csv_rows(body)
        list_id = new_id()
        lists_dal.create_list(CAMPAIGN, list_id, name, ADMIN)
        tally = lists.Tally()
        lists_dal.store_rows(
            CAMPAIGN, list_id, lists.checked_rows(CAMPAIGN, list_id, parsed, tally), ADMIN
        )
        if tally.stored != rows or tally.rejected:
            raise SystemExit(f"the rows were not all stored: {tally}")
        if tally.warnings:
            raise SystemExit(f"rows were stored without their phone or e-mail: {tally}")
        return tally

    return run


def alternating(
    ours: Callable[[int], Figures], floor: Callable[[int], Figures], repeats: int
) -> tuple[Figures, Figures]:
    """The best of `repeats` timed runs each, ours and the floor taking turns to go first."""
    ours_runs: list[Figures] = []
    floor_runs: list[Figures] = []
    for n in range(repeats):
        if n % 2:
            floor_runs.append(floor(n))
            ours_runs.append(ours(n))
        else:
            ours_runs.append(ours(n))
            floor_runs.append(floor(n))
    return best(ours_runs), best(floor_runs)


def run_contacts(floor: Floor, goals: list[tuple[str, bool]]) -> None:
    from chalicelib.dal import users as users_dal
    from chalicelib.logic import contacts
    from chalicelib.logic.access import Principal

    incoming = incoming_contacts(CONTACTS)

    def sync(user_id: str) -> Callable[[], Any]:
        users_dal.create_user(user_id, f"{user_id}@example.org", user_id, None)
        principal = Principal(user_id, "session", mfa=False)

        def run() -> Any:
            result = contacts.sync_contacts(principal, incoming)
            if result.invalid or result.created != CONTACTS:
                raise SystemExit(f"the contacts did not all sync: {result}")
            return result

        return run

    captured: list[dict[str, Any]] = []
    with capturing_writes(captured.append):
        sync("bench-warm")()  # unmeasured: captures the items, makes the clients
    floor.write(plain(captured[:50], "WARM"))  # the floor's first calls, unmeasured

    def floor_run(n: int) -> Figures:
        items = plain(captured, f"FLOOR{n}")
        return timed(lambda: floor.write(items))

    ours, floor_best = alternating(
        lambda n: timed(sync(f"bench-timed-{n}")), floor_run, CONTACT_REPEATS
    )
    ours.peak_mib = traced(sync("bench-memory")).peak_mib
    items = plain(captured, "FLOORMEM")
    floor_best.peak_mib = traced(lambda: floor.write(items)).peak_mib
    report(
        f"PUT /me/contacts: {CONTACTS} contacts ({len(captured)} items)", ours, floor_best, goals
    )


def run_lists(
    floor: Floor,
    capture: Path,
    memory: list[tuple[int, int, Figures]],
    goals: list[tuple[str, bool]],
) -> None:
    body = csv_body(ROWS)
    upload(csv_body(min(ROWS, 200)), min(ROWS, 200), "warm")()  # unmeasured: the clients
    with capture.open() as source:
        captured = [json.loads(line) for line in source]
    floor.write(plain(captured[:50], "WARM"))  # the floor's first calls, unmeasured

    def floor_run(n: int) -> Figures:
        items = plain(captured, f"FLOOR{n}")
        return timed(lambda: floor.write(items))

    ours, floor_best = alternating(
        lambda n: timed(upload(body, ROWS, f"timed {n}")), floor_run, REPEATS
    )
    ours.peak_mib = memory[-1][2].peak_mib
    report(
        f"POST /campaigns/{{cid}}/lists: {ROWS} CSV rows ({len(captured)} items)",
        ours,
        floor_best,
        goals,
    )
    print("  (the floor's input, every item, is held before it starts: its peak is not shown)")
    print("\n  peak memory by list size (the CSV body is built beforehand, not counted):")
    for rows, size, figures in memory:
        print(
            f"  {rows:>8} rows ({size / 2**20:5.1f} MiB of CSV): peak {figures.peak_mib or 0:6.2f}"
            f" MiB ({figures.seconds:6.1f} s under tracemalloc, {figures.total_calls} calls)"
        )
    peaks = [figures.peak_mib or 0.0 for _, _, figures in memory]
    growth = peaks[-1] / peaks[0] if peaks[0] else float("inf")
    rows_growth = memory[-1][0] / memory[0][0]
    met = len(memory) > 1 and growth <= 1.25
    text = (
        f"lists: peak memory {growth:.2f}x from {memory[0][0]} to {memory[-1][0]} rows "
        f"({rows_growth:.0f}x the rows; goal: flat, at most 1.25x)"
    )
    goals.append((text, met))
    print(f"  {text}: {'met' if met else 'MISSED'}")


# --- the memory runs, one process per list size ----------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def answer_batch_writes() -> None:
    """Answer every BatchWriteItem of this process's DynamoDB clients as DynamoDB does
    when it took every item, without sending it (the request is built and signed)."""
    from botocore.awsrequest import AWSResponse

    def answer(request: Any, **_: Any) -> Any:
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
        return AWSResponse(request.url, 200, headers, _Body(b'{"UnprocessedItems":{}}'))

    for client in CallCounter.dynamodb_clients():
        client.meta.events.register_first(
            "before-send.dynamodb.BatchWriteItem", answer, unique_id="bench-answer"
        )


MEMORY_RUN = "--memory-run"
RESULT = "RESULT "


def memory_runs(sizes: list[int], workdir: Path) -> list[tuple[int, int, Figures]]:
    """(rows, CSV bytes, figures) of one upload per size under tracemalloc, each in a
    process of its own, two at a time (one a core), the largest first."""
    from devstack.proc import DIE_WITH_PARENT

    if MEMORY_SEND not in ("stub", "engine"):
        raise SystemExit(f"MEMORY_SEND must be stub or engine, not {MEMORY_SEND!r}")
    started = time.perf_counter()
    at_once = 2 if MEMORY_SEND == "stub" else 1  # concurrent writers slow DynamoDB Local
    waiting = sorted(sizes, reverse=True)
    running: list[tuple[int, subprocess.Popen[bytes], Path]] = []
    found: dict[int, dict[str, Any]] = {}
    while waiting or running:
        while waiting and len(running) < at_once:
            rows = waiting.pop(0)
            log = workdir / f"memory-{rows}.out"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, __file__, MEMORY_RUN, str(workdir), str(rows)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=DIE_WITH_PARENT,
                )
            running.append((rows, process, log))
        time.sleep(0.2)
        for entry in [entry for entry in running if entry[1].poll() is not None]:
            running.remove(entry)
            rows, process, log = entry
            text = log.read_text(errors="replace")
            results = [line for line in text.splitlines() if line.startswith(RESULT)]
            if process.returncode or not results:
                raise SystemExit(f"the {rows}-row memory run failed:\n{text[-3000:]}")
            found[rows] = json.loads(results[-1][len(RESULT) :])
    how = "BatchWriteItem answered at before-send" if MEMORY_SEND == "stub" else "one at a time"
    print(
        f"memory runs ({', '.join(map(str, sizes))} rows; {how}) took "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return [
        (
            rows,
            found[rows]["csv_bytes"],
            Figures(found[rows]["seconds"], Counter(found[rows]["calls"]), found[rows]["peak_mib"]),
        )
        for rows in sizes
    ]


def memory_run(workdir: Path, rows: int) -> None:
    """In a process of its own (the environment inherited): one upload under tracemalloc,
    after a small one that makes the clients and connections."""
    upload(csv_body(200), 200, f"memory warm {rows}")()
    if MEMORY_SEND == "stub":
        answer_batch_writes()
    body = csv_body(rows)
    with (workdir / f"items-{rows}.jsonl").open("w") as sink:

        def dump(item: dict[str, Any]) -> None:
            sink.write(json.dumps(item))
            sink.write("\n")

        with capturing_writes(dump):
            figures = traced(upload(body, rows, f"memory {rows}"))
    found = {
        "rows": rows,
        "seconds": figures.seconds,
        "calls": dict(figures.calls),
        "peak_mib": figures.peak_mib,
        "csv_bytes": len(body),
    }
    print(RESULT + json.dumps(found), flush=True)


def warm_engine(table: str) -> None:
    """Throwaway writes until DynamoDB Local's JIT has compiled its write path (its first
    ~20,000 items go two to three times slower), so that whichever timed run comes first
    is not the one that pays for it."""
    if ENGINE != "ddblocal":
        return
    import boto3
    from botocore.config import Config

    started = time.perf_counter()
    client = boto3.session.Session().client("dynamodb", config=Config(parameter_validation=False))
    stamp = {"S": "2000-01-01T00:00:00.000Z"}
    for start in range(0, WARM_ITEMS, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"WARMUP#{n // 1000}"},
                        "sk": {"S": f"ITEM#{n:06d}"},
                        "entity": {"S": "warmup"},
                        "created_at": stamp,
                        "updated_at": stamp,
                        "updated_by": {"S": "bench"},
                        "value": {"S": f"{n:x}" * 8},
                    }
                }
            }
            for n in range(start, min(start + 25, WARM_ITEMS))
        ]
        client.batch_write_item(RequestItems={table: requests})
    print(
        f"engine warm-up ({WARM_ITEMS} items) took {time.perf_counter() - started:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == MEMORY_RUN:
        memory_run(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
