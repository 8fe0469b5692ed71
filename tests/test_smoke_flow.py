from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer


def test_admin_publishes_and_volunteer_sees_live_action(api):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    action = create_action(api, admin, cid)
    vol = volunteer(api)
    join(api, admin, cid, vol)
    reply = api.get(f"/campaigns/{cid}/actions", token=vol.token)
    assert reply.status == 200, reply
    assert [a["action_id"] for a in reply.body["items"]] == [action["action_id"]]
