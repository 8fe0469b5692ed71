"""What each route costs in AWS calls, at 10, 100 and 1,000 items.

For each size, a campaign with that many of everything (actions, members, reports with
their sync records, list rows, join codes, audit records; the volunteer's synced
contacts and targets; assignments), then every route of the app called once through the
app (the token and session check included), counting per route the
DynamoDB, KMS and Cognito calls and DynamoDB's read and write units (asked of DynamoDB
with ReturnConsumedCapacity).

    .venv/bin/python bench/route_costs.py                   # DynamoDB Local: units too
    ENGINE=moto .venv/bin/python bench/route_costs.py --write-budget   # bench/route_budget.json

`bench/route_budget.json` holds each route's calls at each size, as the emulator counts
them (the engine `make test` runs on); `tests/test_route_costs.py` fails when a route
makes more. A route whose calls grow with the size is named in the budget's `grows`
list with the reason; everything else must cost the same at every size.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = [int(n) for n in os.environ.get("SIZES", "10,100,1000").split(",") if n.strip()]
BUDGET = ROOT / "bench" / "route_budget.json"
COUNTED = ("dynamodb", "kms", "cognito-idp")


@dataclass
class Cost:
    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **{service: self.calls.get(service, 0) for service in COUNTED},
            "rcu": round(self.read_units, 1),
            "wcu": round(self.write_units, 1),
        }


_current: dict[str, Cost | None] = {"cost": None}


@contextlib.contextmanager
def metering(units: bool) -> Iterator[None]:
    """Count every AWS call (and, with `units`, DynamoDB's consumed capacity) made while the
    block runs, into the Cost `measure` holds at the time."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        cost = _current["cost"]
        service = client.meta.service_model.service_name
        if cost is not None and service in COUNTED:
            cost.calls[service] += 1
        if units and service == "dynamodb" and operation != "DescribeTable":
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        answer = original(client, operation, params)
        if units and cost is not None and service == "dynamodb":
            consumed = answer.get("ConsumedCapacity") or []
            for entry in consumed if isinstance(consumed, list) else [consumed]:
                cost.read_units += float(entry.get("ReadCapacityUnits") or 0)
                cost.write_units += float(entry.get("WriteCapacityUnits") or 0)
                if not entry.get("ReadCapacityUnits") and not entry.get("WriteCapacityUnits"):
                    units_of = entry.get("CapacityUnits") or 0
                    if operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
                        cost.read_units += float(units_of)
                    else:
                        cost.write_units += float(units_of)
        return answer

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextlib.contextmanager
def measure() -> Iterator[Cost]:
    cost = Cost()
    _current["cost"] = cost
    try:
        yield cost
    finally:
        _current["cost"] = None


# ---- the world ------------------------------------------------------------------------------


@dataclass
class World:
    api: Any
    admin: Any
    vol: Any
    cid: str
    aid: str
    list_id: str
    other_uid: str
    code: str
    contact_id: str
    report_row: str
    n: int
    van_credentials: dict[str, Any]


def build(api: Any, van: Any, n: int, drain: Callable[[], Any]) -> World:
    """A campaign with `n` of everything, through the API where a person would make it and
    through the data layer for bulk (members, reports, rows)."""
    from chalicelib.audit.store import AuditRecord, write
    from chalicelib.dal import campaigns, integrations, reports, users
    from chalicelib.dal.common import iso, new_id, now
    from chalicelib.domain.campaigns import Role
    from chalicelib.domain.reports import Report
    from tests.helpers import admin_with_mfa, create_campaign, join, volunteer

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin, "Costs")
    vol = volunteer(api)
    join(api, admin, cid, vol)
    contacts = {
        "contacts": [
            {"name": f"Friend {k}", "phones": [f"+1202{200 + k // 10000:03d}{k % 10000:04d}"]}
            for k in range(n)
        ]
    }
    assert api.put("/me/contacts", contacts, token=vol.token).status == 200
    van.add_person(100001)
    assert api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token)
    rows = [
        {
            "external_id": str(100000 + k),
            "first_name": f"F{k}",
            "phone": f"+1202{200 + k // 10000:03d}{k % 10000:04d}",
        }
        for k in range(1, n + 1)
    ]
    listed = api.post(f"/campaigns/{cid}/lists", {"name": "W", "rows": rows}, token=admin.token)
    list_id = listed.body["list_id"]
    drain()
    aid = ""
    for k in range(n):
        made = api.post(
            f"/campaigns/{cid}/actions",
            {"type": "call", "title": f"A{k}", "status": "live"},
            token=admin.token,
        )
        aid = aid or made.body["action_id"]
    other_uid = ""
    for k in range(n):
        user = users.create_user(f"member-{cid}-{k}", f"m{k}-{cid}@example.org", f"M{k}", None)
        campaigns.add_member(cid, user, Role.VOLUNTEER)
        other_uid = other_uid or user.user_id
    stamp = iso(now())
    for k in range(n):
        report_id = new_id()
        reports.create_report(
            Report(
                campaign_id=cid,
                report_id=report_id,
                action_id=aid,
                user_id=vol.user_id,
                contact_id=None,
                list_row_id=None,
                contact_name=f"P{k}",
                external_id=str(100000 + k),
                external_provider=None,
                source_row_id=None,
                result="not_home",
                responses=[],
                notes=None,
                created_at=stamp,
            )
        )
        integrations.create_record(cid, report_id, "van", "bench")
    expires = iso(now() + timedelta(days=7))
    code = ""
    for k in range(n):
        made_code = f"C{k:05d}{cid[-6:]}"
        campaigns.create_join_code(made_code, cid, expires, admin.user_id)
        code = code or made_code
    write(
        AuditRecord(new_id(), stamp, admin.user_id, "action.updated", "action:x", cid)
        for _ in range(n)
    )
    assigned = api.post(
        f"/campaigns/{cid}/actions/{aid}/assignments",
        {"user_id": vol.user_id, "list_id": list_id, "count": min(n, 1000)},
        token=admin.token,
    )
    assert assigned.status == 201, assigned
    drain()
    contact_id = api.get("/me/contacts?limit=1", token=vol.token).body["items"][0]["contact_id"]
    report_row = api.get(f"/campaigns/{cid}/me/assignments?limit=1", token=vol.token).body["items"][
        0
    ]["list_row_id"]
    return World(
        api,
        admin,
        vol,
        cid,
        aid,
        list_id,
        other_uid,
        code,
        contact_id,
        report_row,
        n,
        van.credentials,
    )


# ---- the routes ------------------------------------------------------------------------------

Call = Callable[[World], tuple[str, str, Any, str]]  # -> (method, path, body, who)


def _routes() -> list[tuple[str, str, Call]]:
    """Every route, as (method, template, how to call it). Reads first; what changes or
    removes things last, each on something of its own."""
    c = "/campaigns/{cid}"
    return [
        ("GET", "/health", lambda w: ("GET", "/health", None, "anon")),
        ("GET", "/openapi.json", lambda w: ("GET", "/openapi.json", None, "anon")),
        ("GET", "/me", lambda w: ("GET", "/me", None, "vol")),
        ("GET", "/me/contacts", lambda w: ("GET", "/me/contacts", None, "vol")),
        ("GET", "/me/reports", lambda w: ("GET", "/me/reports", None, "vol")),
        ("GET", "/me/sessions", lambda w: ("GET", "/me/sessions", None, "vol")),
        ("GET", c, lambda w: ("GET", f"/campaigns/{w.cid}", None, "vol")),
        ("GET", c + "/actions", lambda w: ("GET", f"/campaigns/{w.cid}/actions", None, "vol")),
        (
            "GET",
            c + "/actions/{aid}",
            lambda w: ("GET", f"/campaigns/{w.cid}/actions/{w.aid}", None, "vol"),
        ),
        ("GET", c + "/audit", lambda w: ("GET", f"/campaigns/{w.cid}/audit", None, "admin")),
        ("GET", c + "/deletion", lambda w: ("GET", f"/campaigns/{w.cid}/deletion", None, "admin")),
        (
            "GET",
            c + "/integrations",
            lambda w: ("GET", f"/campaigns/{w.cid}/integrations", None, "admin"),
        ),
        (
            "GET",
            c + "/integrations/{provider}/catalog",
            lambda w: ("GET", f"/campaigns/{w.cid}/integrations/van/catalog", None, "admin"),
        ),
        (
            "GET",
            c + "/join-codes",
            lambda w: ("GET", f"/campaigns/{w.cid}/join-codes", None, "admin"),
        ),
        ("GET", c + "/lists", lambda w: ("GET", f"/campaigns/{w.cid}/lists", None, "admin")),
        (
            "GET",
            c + "/lists/{lid}",
            lambda w: ("GET", f"/campaigns/{w.cid}/lists/{w.list_id}", None, "admin"),
        ),
        (
            "GET",
            c + "/me/assignments",
            lambda w: ("GET", f"/campaigns/{w.cid}/me/assignments", None, "vol"),
        ),
        (
            "GET",
            c + "/me/targets",
            lambda w: ("GET", f"/campaigns/{w.cid}/me/targets", None, "vol"),
        ),
        ("GET", c + "/members", lambda w: ("GET", f"/campaigns/{w.cid}/members", None, "admin")),
        ("GET", c + "/reports", lambda w: ("GET", f"/campaigns/{w.cid}/reports", None, "admin")),
        ("GET", c + "/stats", lambda w: ("GET", f"/campaigns/{w.cid}/stats", None, "admin")),
        ("GET", c + "/exports", lambda w: ("GET", f"/campaigns/{w.cid}/exports", None, "admin")),
        (
            "POST",
            c + "/exports",
            lambda w: ("POST", f"/campaigns/{w.cid}/exports", {"kind": "members"}, "admin"),
        ),
        (
            "GET",
            c + "/exports/{eid}",
            lambda w: ("GET", f"/campaigns/{w.cid}/exports/NOSUCHEXPORT", None, "admin"),
        ),
        (
            "GET",
            c + "/staff-access",
            lambda w: ("GET", f"/campaigns/{w.cid}/staff-access", None, "admin"),
        ),
        ("GET", c + "/sync", lambda w: ("GET", f"/campaigns/{w.cid}/sync", None, "admin")),
        (
            "POST",
            c + "/actions/{aid}/reports",
            lambda w: (
                "POST",
                f"/campaigns/{w.cid}/actions/{w.aid}/reports",
                {"contact_id": w.contact_id, "result": "canvassed"},
                "vol",
            ),
        ),
        (
            "PUT",
            "/me/contacts",
            lambda w: (
                "PUT",
                "/me/contacts",
                {"contacts": [{"name": "One more", "phones": ["+12025550999"]}]},
                "vol",
            ),
        ),
        ("POST", "/campaigns", lambda w: ("POST", "/campaigns", {"name": "Another"}, "admin")),
        (
            "PATCH",
            c,
            lambda w: ("PATCH", f"/campaigns/{w.cid}", {"name": "Costs renamed"}, "admin"),
        ),
        (
            "POST",
            c + "/actions",
            lambda w: (
                "POST",
                f"/campaigns/{w.cid}/actions",
                {"type": "text", "title": "New"},
                "admin",
            ),
        ),
        (
            "PATCH",
            c + "/actions/{aid}",
            lambda w: (
                "PATCH",
                f"/campaigns/{w.cid}/actions/{w.aid}",
                {"title": "Renamed"},
                "admin",
            ),
        ),
        (
            "POST",
            c + "/join-codes",
            lambda w: ("POST", f"/campaigns/{w.cid}/join-codes", {}, "admin"),
        ),
        (
            "POST",
            c + "/lists",
            lambda w: (
                "POST",
                f"/campaigns/{w.cid}/lists",
                {"name": "Small", "rows": [{"external_id": "1"}]},
                "admin",
            ),
        ),
        (
            "POST",
            c + "/lists/uploads",
            lambda w: ("POST", f"/campaigns/{w.cid}/lists/uploads", {"name": "Big"}, "admin"),
        ),
        (
            "PUT",
            c + "/integrations/{provider}",
            lambda w: (
                "PUT",
                f"/campaigns/{w.cid}/integrations/van",
                w.van_credentials,
                "admin",
            ),
        ),
        (
            "PUT",
            c + "/integrations/{provider}/instructions",
            lambda w: (
                "PUT",
                f"/campaigns/{w.cid}/integrations/van/instructions",
                {"actions": {w.aid: {"results": {"not_home": 4}, "contact_type_id": 2}}},
                "admin",
            ),
        ),
        (
            "POST",
            c + "/integrations/{provider}/retry",
            lambda w: ("POST", f"/campaigns/{w.cid}/integrations/van/retry", None, "admin"),
        ),
        (
            "PATCH",
            c + "/members/{uid}",
            lambda w: (
                "PATCH",
                f"/campaigns/{w.cid}/members/{w.other_uid}",
                {"role": "admin"},
                "admin",
            ),
        ),
        (
            "POST",
            c + "/actions/{aid}/assignments",
            lambda w: (
                "POST",
                f"/campaigns/{w.cid}/actions/{w.aid}/assignments",
                {"user_id": w.other_uid, "list_id": w.list_id, "count": 10},
                "admin",
            ),
        ),
        (
            "DELETE",
            c + "/actions/{aid}/assignments/{uid}",
            lambda w: (
                "DELETE",
                f"/campaigns/{w.cid}/actions/{w.aid}/assignments/{w.other_uid}",
                None,
                "admin",
            ),
        ),
        (
            "DELETE",
            c + "/join-codes/{code}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/join-codes/{w.code}", None, "admin"),
        ),
        (
            "DELETE",
            c + "/staff-access/{grant_id}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/staff-access/nosuchgrant", None, "admin"),
        ),
        (
            "POST",
            c + "/deletion",
            lambda w: ("POST", f"/campaigns/{w.cid}/deletion", {"confirm_name": "x"}, "admin"),
        ),
        (
            "DELETE",
            c + "/deletion",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/deletion", None, "admin"),
        ),
        (
            "DELETE",
            c + "/actions/{aid}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/actions/{w.aid}", None, "admin"),
        ),
        (
            "POST",
            c + "/actions/{aid}/restore",
            lambda w: ("POST", f"/campaigns/{w.cid}/actions/{w.aid}/restore", None, "admin"),
        ),
        (
            "DELETE",
            c + "/members/{uid}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/members/{w.other_uid}", None, "admin"),
        ),
        (
            "POST",
            c + "/members/{uid}/readmit",
            lambda w: (
                "POST",
                f"/campaigns/{w.cid}/members/{w.other_uid}/readmit",
                None,
                "admin",
            ),
        ),
        (
            "DELETE",
            c + "/lists/{lid}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/lists/{w.list_id}", None, "admin"),
        ),
        (
            "DELETE",
            c + "/integrations/{provider}",
            lambda w: ("DELETE", f"/campaigns/{w.cid}/integrations/van", None, "admin"),
        ),
        (
            "DELETE",
            "/me/contacts/{contact_id}",
            lambda w: ("DELETE", f"/me/contacts/{w.contact_id}", None, "vol"),
        ),
        ("DELETE", "/me/contacts", lambda w: ("DELETE", "/me/contacts", None, "vol")),
    ]


# The routes left out, with why: sign-in and account flows cost the same whatever the size
# of a campaign (they touch one user), and they are measured by the auth benchmarks.
NOT_MEASURED = {
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/mfa"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/confirm"),
    ("POST", "/auth/confirm/resend"),
    ("POST", "/auth/password/forgot"),
    ("POST", "/auth/password/reset"),
    ("POST", "/me/mfa/totp"),
    ("POST", "/me/mfa/totp/verify"),
    ("POST", "/me/mfa/recovery-codes"),
    ("POST", "/me/password"),
    ("DELETE", "/me"),
    ("DELETE", "/me/sessions"),
    ("DELETE", "/me/sessions/{session_id}"),
    ("POST", "/campaigns/join"),
}
ROUTES = _routes()


def run_routes(world: World) -> dict[str, dict[str, Any]]:
    """Each route once, metered; {"METHOD /template": cost}."""
    tokens = {"vol": world.vol.token, "admin": world.admin.token, "anon": None}
    out = {}
    for method, template, call in ROUTES:
        verb, path, body, who = call(world)
        with measure() as cost:
            reply = world.api.call(verb, path, body, token=tokens[who])
        if reply.status >= 500 or reply.status in (401, 403):
            raise AssertionError(f"{method} {template}: {reply.status} {reply.body}")
        out[f"{method} {template}"] = cost.as_dict()
    return out


def main() -> None:
    import logging

    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    engine = os.environ.get("ENGINE", "ddblocal")
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for n in SIZES:
        results[n] = _measure_size(n, engine)
        print(f"size {n}: {len(results[n])} routes measured", file=sys.stderr, flush=True)
    names = list(results[SIZES[0]])
    print(f"{'route':58} " + " ".join(f"{'n=' + str(n):>22}" for n in SIZES))
    for name in names:
        cells = []
        for n in SIZES:
            c = results[n][name]
            cells.append(
                f"{c['dynamodb']:>3}d {c['kms']:>1}k {c['cognito-idp']:>1}c "
                f"{c['rcu']:>6.1f}r {c['wcu']:>5.1f}w"
            )
        print(f"{name:58} " + " ".join(f"{cell:>22}" for cell in cells))
    if "--write-budget" in sys.argv:
        budget = json.loads(BUDGET.read_text()) if BUDGET.exists() else {}
        budget["calls"] = {
            name: {str(n): {s: results[n][name][s] for s in COUNTED} for n in SIZES}
            for name in names
        }
        BUDGET.write_text(json.dumps(budget, indent=2, sort_keys=True) + "\n")
        print(f"written: {BUDGET.relative_to(ROOT)}", file=sys.stderr)


def _measure_size(n: int, engine: str) -> dict[str, dict[str, Any]]:
    from chalice.test import Client

    from bench.harness import on_dynamodb_local
    from devstack.stack import Emulator, apply, base_environment, provision
    from tests.fakes.van import FakeVan
    from tests.helpers import Api, chalice_transport
    from tests.queues import ImportQueue

    with contextlib.ExitStack() as stack:
        if engine == "ddblocal":
            env = stack.enter_context(on_dynamodb_local())
        else:
            emulator = Emulator.start()
            stack.callback(emulator.stop)
            emulator.reset()
            env = base_environment(emulator.endpoint, stage="bench")
            env.update(provision(env))
            apply(env)
        van = stack.enter_context(FakeVan())
        env["VAN_API_URL"] = van.url
        apply(env)
        from app import app

        client = stack.enter_context(Client(app))
        api = Api(chalice_transport(client))
        queue = ImportQueue(env, client)
        world = build(api, van, n, queue.drain)
        with metering(units=engine == "ddblocal"):
            return run_routes(world)
    raise AssertionError("unreachable")


if __name__ == "__main__":
    main()
