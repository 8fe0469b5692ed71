"""Cold start: import the app and answer a first request, in fresh processes.

Two first requests, each in fresh processes of its own:
- GET /health, which needs no AWS at all;
- GET /me, as API Gateway hands it on after the authorizer: the caller's profile read
  from DynamoDB (GetItem) and their memberships (Query on gsi1), on the embedded emulator.

Beside the app, the floor: a bare Chalice app that imports boto3 and answers the same
requests, GET /me with the same two calls through a plain boto3 client. Goal: the app at
most 1.3x the floor. Prints medians over RUNS processes of each kind.

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = int(os.environ.get("RUNS", "15"))
GOAL = 1.3


def event(path: str, authorizer: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy event for GET `path`, with the authorizer's context if given."""
    context: dict[str, Any] = {
        "resourcePath": path,
        "httpMethod": "GET",
        "path": f"/api{path}",
        "requestId": "bench",
        "identity": {"sourceIp": "127.0.0.1"},
        "stage": "api",
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "example.org", "User-Agent": "bench"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": context,
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
body = json.loads(response["body"])
assert body.get({check!r}) == {expected!r}, body
print(json.dumps({{"import": imported - started, "first": answered - started}}))
"""

FLOOR_APP = """
import os

import boto3
from chalice import Chalice

app = Chalice(app_name="floor")


@app.route("/health")
def health():
    return {"status": "ok"}


@app.route("/me")
def me():
    user_id = app.current_request.context["authorizer"]["principalId"]
    table = os.environ["MAIN_TABLE"]
    dynamodb = boto3.client("dynamodb")
    user = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "USER#" + user_id}, "sk": {"S": "PROFILE"}}
    )["Item"]
    memberships = dynamodb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :user AND begins_with(gsi1sk, :campaign)",
        ExpressionAttributeValues={
            ":user": {"S": "USER#" + user_id},
            ":campaign": {"S": "CAMPAIGN#"},
        },
    )["Items"]
    return {
        "user_id": user_id,
        "email": user["email"]["S"],
        "memberships": [{"campaign_id": m["gsi1sk"]["S"][9:]} for m in memberships],
    }
"""


def _run(
    module: str, root: str, request: dict[str, Any], check: tuple[str, str]
) -> dict[str, float]:
    script = MEASURE.format(
        root=root, module=module, event=json.dumps(request), check=check[0], expected=check[1]
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    wall_start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=root,
    )
    wall = time.perf_counter() - wall_start
    if out.returncode != 0:
        raise SystemExit(f"{module} failed:\n{out.stdout}\n{out.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process"] = wall
    return figures


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs) * 1000


def _volunteer() -> str:
    """A signed-up volunteer on the emulator, created through the app: their user id."""
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        reply = client.http.post(
            "/auth/signup",
            headers={"Content-Type": "application/json"},
            body=json.dumps(
                {"email": "bench@example.org", "password": "Bench-Password-1", "name": "Bench"}
            ),
        )
    assert reply.status_code == 201, reply.body
    return str(json.loads(reply.body)["user_id"])


def main() -> None:
    from devstack.stack import Emulator, apply, base_environment, provision

    emulator = Emulator.start()
    saved = dict(os.environ)
    try:
        env = base_environment(emulator.endpoint, stage="bench")
        env.update(provision(env))
        apply(env)  # os.environ too: the measured processes inherit it
        user_id = _volunteer()
        me = event(
            "/me",
            {
                "principalId": user_id,
                "authenticated": "true",
                "session_id": "bench",
                "mfa": "false",
            },
        )
        requests = {
            "GET /health": (event("/health"), ("status", "ok")),
            "GET /me": (me, ("user_id", user_id)),
        }
        results = {name: _measure(*request) for name, request in requests.items()}
    finally:
        emulator.stop()
        os.environ.clear()
        os.environ.update(saved)

    print(f"cold start, median of {RUNS} fresh processes each (ms)")
    print(f"{'':30}{'import':>8}{'first response':>16}{'whole process':>15}")
    met = True
    for name, (floor, ours) in results.items():
        for label, runs in ((f"{name}: floor", floor), (f"{name}: app", ours)):
            print(
                f"{label:30}{_median(runs, 'import'):>8.0f}{_median(runs, 'first'):>16.0f}"
                f"{_median(runs, 'process'):>15.0f}"
            )
        ratio = _median(ours, "first") / _median(floor, "first")
        met = met and ratio <= GOAL
        print(f"{name}: ratio app / floor (first response) {ratio:.2f}  (goal: <= {GOAL})")
    print(f"goal: {'met' if met else 'MISSED'}")


def _measure(
    request: dict[str, Any], check: tuple[str, str]
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    with tempfile.TemporaryDirectory() as floor_dir:
        (Path(floor_dir) / "floor_app.py").write_text(FLOOR_APP)
        # one warm-up each, so both read their files from the page cache
        _run("floor_app", floor_dir, request, check)
        _run("app", str(ROOT), request, check)
        floor, ours = [], []
        for _ in range(RUNS):  # alternating, so a busy moment hits both alike
            floor.append(_run("floor_app", floor_dir, request, check))
            ours.append(_run("app", str(ROOT), request, check))
    return floor, ours


if __name__ == "__main__":
    main()
