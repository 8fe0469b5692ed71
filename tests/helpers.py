"""Test helpers: one small API client over chalice's test client or real HTTP, and
factories for the people a test needs (signed up, signed in, with or without TOTP)."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyotp

PASSWORD = "Correct-Horse-9"
_counter = itertools.count(1)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"


class Api:
    """Calls the API as the app and the console would: JSON in, JSON out."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: str | bytes | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self._transport(method, path, sent, payload)

    def get(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("GET", path, token=token, **kw)

    def post(self, path: str, body: Any = None, token: str | None = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, token, **kw)

    def put(self, path: str, body: Any = None, token: str | None = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, token, **kw)

    def patch(self, path: str, body: Any = None, token: str | None = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, token, **kw)

    def delete(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("DELETE", path, token=token, **kw)


def chalice_transport(client: Any) -> Any:
    def send(method: str, path: str, headers: dict[str, str], payload: Any) -> Reply:
        response = client.http.request(method, path, headers=headers, body=payload or b"")
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        return Reply(response.status_code, dict(response.headers), body)

    return send


def http_transport(base_url: str) -> Any:
    import requests

    session = requests.Session()

    def send(method: str, path: str, headers: dict[str, str], payload: Any) -> Reply:
        response = session.request(
            method, base_url + path, headers=headers, data=payload, timeout=30
        )
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        return Reply(response.status_code, dict(response.headers), body)

    return send


# Seconds a request may take to reach the server's TOTP check.
_STEP_MARGIN = 2.0


@dataclass
class Person:
    email: str
    user_id: str
    token: str = ""
    refresh_token: str = ""
    totp_secret: str | None = None
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def code(self, offset_steps: int = 0) -> str:
        """The code `offset_steps` steps from now.

        A code from an earlier step is only accepted while the server is still in
        the step after it, so near a step's end this waits for the next step to begin:
        otherwise the request could reach the server one step later, out of the window.
        """
        assert self.totp_secret
        now = time.time()
        if offset_steps < 0:
            left = 30 - now % 30
            if left < _STEP_MARGIN:
                time.sleep(left + 0.05)
                now = time.time()
        return str(pyotp.TOTP(self.totp_secret).at(now + 30 * offset_steps))


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{int(time.time() * 1000) % 100000}@example.org"


def sign_up(api: Api, prefix: str = "user", name: str | None = None) -> Person:
    email = unique_email(prefix)
    name = name or prefix.title()
    reply = api.post("/auth/signup", {"email": email, "password": PASSWORD, "name": name})
    assert reply.status == 201, reply
    return Person(email=email, user_id=reply.body["user_id"], name=name)


def sign_in(api: Api, person: Person) -> Person:
    reply = api.post("/auth/login", {"email": person.email, "password": PASSWORD})
    assert reply.status == 200, reply
    if reply.body.get("mfa_required"):
        reply = api.post("/auth/mfa", {"mfa_token": reply.body["mfa_token"], "code": person.code()})
        assert reply.status == 200, reply
    person.token = reply.body["access_token"]
    person.refresh_token = reply.body["refresh_token"]
    return person


def enrol_totp(api: Api, person: Person) -> Person:
    """Enrol TOTP; the code used is the previous step's, so the current one stays fresh."""
    reply = api.post("/me/mfa/totp", token=person.token)
    assert reply.status == 201, reply
    person.totp_secret = reply.body["secret"]
    reply = api.post("/me/mfa/totp/verify", {"code": person.code(-1)}, token=person.token)
    assert reply.status == 200, reply
    return person


def volunteer(api: Api, prefix: str = "volunteer") -> Person:
    return sign_in(api, sign_up(api, prefix))


def admin_with_mfa(api: Api, prefix: str = "admin") -> Person:
    """Signed up, TOTP enrolled: the enrolling session counts as MFA-verified."""
    return enrol_totp(api, sign_in(api, sign_up(api, prefix)))


def create_campaign(api: Api, admin: Person, name: str = "Campaign") -> str:
    reply = api.post("/campaigns", {"name": name}, token=admin.token)
    assert reply.status == 201, reply
    return str(reply.body["campaign_id"])


def join(api: Api, admin: Person, campaign_id: str, person: Person) -> None:
    code = api.post(f"/campaigns/{campaign_id}/join-codes", token=admin.token)
    assert code.status == 201, code
    reply = api.post("/campaigns/join", {"code": code.body["code"]}, token=person.token)
    assert reply.status == 200, reply


def create_action(api: Api, admin: Person, campaign_id: str, **fields: Any) -> dict[str, Any]:
    body = {"type": "canvass", "title": "Knock doors", "status": "live", **fields}
    reply = api.post(f"/campaigns/{campaign_id}/actions", body, token=admin.token)
    assert reply.status == 201, reply
    result: dict[str, Any] = reply.body
    return result


def list_row(list_id: str, number: int = 1) -> str:
    """The id of a list's `number`-th row, as the app (in this process) makes it."""
    from chalicelib.logic.lists import list_row_id, row_id_of

    return list_row_id(list_id, row_id_of(number))


def metric_documents(out: str) -> list[dict[str, Any]]:
    """The embedded-metric documents (CloudWatch EMF) among the lines written to stdout."""
    docs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def metrics_counted(out: str) -> Counter[str]:
    """What those documents count, by metric name."""
    totals: Counter[str] = Counter()
    for doc in metric_documents(out):
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "VolunteerOrganizer"
        assert directive["Dimensions"] == [["service"]]
        assert doc["service"] == "volunteer-organizer"
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count"
            value = doc[metric["Name"]]
            totals[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
    return totals


def campaign_with_volunteer(api: Api) -> tuple[Person, str, Person]:
    """An admin with MFA, their campaign and a volunteer who has joined it."""
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    return admin, cid, vol


def file_report(api: Api, token: str, cid: str, aid: str, **fields: Any) -> Reply:
    """A report on an action, filed with `token`."""
    return api.post(f"/campaigns/{cid}/actions/{aid}/reports", fields, token=token)
