"""Cold start: import the app and answer a first request, in fresh processes.

Beside it, the floor: a bare Chalice app that imports boto3 and answers the same
request. Goal: the app at most 1.3x the floor. Prints medians over RUNS processes.

    .venv/bin/python bench/cold_start.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "15"))

EVENT = {
    "resource": "/health",
    "path": "/health",
    "httpMethod": "GET",
    "headers": {"Host": "example.org", "User-Agent": "bench"},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/health",
        "httpMethod": "GET",
        "path": "/api/health",
        "requestId": "bench",
        "identity": {"sourceIp": "127.0.0.1"},
        "stage": "api",
    },
    "body": None,
    "isBase64Encoded": False,
}

MEASURE = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
from {module} import app
imported = time.perf_counter()

class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

response = app(json.loads({event!r}), Context())
answered = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({{"import": imported - started, "first": answered - started}}))
"""

FLOOR_APP = """
import boto3  # noqa: F401
from chalice import Chalice

app = Chalice(app_name="floor")


@app.route("/health")
def health():
    return {"status": "ok"}
"""


def _run(module: str, root: str) -> dict[str, float]:
    script = MEASURE.format(root=root, module=module, event=json.dumps(EVENT))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    wall_start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=root,
    )
    wall = time.perf_counter() - wall_start
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process"] = wall
    return figures


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as floor_dir:
        (Path(floor_dir) / "floor_app.py").write_text(FLOOR_APP)
        # one warm-up each, so both read their files from the page cache
        _run("floor_app", floor_dir)
        _run("app", str(ROOT))
        floor, ours = [], []
        for _ in range(RUNS):
            floor.append(_run("floor_app", floor_dir))
            ours.append(_run("app", str(ROOT)))
    print(f"cold start, median of {RUNS} fresh processes (ms)")
    print(f"{'':28}{'import':>10}{'first response':>16}{'whole process':>15}")
    for name, runs in (("floor (chalice + boto3)", floor), ("app", ours)):
        print(
            f"{name:28}{_median(runs, 'import'):>10.0f}{_median(runs, 'first'):>16.0f}"
            f"{_median(runs, 'process'):>15.0f}"
        )
    ratio = _median(ours, "first") / _median(floor, "first")
    print(f"ratio app / floor (first response): {ratio:.2f}  (goal: <= 1.30)")


if __name__ == "__main__":
    main()
