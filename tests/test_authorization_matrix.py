"""The authorization matrix: every route of the app x every kind of caller -> status.

The test enumerates the app's routes itself and fails when one is missing here, so
no route can be added without deciding who may call it.

Callers, for a campaign A:
- anon:        no Authorization header
- outsider:    signed in, member of nothing
- volunteer:   a volunteer of A
- admin_nomfa: an admin of A whose session did not pass TOTP
- admin:       an admin of A with an MFA-verified session
- other_admin: an admin (MFA) of another campaign
- staff:       platform staff with current training and MFA, not a member of A
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import (
    Api,
    Person,
    admin_with_mfa,
    create_action,
    create_campaign,
    join,
    list_row,
    volunteer,
)

CALLERS = ("anon", "outsider", "volunteer", "admin_nomfa", "admin", "other_admin", "staff")


@dataclass
class World:
    api: Api
    people: dict[str, Person]
    cid: str
    target: Person  # a volunteer of A that member routes act on
    join_code: str
    list_id: str
    list_row_id: str

    def fresh_action(self) -> str:
        return str(create_action(self.api, self.people["admin"], self.cid)["action_id"])

    def fresh_code(self) -> str:
        reply = self.api.post(f"/campaigns/{self.cid}/join-codes", token=self.people["admin"].token)
        assert reply.status == 201, reply
        return str(reply.body["code"])

    def removed_member(self) -> str:
        """A volunteer who joined, then was removed by the admin: their user id."""
        person = volunteer(self.api, "removed")
        join(self.api, self.people["admin"], self.cid, person)
        path = f"/campaigns/{self.cid}/members/{person.user_id}"
        assert self.api.delete(path, token=self.people["admin"].token).status == 204
        return person.user_id

    def fresh_list(self) -> str:
        reply = self.api.post(
            f"/campaigns/{self.cid}/lists",
            {"name": "L", "rows": [{"external_id": "1"}]},
            token=self.people["admin"].token,
        )
        assert reply.status == 201, reply
        return str(reply.body["list_id"])

    def rejoin_target(self) -> None:
        """After the admin removed the target: readmitted, then joined again."""
        readmit = f"/campaigns/{self.cid}/members/{self.target.user_id}/readmit"
        assert self.api.post(readmit, token=self.people["admin"].token).status == 200
        reply = self.api.post("/campaigns/join", {"code": self.join_code}, token=self.target.token)
        assert reply.status == 200, reply


def _row(**statuses: int) -> dict[str, int]:
    assert set(statuses) == set(CALLERS), sorted(set(CALLERS) ^ set(statuses))
    return statuses


def _public(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def _admin_route(ok: int, *, volunteer: int = 403, staff: int = 403) -> dict[str, int]:
    return _row(
        anon=401,
        outsider=404,
        volunteer=volunteer,
        admin_nomfa=403,
        admin=ok,
        other_admin=404,
        staff=staff,
    )


def _member_route(ok: int, *, staff: int) -> dict[str, int]:
    return _row(
        anon=401,
        outsider=404,
        volunteer=ok,
        admin_nomfa=403,
        admin=ok,
        other_admin=404,
        staff=staff,
    )


def _signed_in(ok: int) -> dict[str, int]:
    return {**dict.fromkeys(CALLERS, ok), "anon": 401}


# (method, path) -> (how to call it: returns (path, body), expected status per caller)
Call = Callable[[World], tuple[str, Any]]
MATRIX: dict[tuple[str, str], tuple[Call, dict[str, int]]] = {
    ("GET", "/health"): (lambda w: ("/health", None), _public(200)),
    ("GET", "/openapi.json"): (lambda w: ("/openapi.json", None), _public(200)),
    ("POST", "/auth/signup"): (lambda w: ("/auth/signup", {}), _public(400)),
    ("POST", "/auth/login"): (lambda w: ("/auth/login", {}), _public(400)),
    ("POST", "/auth/mfa"): (lambda w: ("/auth/mfa", {}), _public(400)),
    ("POST", "/auth/refresh"): (lambda w: ("/auth/refresh", {}), _public(400)),
    ("GET", "/me"): (lambda w: ("/me", None), _signed_in(200)),
    ("POST", "/me/mfa/totp"): (
        lambda w: ("/me/mfa/totp", None),
        {**_signed_in(201), "admin": 409, "other_admin": 409, "staff": 409},
    ),
    # runs after /me/mfa/totp: those who started enrolment send a wrong code (400),
    # those with TOTP already enabled are told so (409)
    ("POST", "/me/mfa/totp/verify"): (
        lambda w: ("/me/mfa/totp/verify", {"code": "000000"}),
        {**_signed_in(400), "admin": 409, "other_admin": 409, "staff": 409},
    ),
    ("POST", "/campaigns"): (
        lambda w: ("/campaigns", {"name": "New"}),
        _row(
            anon=401,
            outsider=403,
            volunteer=403,
            admin_nomfa=403,
            admin=201,
            other_admin=201,
            staff=201,
        ),
    ),
    ("POST", "/campaigns/join"): (
        lambda w: ("/campaigns/join", {"code": "NO-SUCH-CODE"}),
        _signed_in(404),
    ),
    ("GET", "/campaigns/{cid}"): (
        lambda w: (f"/campaigns/{w.cid}", None),
        _member_route(200, staff=200),
    ),
    ("PATCH", "/campaigns/{cid}"): (
        lambda w: (f"/campaigns/{w.cid}", {"name": "Renamed"}),
        _admin_route(200),
    ),
    ("POST", "/campaigns/{cid}/join-codes"): (
        lambda w: (f"/campaigns/{w.cid}/join-codes", None),
        _admin_route(201),
    ),
    ("GET", "/campaigns/{cid}/join-codes"): (
        lambda w: (f"/campaigns/{w.cid}/join-codes", None),
        _admin_route(200),
    ),
    ("DELETE", "/campaigns/{cid}/join-codes/{code}"): (
        lambda w: (f"/campaigns/{w.cid}/join-codes/{w.fresh_code()}", None),
        _admin_route(204),
    ),
    ("POST", "/campaigns/{cid}/members/{uid}/readmit"): (
        lambda w: (f"/campaigns/{w.cid}/members/{w.removed_member()}/readmit", None),
        _admin_route(200),
    ),
    ("GET", "/campaigns/{cid}/members"): (
        lambda w: (f"/campaigns/{w.cid}/members", None),
        _admin_route(200, staff=200),
    ),
    ("PATCH", "/campaigns/{cid}/members/{uid}"): (
        lambda w: (f"/campaigns/{w.cid}/members/{w.target.user_id}", {"role": "volunteer"}),
        _admin_route(200),
    ),
    ("DELETE", "/campaigns/{cid}/members/{uid}"): (
        lambda w: (f"/campaigns/{w.cid}/members/{w.target.user_id}", None),
        _admin_route(204),
    ),
    ("POST", "/campaigns/{cid}/actions"): (
        lambda w: (f"/campaigns/{w.cid}/actions", {"type": "call", "title": "Call"}),
        _admin_route(201),
    ),
    ("GET", "/campaigns/{cid}/actions"): (
        lambda w: (f"/campaigns/{w.cid}/actions", None),
        _member_route(200, staff=200),
    ),
    ("GET", "/campaigns/{cid}/actions/{aid}"): (
        lambda w: (f"/campaigns/{w.cid}/actions/{w.fresh_action()}", None),
        _member_route(200, staff=200),
    ),
    ("PATCH", "/campaigns/{cid}/actions/{aid}"): (
        lambda w: (f"/campaigns/{w.cid}/actions/{w.fresh_action()}", {"title": "New title"}),
        _admin_route(200),
    ),
    ("DELETE", "/campaigns/{cid}/actions/{aid}"): (
        lambda w: (f"/campaigns/{w.cid}/actions/{w.fresh_action()}", None),
        _admin_route(204),
    ),
    ("POST", "/campaigns/{cid}/actions/{aid}/restore"): (
        lambda w: (f"/campaigns/{w.cid}/actions/{w.fresh_action()}/restore", None),
        _admin_route(200),
    ),
    ("PUT", "/me/contacts"): (lambda w: ("/me/contacts", {"contacts": []}), _signed_in(200)),
    ("GET", "/me/contacts"): (lambda w: ("/me/contacts", None), _signed_in(200)),
    ("DELETE", "/me/contacts/{contact_id}"): (
        lambda w: ("/me/contacts/no-such-contact", None),
        _signed_in(404),
    ),
    ("DELETE", "/me/contacts"): (lambda w: ("/me/contacts", None), _signed_in(204)),
    ("GET", "/me/reports"): (lambda w: ("/me/reports", None), _signed_in(200)),
    ("POST", "/campaigns/{cid}/lists"): (
        lambda w: (f"/campaigns/{w.cid}/lists", {"name": "L", "rows": [{"external_id": "9"}]}),
        _admin_route(201),
    ),
    ("POST", "/campaigns/{cid}/lists/uploads"): (
        lambda w: (f"/campaigns/{w.cid}/lists/uploads", {"name": "Statewide"}),
        _admin_route(201),
    ),
    ("POST", "/campaigns/{cid}/actions/{aid}/assignments"): (
        lambda w: (
            f"/campaigns/{w.cid}/actions/{w.fresh_action()}/assignments",
            {"user_id": w.target.user_id, "list_id": w.list_id, "count": 1},
        ),
        _admin_route(201),
    ),
    ("DELETE", "/campaigns/{cid}/actions/{aid}/assignments/{uid}"): (
        lambda w: (
            f"/campaigns/{w.cid}/actions/{w.fresh_action()}/assignments/{w.target.user_id}",
            None,
        ),
        _admin_route(204),
    ),
    ("GET", "/campaigns/{cid}/me/targets"): (
        lambda w: (f"/campaigns/{w.cid}/me/targets", None),
        _member_route(200, staff=403),
    ),
    ("GET", "/campaigns/{cid}/me/assignments"): (
        lambda w: (f"/campaigns/{w.cid}/me/assignments", None),
        _member_route(200, staff=403),
    ),
    ("GET", "/campaigns/{cid}/lists"): (
        lambda w: (f"/campaigns/{w.cid}/lists", None),
        _admin_route(200, staff=200),
    ),
    ("GET", "/campaigns/{cid}/lists/{lid}"): (
        lambda w: (f"/campaigns/{w.cid}/lists/{w.list_id}", None),
        _admin_route(200, staff=200),
    ),
    ("DELETE", "/campaigns/{cid}/lists/{lid}"): (
        lambda w: (f"/campaigns/{w.cid}/lists/{w.fresh_list()}", None),
        _admin_route(204),
    ),
    ("POST", "/campaigns/{cid}/actions/{aid}/reports"): (
        lambda w: (
            f"/campaigns/{w.cid}/actions/{w.fresh_action()}/reports",
            {"list_row_id": w.list_row_id, "result": "not_home"},
        ),
        # a volunteer may name only a row assigned to them (none is): 404, as if absent
        {**_member_route(201, staff=403), "volunteer": 404},
    ),
    ("GET", "/campaigns/{cid}/reports"): (
        lambda w: (f"/campaigns/{w.cid}/reports", None),
        _admin_route(200, staff=200),
    ),
    ("GET", "/campaigns/{cid}/stats"): (
        lambda w: (f"/campaigns/{w.cid}/stats", None),
        _admin_route(200, staff=200),
    ),
    # exports: a copy of the data leaves the platform, so never for staff
    ("POST", "/campaigns/{cid}/exports"): (
        lambda w: (f"/campaigns/{w.cid}/exports", {"kind": "members"}),
        _admin_route(202),
    ),
    ("GET", "/campaigns/{cid}/exports"): (
        lambda w: (f"/campaigns/{w.cid}/exports", None),
        _admin_route(200),
    ),
    ("GET", "/campaigns/{cid}/exports/{eid}"): (
        lambda w: (f"/campaigns/{w.cid}/exports/NOSUCHEXPORT", None),
        _admin_route(404),
    ),
    # CRM integrations: nothing is configured in this world, so an allowed caller gets
    # the answer past the policy (400 for bad credentials, 404 for no integration)
    ("PUT", "/campaigns/{cid}/integrations/{provider}"): (
        lambda w: (f"/campaigns/{w.cid}/integrations/salsa", {}),
        _admin_route(400),
    ),
    ("GET", "/campaigns/{cid}/integrations"): (
        lambda w: (f"/campaigns/{w.cid}/integrations", None),
        _admin_route(200, staff=200),
    ),
    ("DELETE", "/campaigns/{cid}/integrations/{provider}"): (
        lambda w: (f"/campaigns/{w.cid}/integrations/van", None),
        _admin_route(404),
    ),
    ("GET", "/campaigns/{cid}/integrations/{provider}/catalog"): (
        lambda w: (f"/campaigns/{w.cid}/integrations/van/catalog", None),
        _admin_route(404, staff=404),
    ),
    ("PUT", "/campaigns/{cid}/integrations/{provider}/instructions"): (
        lambda w: (f"/campaigns/{w.cid}/integrations/van/instructions", {"actions": {}}),
        _admin_route(404),
    ),
    ("GET", "/campaigns/{cid}/sync"): (
        lambda w: (f"/campaigns/{w.cid}/sync", None),
        _admin_route(200, staff=200),
    ),
    ("POST", "/campaigns/{cid}/integrations/{provider}/retry"): (
        lambda w: (f"/campaigns/{w.cid}/integrations/van/retry", None),
        _admin_route(202),
    ),
    ("GET", "/campaigns/{cid}/audit"): (
        lambda w: (f"/campaigns/{w.cid}/audit", None),
        _admin_route(200, staff=200),
    ),
    # staff under a grant see the campaign, not who else at the platform may
    ("GET", "/campaigns/{cid}/staff-access"): (
        lambda w: (f"/campaigns/{w.cid}/staff-access", None),
        _admin_route(200),
    ),
    ("DELETE", "/campaigns/{cid}/staff-access/{grant_id}"): (
        lambda w: (f"/campaigns/{w.cid}/staff-access/nosuchgrant", None),
        _admin_route(404),
    ),
    ("GET", "/campaigns/{cid}/deletion"): (
        lambda w: (f"/campaigns/{w.cid}/deletion", None),
        _admin_route(200, staff=200),
    ),
    ("POST", "/campaigns/{cid}/deletion"): (
        lambda w: (f"/campaigns/{w.cid}/deletion", {"confirm_name": "not the name"}),
        _admin_route(400),
    ),
    ("DELETE", "/campaigns/{cid}/deletion"): (
        lambda w: (f"/campaigns/{w.cid}/deletion", None),
        _admin_route(404),
    ),
    # last: it ends the caller's session
    ("POST", "/auth/confirm"): (
        lambda w: ("/auth/confirm", {"email": "nobody@example.org", "code": "12345678"}),
        _public(400),
    ),
    ("POST", "/auth/confirm/resend"): (
        lambda w: ("/auth/confirm/resend", {"email": f"nobody-{uuid.uuid4().hex}@example.org"}),
        _public(202),
    ),
    ("POST", "/auth/password/forgot"): (
        lambda w: ("/auth/password/forgot", {"email": f"nobody-{uuid.uuid4().hex}@example.org"}),
        _public(202),
    ),
    ("POST", "/auth/password/reset"): (
        lambda w: (
            "/auth/password/reset",
            {"email": "nobody@example.org", "code": "12345678", "password": "Another-Pass-99"},
        ),
        _public(400),
    ),
    ("POST", "/me/password"): (
        lambda w: ("/me/password", {"current_password": "wrong", "new_password": "New-Pass-12345"}),
        _signed_in(400),
    ),
    ("GET", "/me/sessions"): (lambda w: ("/me/sessions", None), _signed_in(200)),
    ("DELETE", "/me"): (lambda w: ("/me", {"password": "not-the-password"}), _signed_in(400)),
    ("POST", "/me/mfa/recovery-codes"): (
        lambda w: ("/me/mfa/recovery-codes", None),
        # only a session that passed the second factor
        {**_signed_in(403), "admin": 201, "other_admin": 201, "staff": 201},
    ),
    ("DELETE", "/me/sessions/{session_id}"): (
        lambda w: ("/me/sessions/no-such-session", None),
        _signed_in(404),
    ),
    ("DELETE", "/me/sessions"): (lambda w: ("/me/sessions", None), _signed_in(204)),
    ("POST", "/auth/logout"): (lambda w: ("/auth/logout", None), _signed_in(204)),
}


def _world(api: Api) -> World:
    from chalicelib.dal import users
    from chalicelib.logic.staff import issue_grant

    admin = admin_with_mfa(api, "admin")
    cid = create_campaign(api, admin, "A")
    other_admin = admin_with_mfa(api, "other")
    create_campaign(api, other_admin, "B")
    vol = volunteer(api, "vol")
    join(api, admin, cid, vol)
    nomfa = volunteer(api, "nomfa")
    join(api, admin, cid, nomfa)
    assert (
        api.patch(
            f"/campaigns/{cid}/members/{nomfa.user_id}", {"role": "admin"}, token=admin.token
        ).status
        == 200
    )
    outsider = volunteer(api, "outsider")
    staff = admin_with_mfa(api, "staff")
    trained = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    users.set_staff(staff.user_id, trained, actor="operator")
    issue_grant(cid, staff.user_id, reason="matrix", hours=1, operator="OPERATOR")
    target = volunteer(api, "target")
    join(api, admin, cid, target)
    code = api.post(f"/campaigns/{cid}/join-codes", token=admin.token).body["code"]
    voter_list = api.post(
        f"/campaigns/{cid}/lists",
        {"name": "Voters", "rows": [{"external_id": "100", "first_name": "Vera"}]},
        token=admin.token,
    ).body
    people = {
        "anon": Person(email="", user_id=""),
        "outsider": outsider,
        "volunteer": vol,
        "admin_nomfa": nomfa,
        "admin": admin,
        "other_admin": other_admin,
        "staff": staff,
    }
    list_id = voter_list["list_id"]
    return World(api, people, cid, target, code, list_id, list_row(list_id))


def test_every_route_is_in_the_matrix(chalice_app):
    routes = {(method, path) for path, methods in chalice_app.routes.items() for method in methods}
    assert routes - set(MATRIX) == set(), "routes missing from the authorization matrix"
    assert set(MATRIX) - routes == set(), "matrix rows for routes the app does not have"


def test_authorization_matrix(api):
    world = _world(api)
    mismatches = []
    for (method, template), (make_call, expected) in MATRIX.items():
        for caller in CALLERS:
            path, body = make_call(world)
            token = world.people[caller].token or None
            reply = api.call(method, path, body, token=token)
            if reply.status != expected[caller]:
                mismatches.append(f"{method} {template} as {caller}: {reply.status} {reply.body}")
            if reply.status == 204 and template.endswith("/members/{uid}"):
                world.rejoin_target()
    assert mismatches == []


def test_admin_without_mfa_is_told_mfa_is_required(api):
    world = _world(api)
    reply = api.get(f"/campaigns/{world.cid}/members", token=world.people["admin_nomfa"].token)
    assert reply.status == 403
    assert "MFA" in reply.body["Message"]


def test_staff_with_lapsed_training_sees_nothing(api):
    from chalicelib.dal import users

    world = _world(api)
    staff = world.people["staff"]
    lapsed = (datetime.now(UTC) - timedelta(days=366)).isoformat()
    users.set_staff(staff.user_id, lapsed, actor="operator")
    assert api.get(f"/campaigns/{world.cid}", token=staff.token).status == 404
    assert api.get(f"/campaigns/{world.cid}/members", token=staff.token).status == 404
