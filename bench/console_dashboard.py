"""The admin console's time to its first page: from opening `/console/` signed in (the tab's
session restored from its refresh token, as after a reload) to the campaign page rendered
with its data in Chromium, on the local stack with its demo data. Median of RUNS (default 7)
cold page loads, each in a fresh browser context. The first page is the campaign page until
the dashboard (`GET /campaigns/{cid}/stats`) is in the API.

    .venv/bin/python bench/console_dashboard.py     # needs `make console` first
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.child import start  # noqa: E402
from devstack.seed import ADMIN_EMAIL, DEMO_PASSWORD  # noqa: E402

RUNS = int(os.environ.get("RUNS", "7"))


def _post(base: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def main() -> None:
    import pyotp

    stack = start()
    try:
        secret = stack.value("TOTP secret")
        login = {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD}
        step = _post(stack.base_url, "/auth/login", login)
        code = pyotp.TOTP(secret).now()
        tokens = _post(stack.base_url, "/auth/mfa", {"mfa_token": step["mfa_token"], "code": code})
        run = subprocess.run(
            ["node", "scripts/bench-first-page.mjs"],
            cwd=ROOT / "console",
            env={
                **os.environ,
                "BASE": stack.base_url,
                "REFRESH_TOKEN": tokens["refresh_token"],
                "HEADING": "Demo Campaign",
                "READY": "Rename the campaign",  # shown once the campaign is loaded
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
        f"console first page (signed in, cold cache) in {statistics.median(times):.0f} ms median "
        f"of {len(times)} runs (min {min(times)}, max {max(times)})"
    )


if __name__ == "__main__":
    main()
