"""The local stack as a user runs it (`python -m devstack`, what `make run` starts),
in a subprocess on free ports, talked to over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack.proc import free_port
from tests.helpers import Api, http_transport

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"The API is ready on (http://\S+)")


@dataclass
class LocalStack:
    process: subprocess.Popen
    base_url: str
    port: int
    emulator_port: int
    output: list[str] = field(default_factory=list)

    def value(self, label: str) -> str:
        for line in self.output:
            match = re.search(rf"{label}\s+(\S+)", line)
            if match:
                return match.group(1)
        raise KeyError(label)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGUSR1)  # its threads' stacks, for the report
                time.sleep(1)
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def start_stack(extra_env: dict[str, str] | None = None) -> LocalStack:
    port, emulator_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "EMULATOR_PORT": str(emulator_port),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = LocalStack(process, "", port, emulator_port)
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        stack.output.append(line)
        match = READY.search(line)
        if match:
            stack.base_url = match.group(1)
            # keep draining the output so the process never blocks on a full pipe
            import threading

            threading.Thread(target=_drain, args=(process, stack.output), daemon=True).start()
            # the banner follows the ready line
            time.sleep(0.2)
            return stack
    stack.stop()
    raise AssertionError("the local stack did not start:\n" + "".join(stack.output[-40:]))


def _drain(process: subprocess.Popen, sink: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sink.append(line)


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    stack = start_stack()
    yield stack
    stack.stop()


@pytest.fixture
def http_api(local_stack: LocalStack) -> Api:
    return Api(http_transport(local_stack.base_url))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
