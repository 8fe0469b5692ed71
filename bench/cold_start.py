"""Cold start: import a Lambda handler and answer a first event, in fresh processes.

Two first events, each in fresh processes of its own:
- GET /health, which needs no AWS at all;
- GET /me with a signed-in caller's access token, as API Gateway hands it on (there is no
  authorizer: the API function checks the token itself): the pool's JWKS fetched, the
  token verified, the server-side session read (GetItem), then the caller's profile
  (GetItem) and their memberships (Query on gsi1), on the embedded emulator.

Beside each, the floor: a bare Chalice app that imports boto3 and PyJWT and does the same
work through a plain boto3 client. Goal: ours at most 1.3x the floor. Prints medians over
RUNS processes of each kind.

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


def event(path: str, token: str | None = None) -> dict[str, Any]:
    """An API Gateway proxy event for GET `path`, with a bearer token if given."""
    context: dict[str, Any] = {
        "resourcePath": path,
        "httpMethod": "GET",
        "path": f"/api{path}",
        "requestId": "bench",
        "identity": {"sourceIp": "127.0.0.1"},
        "stage": "api",
    }
    headers = {"Host": "example.org", "User-Agent": "bench"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
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
from {module} import {handler} as handler
imported = time.perf_counter()

class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

response = handler(json.loads({event!r}), Context())
answered = time.perf_counter()
assert response["statusCode"] == 200, response
response = json.loads(response["body"])
assert response.get({check!r}) == {expected!r}, response
print(json.dumps({{"import": imported - started, "first": answered - started}}))
"""

FLOOR_APP = """
import json
import os
import urllib.request

import boto3
import jwt
from chalice import Chalice

app = Chalice(app_name="floor")


@app.route("/health")
def health():
    return {"status": "ok"}


def caller(dynamodb):
    token = app.current_request.headers["authorization"].partition(" ")[2]
    with urllib.request.urlopen(os.environ["JWKS_URL"], timeout=5) as response:
        keys = {k["kid"]: jwt.PyJWK.from_dict(k).key for k in json.load(response)["keys"]}
    claims = jwt.decode(
        token,
        keys[jwt.get_unverified_header(token)["kid"]],
        algorithms=["RS256"],
        issuer=os.environ["TOKEN_ISSUER"],
    )
    session = dynamodb.get_item(
        TableName=os.environ["SESSIONS_TABLE"],
        Key={"pk": {"S": "SESSION#" + claims["origin_jti"]}},
        ConsistentRead=True,
    )["Item"]
    assert session["user_id"]["S"] == claims["sub"]
    return claims["sub"]


@app.route("/me")
def me():
    table = os.environ["MAIN_TABLE"]
    dynamodb = boto3.client("dynamodb")
    user_id = caller(dynamodb)
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

# (module, handler) of what is measured, ours and the floor's, per kind of event
APP = ("app", "app")
FLOOR = ("floor_app", "app")


def _run(
    target: tuple[str, str], root: str, request: dict[str, Any], check: tuple[str, str]
) -> dict[str, float]:
    module, handler = target
    script = MEASURE.format(
        root=root,
        module=module,
        handler=handler,
        event=json.dumps(request),
        check=check[0],
        expected=check[1],
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


def _volunteer() -> tuple[str, str]:
    """A volunteer signed up and signed in on the emulator, through the app: their user id
    and access token."""
    from chalice.test import Client

    from app import app

    headers = {"Content-Type": "application/json"}
    person = {"email": "bench@example.org", "password": "Bench-Password-1"}
    with Client(app) as client:
        reply = client.http.post(
            "/auth/signup", headers=headers, body=json.dumps({**person, "name": "Bench"})
        )
        assert reply.status_code == 201, reply.body
        user_id = str(json.loads(reply.body)["user_id"])
        reply = client.http.post("/auth/login", headers=headers, body=json.dumps(person))
        assert reply.status_code == 200, reply.body
    return user_id, str(json.loads(reply.body)["access_token"])


def main() -> None:
    from devstack.stack import Emulator, apply, base_environment, provision

    emulator = Emulator.start()
    saved = dict(os.environ)
    try:
        env = base_environment(emulator.endpoint, stage="bench")
        env.update(provision(env))
        apply(env)  # os.environ too: the measured processes inherit it
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # this process's sign-up, not printed
        user_id, token = _volunteer()
        del os.environ["POWERTOOLS_LOG_LEVEL"]  # the measured processes log as deployed
        from chalicelib.config import settings

        # spelt out for the floor, which does not derive them as the app's settings do
        os.environ["TOKEN_ISSUER"] = settings().token_issuer
        os.environ["SESSIONS_TABLE"] = settings().sessions_table
        requests = {
            "GET /health": (APP, FLOOR, event("/health"), ("status", "ok")),
            "GET /me, token checked": (APP, FLOOR, event("/me", token), ("user_id", user_id)),
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
    target: tuple[str, str],
    floor_target: tuple[str, str],
    request: dict[str, Any],
    check: tuple[str, str],
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    with tempfile.TemporaryDirectory() as floor_dir:
        (Path(floor_dir) / "floor_app.py").write_text(FLOOR_APP)
        # one warm-up each, so both read their files from the page cache
        _run(floor_target, floor_dir, request, check)
        _run(target, str(ROOT), request, check)
        floor, ours = [], []
        for _ in range(RUNS):  # alternating, so a busy moment hits both alike
            floor.append(_run(floor_target, floor_dir, request, check))
            ours.append(_run(target, str(ROOT), request, check))
    return floor, ours


if __name__ == "__main__":
    main()
