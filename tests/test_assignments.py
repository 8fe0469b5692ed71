"""Assignments: admins hand volunteers rows of a list for an action; each row goes to one
volunteer at a time; a volunteer sees and reports on only their own rows."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer


def _world(api, rows=10):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vols = [volunteer(api, f"caller{n}") for n in range(3)]
    for vol in vols:
        join(api, admin, cid, vol)
    body = {
        "name": "Phone bank",
        "rows": [
            {"external_id": f"V{n}", "first_name": f"F{n}", "phone": f"+1202555{n:04d}"}
            for n in range(1, rows + 1)
        ],
    }
    list_id = api.post(f"/campaigns/{cid}/lists", body, token=admin.token).body["list_id"]
    aid = create_action(api, admin, cid, type="call")["action_id"]
    return admin, cid, vols, list_id, aid


def _assign(api, admin, cid, aid, vol, list_id, count):
    return api.post(
        f"/campaigns/{cid}/actions/{aid}/assignments",
        {"user_id": vol.user_id, "list_id": list_id, "count": count},
        token=admin.token,
    )


def _mine(api, cid, vol):
    return api.get(f"/campaigns/{cid}/me/assignments", token=vol.token).body["items"]


def test_rows_go_to_one_volunteer_each_until_the_list_runs_out(api):
    admin, cid, (a, b, _c), list_id, aid = _world(api)
    first = _assign(api, admin, cid, aid, a, list_id, 4)
    assert (first.status, first.body) == (201, {"assigned": 4})
    assert _assign(api, admin, cid, aid, b, list_id, 5).body == {"assigned": 5}
    assert _assign(api, admin, cid, aid, a, list_id, 5).body == {"assigned": 1}  # runs out
    assert _assign(api, admin, cid, aid, b, list_id, 5).body == {"assigned": 0}
    mine_a, mine_b = _mine(api, cid, a), _mine(api, cid, b)
    assert len(mine_a) == 5 and len(mine_b) == 5
    names = [r["first_name"] for r in mine_a + mine_b]
    assert sorted(names) == sorted(f"F{n}" for n in range(1, 11))  # each row once
    assert set(mine_a[0]) == {
        "list_row_id",
        "action_id",
        "first_name",
        "last_name",
        "phone",
        "email",
        "reported",
    }
    # nothing of the CRM: no external id among the values (ids are random: compare values)
    external_ids = {f"V{n}" for n in range(1, 11)}
    assert not {str(v) for row in mine_a + mine_b for v in row.values()} & external_ids
    # another action takes the same list from its start
    other = create_action(api, admin, cid, type="text", title="Texts")["action_id"]
    assert _assign(api, admin, cid, other, b, list_id, 10).body == {"assigned": 10}


def test_a_volunteer_reports_only_on_their_own_rows(api):
    admin, cid, (a, b, _c), list_id, aid = _world(api)
    _assign(api, admin, cid, aid, a, list_id, 2)
    row = _mine(api, cid, a)[0]
    path = f"/campaigns/{cid}/actions/{aid}/reports"
    # not theirs: the same 404 as a row that does not exist
    theirs = api.post(
        path, {"list_row_id": row["list_row_id"], "result": "not_home"}, token=b.token
    )
    assert (theirs.status, theirs.body["Message"]) == (404, "no such list row")
    mine = api.post(path, {"list_row_id": row["list_row_id"], "result": "canvassed"}, token=a.token)
    assert mine.status == 201, mine
    reported = {r["list_row_id"]: r["reported"] for r in _mine(api, cid, a)}
    assert reported[row["list_row_id"]] is True
    reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert reports[0]["contact"]["external_id"] == "V1"
    # another action's assignment does not open this row for it
    other = create_action(api, admin, cid, type="text", title="Texts")["action_id"]
    wrong = api.post(
        f"/campaigns/{cid}/actions/{other}/reports",
        {"list_row_id": row["list_row_id"], "result": "canvassed"},
        token=a.token,
    )
    assert wrong.status == 404


def test_taking_a_volunteers_rows_back_returns_the_unreported_ones_to_the_pool(api):
    admin, cid, (a, b, _c), list_id, aid = _world(api, rows=4)
    _assign(api, admin, cid, aid, a, list_id, 4)
    row = _mine(api, cid, a)[0]
    api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"list_row_id": row["list_row_id"], "result": "refused"},
        token=a.token,
    )
    taken = api.delete(f"/campaigns/{cid}/actions/{aid}/assignments/{a.user_id}", token=admin.token)
    assert taken.status == 204
    assert [r["list_row_id"] for r in _mine(api, cid, a)] == [row["list_row_id"]]  # reported
    assert _assign(api, admin, cid, aid, b, list_id, 10).body == {"assigned": 3}
    assert row["list_row_id"] not in [r["list_row_id"] for r in _mine(api, cid, b)]


def test_two_admins_assigning_at_once_never_hand_out_a_row_twice(api):
    admin, cid, vols, list_id, aid = _world(api, rows=30)
    results: list[int] = []

    def hand(vol):
        results.append(_assign(api, admin, cid, aid, vol, list_id, 12).body["assigned"])

    threads = [threading.Thread(target=hand, args=(vol,)) for vol in vols]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 30
    rows = [r["list_row_id"] for vol in vols for r in _mine(api, cid, vol)]
    assert len(rows) == len(set(rows)) == 30


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"count": 0}, "count", id="count-zero"),
        pytest.param({"count": 1001}, "count", id="count-too-large"),
        pytest.param({"user_id": "nobody"}, "user_id", id="unknown-user"),
        pytest.param({"list_id": "nolist"}, "list_id", id="unknown-list"),
        pytest.param({"user_id": None}, "user_id", id="no-user"),
    ],
)
def test_bad_assignments_are_400_naming_the_field(api, change, field):
    admin, cid, (a, _b, _c), list_id, aid = _world(api)
    path = f"/campaigns/{cid}/actions/{aid}/assignments"
    body = {"user_id": a.user_id, "list_id": list_id, "count": 1, **change}
    body = {k: v for k, v in body.items() if v is not None}  # None: the field is left out
    reply = api.post(path, body, token=admin.token)
    assert (reply.status, reply.body.get("Field")) == (400, field), (body, reply)


def test_bad_assignments_are_refused(api, raw_api):
    admin, cid, (a, _b, _c), list_id, aid = _world(api)
    path = f"/campaigns/{cid}/actions/{aid}/assignments"
    missing = api.post(
        f"/campaigns/{cid}/actions/nosuch/assignments",
        {"user_id": a.user_id, "list_id": list_id, "count": 1},
        token=admin.token,
    )
    assert missing.status == 404
    # a list still importing cannot be handed out
    pending = raw_api.post(
        f"/campaigns/{cid}/lists", {"name": "L", "rows": [{"external_id": "1"}]}, token=admin.token
    ).body["list_id"]
    busy = api.post(path, {"user_id": a.user_id, "list_id": pending, "count": 1}, token=admin.token)
    assert busy.status == 409
    # volunteers neither assign nor take back
    assert (
        api.post(path, {"user_id": a.user_id, "list_id": list_id, "count": 1}, token=a.token).status
        == 403
    )
