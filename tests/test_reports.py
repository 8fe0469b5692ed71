"""Reports: matching a volunteer's contacts to list rows, what the admin sees of a
volunteer's outreach, and what a report may name."""

from __future__ import annotations

import pytest

from tests.helpers import (
    admin_with_mfa,
    campaign_with_volunteer,
    create_action,
    create_campaign,
    file_report,
    join,
    list_row,
    volunteer,
)

SURVEY = {
    "type": "canvass",
    "title": "Doors",
    "status": "live",
    "questions": [{"text": "Support?", "responses": [{"text": "Yes"}, {"text": "No"}]}],
}


def test_a_list_names_the_crm_its_ids_are_for_and_reports_keep_it(api):
    admin, cid, vol = campaign_with_volunteer(api)
    reply = api.call(
        "POST",
        f"/campaigns/{cid}/lists?name=PDI%20export&provider=pdi",
        raw="external_id,first_name,phone\r\n2001,Ann,2025550141\r\n",
        token=admin.token,
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 201, reply
    assert reply.body["provider"] == "pdi"
    lid = reply.body["list_id"]
    assert api.get(f"/campaigns/{cid}/lists/{lid}", token=admin.token).body["provider"] == "pdi"
    unnamed = api.post(
        f"/campaigns/{cid}/lists", {"name": "L", "rows": [{"external_id": "9"}]}, token=admin.token
    )
    assert unnamed.body["provider"] is None

    api.put(
        "/me/contacts", {"contacts": [{"name": "Ann", "phones": ["202-555-0141"]}]}, token=vol.token
    )
    (ann,) = api.get("/me/contacts", token=vol.token).body["items"]
    aid = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body["action_id"]
    by_contact = file_report(api, vol.token, cid, aid, contact_id=ann["contact_id"], result="other")
    by_row = file_report(api, admin.token, cid, aid, list_row_id=list_row(lid), result="other")
    assert by_contact.status == 201 and by_row.status == 201
    reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert [r["contact"] for r in reports] == [
        {"name": "Ann", "external_id": "2001", "provider": "pdi"}
    ] * 2


def test_contacts_synced_before_the_list_are_matched_when_reported(api):
    admin, cid, vol = campaign_with_volunteer(api)
    api.put(
        "/me/contacts",
        {
            "contacts": [
                {"name": "Ann Lee", "phones": ["202-555-0131"]},
                {"name": "Zed", "phones": ["2025550132"]},
            ]
        },
        token=vol.token,
    )
    rows = [{"external_id": "VAN-401", "first_name": "Ann", "phone": "+12025550131"}]
    api.post(f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token)
    action = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body
    question = action["questions"][0]
    contacts = api.get("/me/contacts", token=vol.token).body["items"]
    ann = next(c for c in contacts if c["name"] == "Ann Lee")
    answers = [
        {
            "question_id": question["question_id"],
            "response_id": question["responses"][0]["response_id"],
        }
    ]
    reply = file_report(
        api,
        vol.token,
        cid,
        action["action_id"],
        contact_id=ann["contact_id"],
        result="canvassed",
        responses=answers,
        notes="Friendly",
    )
    assert reply.status == 201, reply
    reports = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert len(reports) == 1
    seen = reports[0]
    assert seen["contact"] == {"name": "Ann Lee", "external_id": "VAN-401", "provider": None}
    assert seen["result"] == "canvassed"
    assert seen["responses"] == answers
    assert seen["user_id"] == vol.user_id
    assert seen["sync"] == []
    assert "contact_id" not in seen
    mine = api.get("/me/reports", token=vol.token).body["items"]
    assert [r["report_id"] for r in mine] == [seen["report_id"]]


def test_a_list_uploaded_after_and_a_member_who_joins_later_both_match(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    api.put(
        "/me/contacts",
        {"contacts": [{"name": "Eve", "emails": ["EVE@example.org"]}]},
        token=vol.token,
    )
    aid = create_action(api, admin, cid)["action_id"]
    join(api, admin, cid, vol)  # joins after syncing
    contact_id = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    before = file_report(api, vol.token, cid, aid, contact_id=contact_id, result="not_home")
    api.post(
        f"/campaigns/{cid}/lists",
        {"name": "L", "rows": [{"external_id": "555", "email": "eve@example.org"}]},
        token=admin.token,
    )
    after = file_report(api, vol.token, cid, aid, contact_id=contact_id, result="refused")
    seen = {r["report_id"]: r["contact"] for r in _admin_reports(api, admin, cid)}
    assert seen[before.body["report_id"]] == {"name": "Eve", "external_id": None, "provider": None}
    assert seen[after.body["report_id"]] == {"name": "Eve", "external_id": "555", "provider": None}


def _admin_reports(api, admin, cid):
    reply = api.get(f"/campaigns/{cid}/reports", token=admin.token)
    assert reply.status == 200, reply
    return reply.body["items"]


def test_the_filer_learns_nothing_of_the_lists_from_the_answer(api, enforcer):
    """A matched and an unmatched contact get answers of one shape, with no name, CRM id or
    provider: guessing phone numbers and reporting on them tells a volunteer nothing."""
    admin, cid, vol = campaign_with_volunteer(api)
    api.put(
        "/me/contacts",
        {
            "contacts": [
                {"name": "On the list", "phones": ["2025550171"]},
                {"name": "Not on it", "phones": ["2025550172"]},
            ]
        },
        token=vol.token,
    )
    rows = [{"external_id": "VAN-9", "first_name": "Listed", "phone": "2025550171"}]
    api.post(f"/campaigns/{cid}/lists", {"name": "L", "rows": rows}, token=admin.token)
    aid = create_action(api, admin, cid)["action_id"]
    ids = {
        c["name"]: c["contact_id"] for c in api.get("/me/contacts", token=vol.token).body["items"]
    }
    calls = []
    for name in ("On the list", "Not on it"):
        enforcer.calls.clear()
        calls.append(file_report(api, vol.token, cid, aid, contact_id=ids[name], result="other"))
        calls.append([(c.action, c.resource) for c in enforcer.calls])
    matched, matched_calls, unmatched, unmatched_calls = calls
    assert matched.status == unmatched.status == 201
    # the same AWS calls either way: the time the answer takes tells nothing either
    assert matched_calls == unmatched_calls
    shape = {
        "report_id",
        "campaign_id",
        "action_id",
        "contact_id",
        "result",
        "responses",
        "notes",
        "created_at",
    }
    assert set(matched.body) == set(unmatched.body) == shape
    for reply in (matched, unmatched):
        text = str(reply.body)
        assert "VAN-9" not in text and "Listed" not in text and "provider" not in text
    mine = api.get("/me/reports", token=vol.token).body["items"]
    assert len(mine) == 2 and all(set(r) == shape for r in mine)
    assert "VAN-9" not in str(mine) and "Listed" not in str(mine)


def test_reporting_on_a_list_row(api):
    admin, cid, _vol = campaign_with_volunteer(api)
    listed = api.post(
        f"/campaigns/{cid}/lists",
        {"name": "L", "rows": [{"external_id": "777", "first_name": "Gil", "last_name": "Ray"}]},
        token=admin.token,
    ).body
    aid = create_action(api, admin, cid)["action_id"]
    row_id = list_row(listed["list_id"])
    reply = file_report(api, admin.token, cid, aid, list_row_id=row_id, result="moved")
    assert reply.status == 201
    (seen,) = _admin_reports(api, admin, cid)
    assert seen["contact"] == {"name": "Gil Ray", "external_id": "777", "provider": None}
    # a row of another campaign's list is not there
    other_admin = admin_with_mfa(api, "other")
    other = create_campaign(api, other_admin)
    other_aid = create_action(api, other_admin, other)["action_id"]
    assert (
        file_report(
            api, other_admin.token, other, other_aid, list_row_id=row_id, result="moved"
        ).status
        == 404
    )


@pytest.mark.parametrize(
    "name_row",
    [
        pytest.param(lambda lid, real: real, id="real"),
        pytest.param(lambda lid, real: f"{lid}.000002", id="sequential"),
        pytest.param(lambda lid, real: real[:-2] + "AA", id="forged-tag"),
        pytest.param(lambda lid, real: "nope.000001.AAAA", id="unknown-list"),
    ],
)
def test_a_volunteer_can_name_no_list_row(api, name_row):
    """Rows are assigned to volunteers (none is yet): any row, real, guessed or forged, is
    404 to a volunteer, so naming rows reads nothing of a list."""
    admin, cid, vol = campaign_with_volunteer(api)
    lid = api.post(
        f"/campaigns/{cid}/lists",
        {"name": "L", "rows": [{"external_id": str(700 + i)} for i in range(3)]},
        token=admin.token,
    ).body["list_id"]
    aid = create_action(api, admin, cid)["action_id"]
    real = list_row(lid, 2)
    row_id = name_row(lid, real)
    reply = file_report(api, vol.token, cid, aid, list_row_id=row_id, result="moved")
    assert reply.status == 404, (row_id, reply)
    assert "77" not in str(reply.body) and "70" not in str(reply.body)
    assert _admin_reports(api, admin, cid) == []


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda list_id, lid, tag: f"{list_id}.000002.{tag}", id="neighbour-with-the-same-tag"
        ),
        pytest.param(lambda list_id, lid, tag: f"{lid}.000002", id="sequential"),
    ],
)
def test_list_row_ids_are_not_guessable(api, forge):
    """Knowing one row's id gives no other's: the neighbour's place with the same tag, or
    the old sequential form, is refused even to the list's admin."""
    admin, cid, _vol = campaign_with_volunteer(api)
    lid = api.post(
        f"/campaigns/{cid}/lists",
        {"name": "L", "rows": [{"external_id": "1"}, {"external_id": "2"}]},
        token=admin.token,
    ).body["list_id"]
    aid = create_action(api, admin, cid)["action_id"]
    first = list_row(lid, 1)
    list_id, row, tag = first.split(".")
    assert row == "000001" and len(tag) >= 16
    forged = forge(list_id, lid, tag)
    reply = file_report(api, admin.token, cid, aid, list_row_id=forged, result="other")
    assert reply.status in (400, 404), (forged, reply)
    assert (
        file_report(api, admin.token, cid, aid, list_row_id=list_row(lid, 2), result="other").status
        == 201
    )


def _contact_reported_on(api):
    """A campaign, its survey and a volunteer's contact: (volunteer, campaign, action, question
    id, contact id)."""
    admin, cid, vol = campaign_with_volunteer(api)
    action = api.post(f"/campaigns/{cid}/actions", SURVEY, token=admin.token).body
    aid = action["action_id"]
    question = action["questions"][0]
    api.put(
        "/me/contacts", {"contacts": [{"name": "A", "phones": ["2025550141"]}]}, token=vol.token
    )
    contact_id = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    return vol, cid, aid, question["question_id"], contact_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(lambda c, q: {"result": "not_home"}, "contact_id", id="no-contact"),
        pytest.param(
            lambda c, q: {"contact_id": c, "list_row_id": "x.1", "result": "not_home"},
            "contact_id",
            id="contact-and-list-row",
        ),
        pytest.param(lambda c, q: {"contact_id": c}, "result", id="no-result"),
        pytest.param(
            lambda c, q: {"contact_id": c, "result": "won"}, "result", id="unknown-result"
        ),
        pytest.param(
            lambda c, q: {
                "contact_id": c,
                "result": "canvassed",
                "responses": [{"question_id": "nope", "response_id": "nope"}],
            },
            "responses[0].question_id",
            id="unknown-question",
        ),
        pytest.param(
            lambda c, q: {
                "contact_id": c,
                "result": "canvassed",
                "responses": [{"question_id": q, "response_id": "nope"}],
            },
            "responses[0].response_id",
            id="unknown-response",
        ),
        pytest.param(
            lambda c, q: {"contact_id": c, "result": "other", "notes": "x" * 2001},
            "notes",
            id="notes-too-long",
        ),
    ],
)
def test_bad_reports_are_400_naming_the_field(api, body, field):
    vol, cid, aid, question_id, contact_id = _contact_reported_on(api)
    body = body(contact_id, question_id)
    reply = file_report(api, vol.token, cid, aid, **body)
    assert reply.status == 400, (body, reply)
    assert reply.body["Message"].startswith(field), (body, reply)


def test_a_report_on_an_unknown_contact_is_404(api):
    vol, cid, aid, _question_id, _contact_id = _contact_reported_on(api)
    assert (
        file_report(api, vol.token, cid, aid, contact_id="someone-else", result="other").status
        == 404
    )


def test_reports_need_a_live_action(api):
    """To a volunteer an action that is not live is absent, like a missing one; its admin
    is told why."""
    admin, cid, vol = campaign_with_volunteer(api)
    draft = create_action(api, admin, cid, status="draft")["action_id"]
    deleted = create_action(api, admin, cid)["action_id"]
    api.delete(f"/campaigns/{cid}/actions/{deleted}", token=admin.token)
    api.put(
        "/me/contacts", {"contacts": [{"name": "A", "phones": ["2025550151"]}]}, token=vol.token
    )
    contact = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    lid = api.post(
        f"/campaigns/{cid}/lists", {"name": "L", "rows": [{"external_id": "1"}]}, token=admin.token
    ).body["list_id"]
    row = list_row(lid)
    replies = [
        file_report(api, vol.token, cid, aid, contact_id=contact, result="other")
        for aid in (draft, deleted, "no-such-action")
    ]
    assert [r.status for r in replies] == [404, 404, 404]
    assert replies[0].body == replies[2].body  # a draft and a missing action: the same answer
    assert file_report(api, admin.token, cid, draft, list_row_id=row, result="other").status == 409
    assert (
        file_report(api, admin.token, cid, deleted, list_row_id=row, result="other").status == 404
    )


def test_reports_are_rate_limited_per_member_and_campaign(api, monkeypatch):
    from chalicelib.logic import throttle

    monkeypatch.setitem(throttle.LIMITS, "report-member", (3, 3600))
    admin, cid, vol = campaign_with_volunteer(api)
    api.put(
        "/me/contacts", {"contacts": [{"name": "A", "phones": ["2025550152"]}]}, token=vol.token
    )
    contact = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    aid = create_action(api, admin, cid)["action_id"]
    statuses = [
        file_report(api, vol.token, cid, aid, contact_id=contact, result="other").status
        for _ in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]
    refused = file_report(api, vol.token, cid, aid, contact_id=contact, result="other")
    assert int(refused.headers["Retry-After"]) > 0
    assert len(_admin_reports(api, admin, cid)) == 3
    # another member of the campaign, and the same member elsewhere, have their own allowance
    other = volunteer(api, "other")
    join(api, admin, cid, other)
    api.put(
        "/me/contacts", {"contacts": [{"name": "B", "phones": ["2025550153"]}]}, token=other.token
    )
    theirs = api.get("/me/contacts", token=other.token).body["items"][0]["contact_id"]
    assert file_report(api, other.token, cid, aid, contact_id=theirs, result="other").status == 201


def test_counts_are_kept_with_the_writes(api):
    admin, cid, vol = campaign_with_volunteer(api)
    contacts = [{"name": f"N{i}", "phones": [f"+1202558{i:04d}"]} for i in range(7)]
    api.put("/me/contacts", {"contacts": contacts}, token=vol.token)
    aid = create_action(api, admin, cid)["action_id"]
    first = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    for _ in range(3):
        assert file_report(api, vol.token, cid, aid, contact_id=first, result="other").status == 201
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    mine = next(m for m in members if m["user_id"] == vol.user_id)
    assert mine["synced_contacts_count"] == 7
    assert mine["reports_count"] == 3
    one = api.get("/me/contacts", token=vol.token).body["items"][0]["contact_id"]
    api.delete(f"/me/contacts/{one}", token=vol.token)
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    assert next(m for m in members if m["user_id"] == vol.user_id)["synced_contacts_count"] == 6
