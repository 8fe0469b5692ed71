"""Targets: "these friends of yours are ones the campaign wants reached". A volunteer sees
which of their own contacts the campaign's ready lists hold; no admin learns who."""

from __future__ import annotations

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer

CONTACTS = {
    "contacts": [
        {"name": "Ann Listed", "phones": ["202-555-0101"]},
        {"name": "Bo Listed", "emails": ["bo@example.org"]},
        {"name": "Cy Stranger", "phones": ["202-555-0199"]},
    ]
}
ROWS = [
    {"external_id": "V1", "first_name": "Ann", "phone": "+12025550101"},
    {"external_id": "V2", "first_name": "Bo", "email": "BO@example.org"},
    {"external_id": "V3", "first_name": "Dee", "phone": "+12025550103"},
]


def _targets(api, cid, vol):
    reply = api.get(f"/campaigns/{cid}/me/targets", token=vol.token)
    assert reply.status == 200, reply
    return sorted(reply.body["items"], key=lambda t: t["name"])


def test_a_volunteers_contacts_on_a_ready_list_are_their_targets(api, stream, imports):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    assert api.put("/me/contacts", CONTACTS, token=vol.token).status == 200
    stream.deliver("crm_sync_consumer")
    imports.drain()
    assert _targets(api, cid, vol) == []  # no list yet

    listed = api.post(f"/campaigns/{cid}/lists", {"name": "W", "rows": ROWS}, token=admin.token)
    list_id = listed.body["list_id"]  # imported, and every member's targets computed
    targets = _targets(api, cid, vol)
    assert [t["name"] for t in targets] == ["Ann Listed", "Bo Listed"]
    assert set(targets[0]) == {"contact_id", "name", "phones", "emails", "reported"}
    values = {str(v) for t in targets for v in t.values()}
    assert not values & {"V1", "V2", "V3", "Ann", "Bo", "Dee"}  # nothing of the list

    # reporting on one marks it
    aid = create_action(api, admin, cid)["action_id"]
    api.post(
        f"/campaigns/{cid}/actions/{aid}/reports",
        {"contact_id": targets[0]["contact_id"], "result": "canvassed"},
        token=vol.token,
    )
    assert [t["reported"] for t in _targets(api, cid, vol)] == [True, False]

    # a contact synced later that the list holds becomes a target in the background
    later = {"contacts": [{"name": "Dee Later", "phones": ["2025550103"]}]}
    api.put("/me/contacts", later, token=vol.token)
    stream.deliver("crm_sync_consumer")
    imports.drain()
    assert [t["name"] for t in _targets(api, cid, vol)] == ["Ann Listed", "Bo Listed", "Dee Later"]

    # the list deleted: no target at once
    assert api.delete(f"/campaigns/{cid}/lists/{list_id}", token=admin.token).status == 204
    assert _targets(api, cid, vol) == []


def test_erased_contacts_stop_being_targets_and_admins_learn_nothing(api, stream, imports):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    api.put("/me/contacts", CONTACTS, token=vol.token)
    api.post(f"/campaigns/{cid}/lists", {"name": "W", "rows": ROWS}, token=admin.token)
    assert len(_targets(api, cid, vol)) == 2
    # every admin route about members and reports says nothing of who
    members = api.get(f"/campaigns/{cid}/members", token=admin.token).body["items"]
    shown = {str(v) for m in members for v in m.values()}
    assert not shown & {"Ann Listed", "Bo Listed", "+12025550101", "bo@example.org"}
    assert api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"] == []
    stats = api.get(f"/campaigns/{cid}/me/targets", token=admin.token).body["items"]
    assert stats == []  # the admin's own targets: none of the volunteer's

    assert api.delete("/me/contacts", token=vol.token).status == 204
    stream.deliver("crm_sync_consumer")
    imports.drain()
    assert _targets(api, cid, vol) == []


def test_joining_computes_the_newcomers_targets(api, stream, imports):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    api.post(f"/campaigns/{cid}/lists", {"name": "W", "rows": ROWS}, token=admin.token)
    vol = volunteer(api)
    api.put("/me/contacts", CONTACTS, token=vol.token)
    join(api, admin, cid, vol)
    stream.deliver("crm_sync_consumer")
    imports.drain()
    assert [t["name"] for t in _targets(api, cid, vol)] == ["Ann Listed", "Bo Listed"]
    # another campaign the volunteer is not in: its lists are not theirs to see
    other_admin = admin_with_mfa(api, "other")
    other = create_campaign(api, other_admin, "Other")
    assert api.get(f"/campaigns/{other}/me/targets", token=vol.token).status == 404
