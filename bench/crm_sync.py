"""CRM sync throughput: 2,000 reports through the sync against a fake NGP VAN that answers
in 50 ms and accepts at most N calls a second (429 with `Retry-After: 1` beyond that).

For each N: reports synced per second, beside N (the provider's limit is the ceiling; goal:
at least 80% of it), how many 429s the fake answered, and how many records did not end
synced (goal: 0, every 429 handled), and that none was posted twice.

    .venv/bin/python bench/crm_sync.py                 # NS=25,50 REPORTS=2000, ~3 minutes
    NS=10 .venv/bin/python bench/crm_sync.py           # ~4 minutes on its own
    ENGINE=moto NS=25 .venv/bin/python bench/crm_sync.py

Engine. DynamoDB runs on DynamoDB Local (AWS's own engine; the jar `make setup` unpacks under
`.cache/dynamodb-local/`), in a child JVM on a free loopback port, a fresh one for each N
(after a first run and its dropped tables, the same JVM is markedly slower); KMS
(sealing the VAN credentials) on the moto server in this process (`devstack.stack.Emulator`).
Why not moto's DynamoDB: its conditional UpdateItem costs 15-30 ms of Python each, one at a
time (`serialize_dynamodb`), and it shares this process's GIL with the sync's threads, so it
caps the sync at ~25 records a second whatever the provider allows: that measures moto, not
the sync. DynamoDB Local does ~140 conditional updates a second here, with real atomic
conditions (what keeps a report from being posted twice) and real transactions. `ENGINE=moto`
runs everything on moto instead, to see that ceiling. Either way the database is far slower
than DynamoDB, so the end-to-end figure is a floor; `CRM/s` is what the provider saw.

What runs, per N. Empty tables and a fresh FakeVan that knows the 2,000 VAN ids, with
`set_delay(0.05)` and `set_rate_limit(N)`, in a child process (the provider is another
machine: in this one it would take the GIL from the sync's threads for every answer, and its
50 ms and its rate window would jitter with them). Set up through the logic and data layers,
no HTTP: an admin and a volunteer, a campaign, a live canvass action with one question, the
VAN integration (`logic.integrations.configure`: the credentials are tried with
`POST /echoes`, then sealed) and its instructions (answers and an activist code for
`canvassed`, result codes otherwise), the list their VAN ids came from, and 2,000 reports
(half canvassed with an answer, half `not_home`/`refused`).
A fresh process-wide rate limiter (`crm.ratelimit.reset_limiters`): nothing is known of the limit.
Then the clock starts and the sync is driven as Lambda drives it:
- the stream consumer: the reports in batches of BATCH (100, the event source's batch size)
  handed to `sync.open_records` (each record created claimed) and `sync.first_attempts`,
  one invocation at a time per shard (SHARDS, default 1; more
  shards are concurrent invocations, run as threads of this process: they share its limiter,
  where separate Lambda containers would each learn their share);
- the schedule (`crm_sync_retry`, every minute): if anything is left once the stream is done
  (a record waiting for a retry, a batch cut short by its time budget), the bench waits for
  the next minute tick after the start and calls `sync.run_due()`, as EventBridge would,
  until every record is final or TIMEOUT passes.
The clock stops when every record is final (synced, failed for good, or skipped).

Figures. `synced/s` = synced records / wall time; `ratio` = synced/s / N; `CRM/s` = the
successful `canvassResponses` posts a second from the first to the last, as the fake recorded
them; `429s` = answers the fake gave with 429; `posted` = successful posts; `dupes` = reports
posted more than once; `not synced` = records in any other state at the end; `load` = the
machine's load average as the run ended (2 cores here: above ~2, other work took CPU from the
sync, the database and the fake, and the figures are lower than the code can do).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NS = [int(n) for n in os.environ.get("NS", "25,50").split(",") if n.strip()]
REPORTS = int(os.environ.get("REPORTS", "2000"))
BATCH = int(os.environ.get("BATCH", "100"))
SHARDS = max(1, int(os.environ.get("SHARDS", "1")))
DELAY = float(os.environ.get("DELAY", "0.05"))
ENGINE = os.environ.get("ENGINE", "ddblocal")
TIMEOUT = float(os.environ.get("TIMEOUT", "600"))  # seconds: give up waiting for the schedule
SCHEDULE_EVERY = 60.0  # seconds: the retry schedule's rate
FIRST_VAN_ID = 100001
GOAL = 0.80

STOP_TIMEOUT = 10.0


# --- the engine --------------------------------------------------------------------------


def fresh_environment(emulator: Any, ddb_endpoint: str | None) -> dict[str, str]:
    """The emulator reset and provisioned (KMS key and all); with DynamoDB Local, its tables
    dropped and created again, and the app's DynamoDB pointed at it."""
    from devstack.stack import base_environment, client, create_tables, provision

    emulator.reset()
    env = base_environment(emulator.endpoint, stage="bench")
    env.update(provision(env))
    if ddb_endpoint is not None:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb_endpoint
        ddb = client(env, "dynamodb", ddb_endpoint)
        for name in ddb.list_tables()["TableNames"]:
            ddb.delete_table(TableName=name)
        create_tables(env, ddb_endpoint)
    return env


# --- the provider, in a process of its own -----------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    status: int | None
    at: float  # time.monotonic() in the fake's process: the same clock on Linux
    forbidden: bool


def _serve_fake(conn: Any, people: range) -> None:
    """The child: a FakeVan, driven over `conn` (method name and arguments in, result out)."""
    from tests.fakes.van import FakeVan

    with FakeVan(people=people) as fake:
        conn.send((fake.url, fake.credentials))
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "calls":
                conn.send([Call(c.method, c.path, c.status, c.at, c.forbidden) for c in fake.calls])
            else:
                conn.send(getattr(fake, command)(*args))


class RemoteFakeVan:
    """`tests.fakes.van.FakeVan` in a child process. The provider is another machine: in this
    process it would take the GIL from the sync's threads for every call it answers, and its
    own timing (the 50 ms, the rate limit's window) would jitter with theirs."""

    def __init__(self, people: range) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(target=_serve_fake, args=(child_conn, people), daemon=True)
        self._process.start()
        self.url, self.credentials = self._conn.recv()

    def _call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def set_delay(self, seconds: float) -> None:
        self._call("set_delay", seconds)

    def set_rate_limit(self, per_second: int | None) -> None:
        self._call("set_rate_limit", per_second)

    def clear_calls(self) -> None:
        self._call("clear_calls")

    @property
    def calls(self) -> list[Call]:
        calls: list[Call] = self._call("calls")
        return calls

    def stop(self) -> None:
        if self._process.is_alive():
            self._call("stop")
        self._process.join(STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()

    def __enter__(self) -> RemoteFakeVan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    campaign_id: str
    reports: list[Any]


def build_world(fake: Any) -> World:
    """Campaign, action, VAN integration and instructions, reports and their sync records."""
    from chalicelib.dal import campaigns as campaigns_dal
    from chalicelib.dal import lists as lists_dal
    from chalicelib.dal import users as users_dal
    from chalicelib.dal.common import new_id, now_iso
    from chalicelib.domain.campaigns import Role
    from chalicelib.domain.reports import Report
    from chalicelib.logic import actions, campaigns, integrations
    from chalicelib.logic.access import Principal
    from chalicelib.logic.inputs import ActionIn, InstructionsIn
    from chalicelib.logic.lists import list_row_id, row_id_of

    admin = users_dal.create_user(new_id(), "admin@bench.example", "Admin", None)
    volunteer = users_dal.create_user(new_id(), "vol@bench.example", "Vol", None)
    principal = Principal(admin.user_id, "bench-session", mfa=True)
    cid = campaigns.create_campaign(principal, "Bench campaign").campaign_id
    campaigns_dal.add_member(cid, volunteer, Role.VOLUNTEER)
    action = actions.create_action(
        principal,
        cid,
        ActionIn.model_validate(
            {
                "type": "canvass",
                "title": "Measure A doors",
                "status": "live",
                "questions": [
                    {"text": "Measure A?", "responses": [{"text": "Yes"}, {"text": "No"}]}
                ],
            }
        ),
    )
    question = action.questions[0]
    yes, no = (r.response_id for r in question.responses)
    integrations.configure(principal, cid, "van", fake.credentials)
    mapping = {
        "contact_type_id": 2,
        "results": {"not_home": 4, "refused": 5},
        "questions": {
            question.question_id: {
                "external_question_id": 378552,
                "responses": {yes: 1555791, no: 1555792},
            }
        },
        "activist_codes": [4482459],
    }
    integrations.set_instructions(
        principal,
        cid,
        "van",
        InstructionsIn.model_validate({"actions": {action.action_id: mapping}}),
    )
    # the list the reports' VAN ids came from, and the database they are ids of
    lists_dal.create_list(
        cid, "BENCHLIST", "Bench", admin.user_id, "van", crm_settings={"van": {"db_mode": 1}}
    )
    reports: list[Report] = []
    for i in range(REPORTS):
        canvassed = i % 2 == 0
        reports.append(
            Report(
                campaign_id=cid,
                report_id=new_id(),
                action_id=action.action_id,
                user_id=volunteer.user_id,
                contact_id=None,
                list_row_id=None,
                contact_name=f"Voter {i}",
                external_id=str(FIRST_VAN_ID + i),
                result="canvassed" if canvassed else ("not_home" if i % 4 == 1 else "refused"),
                responses=(
                    [{"question_id": question.question_id, "response_id": yes if i % 3 else no}]
                    if canvassed
                    else []
                ),
                notes=None,
                created_at=now_iso(),
                source_row_id=list_row_id("BENCHLIST", row_id_of(i + 1)),
            )
        )
    write_reports(reports)
    return World(cid, reports)


def write_reports(reports: list[Any]) -> None:
    """The report items as `dal.reports.create_report` writes them, 25 a call. (Its transaction
    also counts the volunteer's reports, which the sync never reads; on moto every transaction
    copies the whole table, which would make 2,000 of them take minutes.)"""
    from chalicelib.dal.models import ReportModel

    with ReportModel.batch_write() as batch:
        for r in reports:
            batch.save(
                ReportModel(
                    f"CAMPAIGN#{r.campaign_id}",
                    f"REPORT#{r.report_id}",
                    entity="report",
                    gsi1pk=f"USER#{r.user_id}",
                    gsi1sk=f"REPORT#{r.report_id}",
                    campaign_id=r.campaign_id,
                    report_id=r.report_id,
                    action_id=r.action_id,
                    user_id=r.user_id,
                    contact_id=r.contact_id,
                    list_row_id=r.list_row_id,
                    contact_name=r.contact_name,
                    external_id=r.external_id,
                    source_row_id=r.source_row_id,
                    result=r.result,
                    responses=r.responses,
                    notes=r.notes,
                    created_at=r.created_at,
                    updated_at=r.created_at,
                    updated_by=r.user_id,
                )
            )


def records_of(campaign_id: str) -> list[Any]:
    from chalicelib.dal.models import SyncModel

    return list(
        SyncModel.query(
            f"CAMPAIGN#{campaign_id}",
            range_key_condition=SyncModel.sk.startswith("SYNC#"),
            consistent_read=True,
        )
    )


def unfinished(campaign_id: str) -> int:
    """Records that are not final yet: pending (or claimed), or failed with a retry planned."""
    return sum(
        1
        for item in records_of(campaign_id)
        if item.state == "pending" or (item.state == "failed" and item.retryable)
    )


# --- driving the sync as Lambda would ----------------------------------------------------------


def drive(world: World, started: float) -> int:
    """The stream consumer over every batch (SHARDS invocations at a time), then the
    schedule's ticks until nothing is left to do; returns how often the schedule ran."""
    from chalicelib.logic import sync

    batches = [world.reports[i : i + BATCH] for i in range(0, len(world.reports), BATCH)]
    lock = threading.Lock()
    failures: list[BaseException] = []

    def shard() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop(0)
            try:  # as the stream consumer does: records created claimed, then attempted
                known: dict[str, Any] = {}
                sync.first_attempts([a for r in batch for a in sync.open_records(r, known)])
            except Exception as exc:  # the invocation failed: Lambda delivers the batch again
                failures.append(exc)
                if len(failures) > 3 * len(world.reports):
                    raise  # not a passing fault: stop rather than loop
                with lock:
                    batches.append(batch)

    threads = [threading.Thread(target=shard, name=f"shard-{i}") for i in range(SHARDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"  {len(failures)} consumer invocation(s) failed, first: {failures[0]!r}")

    runs = 0
    while unfinished(world.campaign_id):
        elapsed = time.perf_counter() - started
        if elapsed > TIMEOUT:
            print(f"  gave up after {TIMEOUT:.0f} s with records still to retry")
            break
        tick = (int(elapsed // SCHEDULE_EVERY) + 1) * SCHEDULE_EVERY
        time.sleep(max(0.0, tick - elapsed))
        sync.run_due()
        runs += 1
    return runs


# --- one N ---------------------------------------------------------------------------------


@dataclass
class Result:
    n: int
    seconds: float
    states: Counter[str]
    crm_rate: float
    throttled: int
    posted: int
    duplicates: int
    schedule_runs: int
    setup_seconds: float
    load: float  # the machine's 1-minute load average when the run ended

    @property
    def synced_per_second(self) -> float:
        return self.states["synced"] / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.synced_per_second / self.n

    @property
    def not_synced(self) -> int:
        return sum(count for state, count in self.states.items() if state != "synced")

    @property
    def met(self) -> bool:
        return self.ratio >= GOAL and self.not_synced == 0 and self.duplicates == 0


def run(emulator: Any, ddb_endpoint: str | None, n: int) -> Result:
    from chalicelib.crm.ratelimit import reset_limiters
    from devstack.stack import apply

    env = fresh_environment(emulator, ddb_endpoint)
    with RemoteFakeVan(range(FIRST_VAN_ID, FIRST_VAN_ID + REPORTS)) as fake:
        env["VAN_API_URL"] = fake.url
        apply(env)
        setup_started = time.perf_counter()
        world = build_world(fake)
        setup_seconds = time.perf_counter() - setup_started
        reset_limiters()  # nothing learnt from the setup's calls
        fake.clear_calls()
        fake.set_delay(DELAY)
        fake.set_rate_limit(n)

        started = time.perf_counter()
        schedule_runs = drive(world, started)
        seconds = time.perf_counter() - started

        fake.set_rate_limit(None)
        fake.set_delay(0)
        calls = fake.calls
    forbidden = [f"{c.method} {c.path}" for c in calls if c.forbidden]
    if forbidden:
        raise SystemExit(f"person-creating endpoints were called: {forbidden}")
    posts = [c for c in calls if c.method == "POST" and c.path.endswith("/canvassResponses")]
    ok = sorted(c.at for c in posts if c.status == 204)
    per_person = Counter(c.path for c in posts if c.status == 204)
    return Result(
        n=n,
        seconds=seconds,
        states=Counter(item.state for item in records_of(world.campaign_id)),
        crm_rate=(len(ok) - 1) / (ok[-1] - ok[0]) if len(ok) > 1 else 0.0,
        throttled=sum(1 for c in calls if c.status == 429),
        posted=len(ok),
        duplicates=sum(count - 1 for count in per_person.values() if count > 1),
        schedule_runs=schedule_runs,
        setup_seconds=setup_seconds,
        load=os.getloadavg()[0],
    )


def _quiet_logs() -> None:
    """The app logs a line per attempt (and one per retry): keep them off the console."""
    import logging

    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@contextlib.contextmanager
def _engine() -> Iterator[Any]:
    from devstack import ddblocal

    try:
        with ddblocal.running() as server:
            yield server
    except ddblocal.NotInstalled as exc:
        raise SystemExit(f"{exc} Or set ENGINE=moto.") from None


def main() -> None:
    from chalicelib.logic import sync
    from devstack.stack import Emulator

    if ENGINE not in ("ddblocal", "moto"):
        raise SystemExit(f"ENGINE must be ddblocal or moto, not {ENGINE!r}")
    _quiet_logs()
    results = []
    emulator = Emulator.start()
    try:
        for n in NS:
            with contextlib.ExitStack() as stack:  # a fresh engine each time: none slowed down
                ddb = None
                if ENGINE == "ddblocal":
                    ddb = stack.enter_context(_engine()).endpoint
                result = run(emulator, ddb, n)
                results.append(result)
                print(
                    f"N={n}: {result.states['synced']} synced in {result.seconds:.1f} s "
                    f"(setup {result.setup_seconds:.1f} s; the schedule ran "
                    f"{result.schedule_runs} time(s))",
                    flush=True,
                )
    finally:
        emulator.stop()

    print()
    print(
        f"CRM sync, {REPORTS} reports: fake VAN answering in {DELAY * 1000:.0f} ms, at most N "
        f"calls/s; DynamoDB on {ENGINE}; stream batches of {BATCH}, {SHARDS} shard(s), "
        f"{sync.WORKERS} worker threads"
    )
    print(
        f"{'N':>5}{'synced/s':>10}{'ratio':>8}{'CRM/s':>8}{'429s':>7}"
        f"{'posted':>8}{'dupes':>7}{'not synced':>12}{'seconds':>9}{'load':>6}  goal"
    )
    for r in results:
        print(
            f"{r.n:>5}{r.synced_per_second:>10.1f}{r.ratio:>8.2f}{r.crm_rate:>8.1f}"
            f"{r.throttled:>7}{r.posted:>8}{r.duplicates:>7}{r.not_synced:>12}"
            f"{r.seconds:>9.1f}{r.load:>6.1f}  {'met' if r.met else 'MISSED'}"
        )
        if r.not_synced:
            print(f"      states: {dict(r.states)}")
    print(
        f"goal: ratio >= {GOAL:.2f} with every record synced and none posted twice: "
        f"{'met' if results and all(r.met for r in results) else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
