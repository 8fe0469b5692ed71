"""The admin console's time to the dashboard: from opening `/console/` signed in (the tab's
session restored from its refresh token, as after a reload) to the campaign's first page, its
dashboard, rendered with its figures and charts (`GET /campaigns/{cid}/stats`) in Chromium, on
the local stack. The demo campaign gets a few reports first (its volunteer's contacts, with a
result and an answer each), so the charts have something to draw. Median of RUNS (default 7)
cold page loads, each in a fresh browser context.

    .venv/bin/python bench/console_dashboard.py     # needs `make console` first
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.child import start  # noqa: E402
from devstack.seed import ADMIN_EMAIL, DEMO_PASSWORD, VOLUNTEER_EMAIL  # noqa: E402

RUNS = int(os.environ.get("RUNS", "7"))
REPORTS = 12
RESULTS = ["canvassed", "canvassed", "not_home", "refused", "canvassed", "moved"]


def _call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        text = reply.read()
        return json.loads(text) if text else None


def _post(base: str, path: str, body: dict[str, Any]) -> Any:
    return _call(base, "POST", path, body)


def _file_reports(base: str, admin_token: str) -> None:
    """The demo volunteer's contacts, each reported on in the demo campaign's action; then
    waits for the stream-fed counters (synced contacts) to show them."""
    me = _call(base, "GET", "/me", token=admin_token)
    cid = me["memberships"][0]["campaign_id"]
    actions = _call(base, "GET", f"/campaigns/{cid}/actions", token=admin_token)["items"]
    action = actions[0]
    question = action["questions"][0]
    login = {"email": VOLUNTEER_EMAIL, "password": DEMO_PASSWORD}
    volunteer = _post(base, "/auth/login", login)["access_token"]
    people = [
        {"name": f"Demo Voter {i}", "phones": [f"202-555-{100 + i:04d}"]} for i in range(REPORTS)
    ]
    _call(base, "PUT", "/me/contacts", {"contacts": people}, token=volunteer)
    contacts = _call(base, "GET", "/me/contacts", token=volunteer)["items"]
    responses = question["responses"]
    for i, contact in enumerate(contacts[:REPORTS]):
        result = RESULTS[i % len(RESULTS)]
        report: dict[str, Any] = {"contact_id": contact["contact_id"], "result": result}
        if result == "canvassed":
            answer = responses[i % len(responses)]["response_id"]
            report["responses"] = [{"question_id": question["question_id"], "response_id": answer}]
        _call(
            base,
            "POST",
            f"/campaigns/{cid}/actions/{action['action_id']}/reports",
            report,
            token=volunteer,
        )
    deadline = time.monotonic() + 30
    while _call(base, "GET", f"/campaigns/{cid}/stats", token=admin_token)["synced_contacts"] < len(
        people
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the synced-contact count did not follow the contacts")
        time.sleep(0.5)


def main() -> None:
    import pyotp

    stack = start()
    try:
        secret = stack.value("TOTP secret")
        login = {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD}
        step = _post(stack.base_url, "/auth/login", login)
        code = pyotp.TOTP(secret).now()
        tokens = _post(stack.base_url, "/auth/mfa", {"mfa_token": step["mfa_token"], "code": code})
        _file_reports(stack.base_url, tokens["access_token"])
        run = subprocess.run(
            ["node", "scripts/bench-first-page.mjs"],
            cwd=ROOT / "console",
            env={
                **os.environ,
                "BASE": stack.base_url,
                "REFRESH_TOKEN": tokens["refresh_token"],
                "HEADING": "Demo Campaign: dashboard",
                "READY": "Reports by result",  # a chart's caption: shown once the stats load
                "RUNS": str(RUNS),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        if run.returncode != 0:
            raise SystemExit(f"the browser run failed:\n{run.stdout}\n{run.stderr}")
        times = json.loads(run.stdout.strip().splitlines()[-1])["times"]
    finally:
        stack.stop()
    print(
        f"console dashboard with its data (signed in, cold cache) in "
        f"{statistics.median(times):.0f} ms median of {len(times)} runs "
        f"(min {min(times)}, max {max(times)})"
    )


if __name__ == "__main__":
    main()
