"""Demo data, created through the API itself as a user would create it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pyotp

ADMIN_EMAIL = "admin@example.org"
VOLUNTEER_EMAIL = "volunteer@example.org"
DEMO_PASSWORD = "Demo-Password-1"


@dataclass
class Demo:
    admin_email: str
    volunteer_email: str
    password: str
    admin_totp_secret: str
    campaign_id: str
    action_id: str
    join_code: str


def _call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _verify_with_previous_step(base: str, secret: str, token: str) -> None:
    """Confirm enrolment with the previous step's code, so the current one stays usable
    for whoever signs in next. When a step ends between computing the code and the
    server checking it, the code is out of the window: try again with the new previous step.
    """
    for _ in range(2):
        step = int(time.time() // 30)
        code = pyotp.TOTP(secret).at((step - 1) * 30)
        try:
            _call(base, "POST", "/me/mfa/totp/verify", {"code": code}, token=token)
            return
        except urllib.error.HTTPError as error:
            if error.code != 400 or int(time.time() // 30) == step:
                raise


def seed(base: str) -> Demo:
    _call(
        base,
        "POST",
        "/auth/signup",
        {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD, "name": "Ada Admin"},
    )
    admin = _call(base, "POST", "/auth/login", {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    token = admin["access_token"]
    enrolment = _call(base, "POST", "/me/mfa/totp", token=token)
    secret = enrolment["secret"]
    _verify_with_previous_step(base, secret, token)
    campaign = _call(base, "POST", "/campaigns", {"name": "Demo Campaign"}, token=token)
    cid = campaign["campaign_id"]
    action = _call(
        base,
        "POST",
        f"/campaigns/{cid}/actions",
        {
            "type": "canvass",
            "title": "Knock on doors in Ward 3",
            "instructions": "Ask about the school bond.",
            "status": "live",
            "questions": [
                {
                    "text": "Will you vote yes on the bond?",
                    "responses": [{"text": "Yes"}, {"text": "No"}, {"text": "Undecided"}],
                }
            ],
        },
        token=token,
    )
    join_code = _call(base, "POST", f"/campaigns/{cid}/join-codes", token=token)["code"]
    _call(
        base,
        "POST",
        "/auth/signup",
        {"email": VOLUNTEER_EMAIL, "password": DEMO_PASSWORD, "name": "Val Volunteer"},
    )
    volunteer = _call(
        base, "POST", "/auth/login", {"email": VOLUNTEER_EMAIL, "password": DEMO_PASSWORD}
    )
    _call(base, "POST", "/campaigns/join", {"code": join_code}, token=volunteer["access_token"])
    return Demo(
        ADMIN_EMAIL, VOLUNTEER_EMAIL, DEMO_PASSWORD, secret, cid, action["action_id"], join_code
    )
