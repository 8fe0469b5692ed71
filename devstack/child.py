"""The local stack as a child process: `python -m devstack` (what `make run` starts) on free
ports, its output kept, stopped with SIGTERM. The end-to-end tests and `bench/startup.py`
start it this way::

    stack = start({"SEED": "false"})
    ...  # talk HTTP to stack.base_url
    stack.stop()
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.proc import DIE_WITH_PARENT, free_port

ROOT = Path(__file__).resolve().parent.parent
READY = "The API is ready on"  # then the base URL; the banner follows
BANNER_END = "Ctrl-C stops everything."
_READY = re.compile(re.escape(READY) + r" (http://\S+)")


@dataclass
class LocalStack:
    process: subprocess.Popen[str]
    port: int
    emulator_port: int
    base_url: str = ""
    ready_after: float = 0.0  # seconds from starting the process to its ready line
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = field(default=None, repr=False)  # drains its output

    def value(self, label: str) -> str:
        """The word printed after `label` (a regular expression) in the banner."""
        for line in self.output:
            match = re.search(rf"{label}\s+(\S+)", line)
            if match:
                return match.group(1)
        raise KeyError(label)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then its exit status, once all it printed is in `output`. A stack that
        does not stop in time prints its threads' stacks (SIGUSR1) and is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGUSR1)
                time.sleep(1)
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)  # the pipe's end follows the process's
        return int(self.process.returncode)


def start(extra_env: dict[str, str] | None = None, timeout: float = 90.0) -> LocalStack:
    """A local stack on free ports, returned once its banner is printed. Raises RuntimeError
    with the end of its output if it is not ready within `timeout` seconds."""
    port, emulator_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "EMULATOR_PORT": str(emulator_port),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=DIE_WITH_PARENT,
    )
    stack = LocalStack(process, port, emulator_port)
    timer = threading.Timer(timeout, process.kill)  # a stack that hangs before printing
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            match = _READY.search(line)
            if match:
                stack.base_url = match.group(1)
                stack.ready_after = time.monotonic() - started
            if stack.base_url and BANNER_END in line:
                break
    finally:
        timer.cancel()
    if not stack.base_url or process.poll() is not None:
        stack.stop()
        raise RuntimeError("the local stack did not start:\n" + "".join(stack.output[-40:]))
    # keep draining its output, so the process never blocks on a full pipe
    stack.reader = threading.Thread(target=_drain, args=(process, stack.output), daemon=True)
    stack.reader.start()
    return stack


def _drain(process: subprocess.Popen[str], sink: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sink.append(line)
