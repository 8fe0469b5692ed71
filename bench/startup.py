"""`make run` readiness: seconds from starting the local stack to serving requests
(emulator, tables, pool and keys created, demo data seeded). Goal: under 10 seconds.

    .venv/bin/python bench/startup.py          # RUNS=3 by default
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.proc import free_port  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))


def one_run() -> float:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "The API is ready on" in line:
                break
        else:
            raise SystemExit("the stack did not start")
        ready = time.perf_counter() - started
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
            assert reply.status == 200
        return ready
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    times = [one_run() for _ in range(RUNS)]
    print(
        f"local stack ready (seeded) in {statistics.median(times):.1f} s median of {RUNS} "
        f"runs (min {min(times):.1f}, max {max(times):.1f}); goal: under 10 s"
    )


if __name__ == "__main__":
    main()
