"""A report filed over HTTP reaches a VAN stand-in through the stream, within seconds."""

from __future__ import annotations

import time

from tests.helpers import Api, admin_with_mfa, create_campaign, http_transport, join, volunteer


def test_a_report_reaches_van_and_is_marked_synced(stack_with_van, van):
    api = Api(http_transport(stack_with_van.base_url))
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    survey = {
        "type": "call",
        "title": "Phone bank",
        "status": "live",
        "questions": [{"text": "Measure A?", "responses": [{"text": "Yes"}, {"text": "No"}]}],
    }
    action = api.post(f"/campaigns/{cid}/actions", survey, token=admin.token).body
    question = action["questions"][0]
    yes = question["responses"][0]["response_id"]

    configured = api.put(f"/campaigns/{cid}/integrations/van", van.credentials, token=admin.token)
    assert configured.status == 200, configured
    catalog = api.get(f"/campaigns/{cid}/integrations/van/catalog", token=admin.token).body
    measure_a = next(q for q in catalog["survey_questions"] if q["name"] == "Measure A")
    van_yes = next(r for r in measure_a["responses"] if r["name"] == "Yes")
    phone = next(t for t in catalog["contact_types"] if t["name"] == "Phone")  # a call
    mapping = {
        "actions": {
            action["action_id"]: {
                "contact_type_id": phone["id"],
                "questions": {
                    question["question_id"]: {
                        "external_question_id": measure_a["id"],
                        "responses": {yes: van_yes["id"]},
                    }
                },
            }
        }
    }
    put = api.put(f"/campaigns/{cid}/integrations/van/instructions", mapping, token=admin.token)
    assert put.status == 200, put

    vol = volunteer(api)
    join(api, admin, cid, vol)
    api.put(
        "/me/contacts",
        {"contacts": [{"name": "Pat Voter", "phones": ["202-555-0177"]}]},
        token=vol.token,
    )
    api.post(
        f"/campaigns/{cid}/lists",
        {"name": "VAN export", "rows": [{"external_id": "1001", "phone": "+12025550177"}]},
        token=admin.token,
    )
    contact = api.get("/me/contacts", token=vol.token).body["items"][0]
    filed = api.post(
        f"/campaigns/{cid}/actions/{action['action_id']}/reports",
        {
            "contact_id": contact["contact_id"],
            "result": "canvassed",
            "responses": [{"question_id": question["question_id"], "response_id": yes}],
        },
        token=vol.token,
    )
    assert filed.status == 201, filed
    assert "contact" not in filed.body  # the filer is not told whether, or to whom, it matched
    (seen,) = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"]
    assert seen["contact"]["external_id"] == "1001"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not van.canvass_responses:
        time.sleep(0.2)
    assert van.canvass_responses, "VAN got nothing within 30 seconds"
    van_id, body = van.canvass_responses[0]
    assert van_id == 1001
    assert body["responses"] == [
        {
            "type": "SurveyResponse",
            "surveyQuestionId": measure_a["id"],
            "surveyResponseId": van_yes["id"],
        }
    ]
    assert body["canvassContext"]["contactTypeId"] == 1  # a call

    while time.monotonic() < deadline:
        states = api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
        if states and states[0]["state"] == "synced":
            break
        time.sleep(0.2)
    assert [(s["provider"], s["state"]) for s in states] == [("van", "synced")]
    report = api.get(f"/campaigns/{cid}/reports", token=admin.token).body["items"][0]
    assert report["sync"] == [{"provider": "van", "state": "synced"}]
