"""`make run` readiness: seconds from starting the local stack to serving requests
(emulator, tables, pool and keys created, demo data seeded). Goal: under 10 seconds.

    .venv/bin/python bench/startup.py          # RUNS=3 by default
"""

from __future__ import annotations

import os
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.child import start  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))


def one_run() -> float:
    stack = start()
    try:
        with urllib.request.urlopen(f"{stack.base_url}/health", timeout=5) as reply:
            assert reply.status == 200
        return stack.ready_after
    finally:
        stack.stop()


def main() -> None:
    times = [one_run() for _ in range(RUNS)]
    print(
        f"local stack ready (seeded) in {statistics.median(times):.1f} s median of {RUNS} "
        f"runs (min {min(times):.1f}, max {max(times):.1f}); goal: under 10 s"
    )


if __name__ == "__main__":
    main()
