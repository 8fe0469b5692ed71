"""`python -m devstack`: the whole system on the embedded emulator (what `make run` starts).

Starts moto in this process, creates the tables, bucket, log group, KMS key and
user pool, serves the API (PORT, default 8000), feeds the main table's stream to
the stream handlers and the import queue to its worker, runs the scheduled handlers,
seeds demo data and prints how to sign in. Ctrl-C or SIGTERM stops all of it; everything
runs in this one process.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from devstack import child
from devstack.queues import QueuePoller
from devstack.scheduler import Scheduler
from devstack.stack import ROOT, Emulator, apply, base_environment, provision
from devstack.streams import StreamPoller


def _stream_pollers(app: Any, env: dict[str, str]) -> list[StreamPoller]:
    import boto3
    from chalice.app import DynamoDBEventConfig

    session = boto3.session.Session(region_name=env["AWS_DEFAULT_REGION"])
    ddb = session.client("dynamodb")
    streams = session.client("dynamodbstreams")
    stream_arn = ddb.describe_table(TableName=env["MAIN_TABLE"])["Table"]["LatestStreamArn"]
    return [
        StreamPoller(
            streams,
            stream_arn,
            app.handler_map[source.name],
            source.name,
            source.batch_size,
            env["AWS_DEFAULT_REGION"],
        )
        for source in app.event_sources
        if isinstance(source, DynamoDBEventConfig)
    ]


def _queue_pollers(app: Any, env: dict[str, str]) -> list[QueuePoller]:
    import boto3
    from chalice.app import SQSEventConfig

    sqs = boto3.session.Session(region_name=env["AWS_DEFAULT_REGION"]).client("sqs")
    url = env["IMPORT_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return [
        QueuePoller(sqs, url, arn, app.handler_map[source.name], source.name)
        for source in app.event_sources
        if isinstance(source, SQSEventConfig)
    ]


def _scheduler(app: Any) -> Scheduler:
    from chalice.app import ScheduledEventConfig

    jobs = []
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            jobs.append((source.name, text, app.handler_map[source.name]))
    return Scheduler(jobs)


def _write_env_file(env: dict[str, str], port: int) -> str:
    """The stack's settings, for operator commands (python -m tools....) run beside it."""
    folder = ROOT / ".cache" / "devstack"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{port}.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in sorted(env.items())))
    path.chmod(0o600)
    return str(path.relative_to(ROOT))


def _read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, _, value in pairs}


def _code_command(secret: str) -> str:
    return f".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\""


def main() -> int:
    started = time.monotonic()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack
    stopping: list[int] = []  # a signal handler must not take locks: no Event here

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")

    # EMULATOR_URL: an emulator someone else runs (it outlives this stack: a test stops
    # the stack mid-work and starts another on the same state); DYNAMODB_URL: DynamoDB on
    # another engine (DynamoDB Local); SETTINGS_FILE: the settings of a stack provisioned
    # before on that emulator, used instead of provisioning again
    external = os.environ.get("EMULATOR_URL")
    emulator = None if external else Emulator.start(int(os.environ.get("EMULATOR_PORT", "0")))
    env = base_environment(external or emulator.endpoint)  # type: ignore[union-attr]
    if os.environ.get("DYNAMODB_URL"):
        env["AWS_ENDPOINT_URL_DYNAMODB"] = os.environ["DYNAMODB_URL"]
        env["AWS_ENDPOINT_URL_DYNAMODBSTREAMS"] = os.environ["DYNAMODB_URL"]
    env.update({k: v for k, v in os.environ.items() if k.endswith("_API_URL")})
    outbox = ROOT / ".cache" / "devstack" / f"outbox-{port}.jsonl"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    env["OUTBOX_PATH"] = str(outbox)
    settings_file = os.environ.get("SETTINGS_FILE")
    if settings_file and Path(settings_file).exists():
        env.update(_read_env_file(Path(settings_file)))
    else:
        env.update(provision(env))
    apply(env)
    env_file = _write_env_file(env, port)

    from app import app
    from devstack.seed import seed
    from devstack.server import EmbeddedServer

    server = EmbeddedServer(app, host, port)
    server.start()
    pollers: list[StreamPoller | QueuePoller] = [
        *_stream_pollers(app, env),
        *_queue_pollers(app, env),
    ]
    for poller in pollers:
        poller.start()
    scheduler = _scheduler(app)
    scheduler.start()

    base = f"http://{host}:{server.port}"
    demo = None if os.environ.get("SEED", "true") == "false" else seed(base)
    elapsed = time.monotonic() - started

    print(f"\n{child.READY} {base} (started in {elapsed:.1f} s)", flush=True)
    print(f"  Admin console: {base}/console/")
    print(f"  AWS emulator: {env['AWS_ENDPOINT_URL']}  (region {env['AWS_DEFAULT_REGION']})")
    if demo:
        print("  Demo data:")
        print(f"    admin      {demo.admin_email} / {demo.password}")
        print(f"               TOTP secret {demo.admin_totp_secret}")
        print(f"               a code: {_code_command(demo.admin_totp_secret)}")
        print(f"    volunteer  {demo.volunteer_email} / {demo.password}")
        print(f"    campaign   {demo.campaign_id}  (join code {demo.join_code})")
        print(f"    action     {demo.action_id}  (live)")
    print("  Try: curl -s " + base + "/health", flush=True)
    print(f"  Operator commands on this stack: set -a; . {env_file}; set +a", flush=True)
    print(f"  E-mails the system sends are written to {outbox.relative_to(ROOT)}", flush=True)
    print(child.BANNER_END, flush=True)

    while not stopping:
        time.sleep(0.2)

    scheduler.stop()
    for poller in pollers:
        poller.stop()
    server.stop()
    if emulator is not None:
        emulator.stop()
    (ROOT / env_file).unlink(missing_ok=True)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
