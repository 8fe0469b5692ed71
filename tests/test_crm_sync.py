"""CRM integrations and sync, against fake VAN, PDI and Salsa servers on real sockets."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import boto3
import pytest

from tests.fakes.pdi import PDI_ACQUISITIONS, PDI_FLAGS, PDI_QUESTIONS
from tests.helpers import (
    admin_with_mfa,
    create_campaign,
    join,
    list_row,
    metrics_counted,
    volunteer,
)
from tests.streams import broken_copy

SURVEY = {
    "type": "canvass",
    "title": "Measure A doors",
    "status": "live",
    "questions": [{"text": "Measure A?", "responses": [{"text": "Yes"}, {"text": "No"}]}],
}


pytestmark = pytest.mark.usefixtures("fresh_rate_limiters")


class World:
    def __init__(self, api, fakes, external_ids: list[str]) -> None:
        self.api = api
        self.fakes = fakes
        self.admin = admin_with_mfa(api)
        self.cid = create_campaign(api, self.admin)
        self.vol = volunteer(api)
        join(api, self.admin, self.cid, self.vol)
        self.action = api.post(
            f"/campaigns/{self.cid}/actions", SURVEY, token=self.admin.token
        ).body
        self.aid = self.action["action_id"]
        question = self.action["questions"][0]
        self.qid = question["question_id"]
        self.yes, self.no = (r["response_id"] for r in question["responses"])
        self.rows: dict[str, str] = {}
        self.add_list([*external_ids, "NO-SUCH", "9999"])

    def add_list(self, external_ids: list[str], provider: str | None = None) -> str:
        """A list of these ids (for `provider`'s CRM if given): its id."""
        body: dict[str, Any] = {
            "name": "Voters",
            "rows": [{"external_id": x, "first_name": f"P{x}"} for x in external_ids],
        }
        if provider is not None:
            body["provider"] = provider
        if provider in (None, "van"):
            body["van_db_mode"] = 1  # the fake VAN's key works in MyCampaign
        reply = self.api.post(f"/campaigns/{self.cid}/lists", body, token=self.admin.token)
        assert reply.status == 201, reply
        assert reply.body["provider"] == provider
        list_id = str(reply.body["list_id"])
        self.rows.update({x: list_row(list_id, i + 1) for i, x in enumerate(external_ids)})
        return list_id

    def configure(self, provider: str) -> Any:
        return self.api.put(
            f"/campaigns/{self.cid}/integrations/{provider}",
            self.fakes[provider].credentials,
            token=self.admin.token,
        )

    def instruct(self, provider: str, mapping: dict[str, Any]) -> Any:
        return self.api.put(
            f"/campaigns/{self.cid}/integrations/{provider}/instructions",
            {"actions": {self.aid: mapping}},
            token=self.admin.token,
        )

    def report(self, external_id: str, result: str, answer: str | None = None) -> str:
        body: dict[str, Any] = {"list_row_id": self.rows[external_id], "result": result}
        if answer:
            body["responses"] = [{"question_id": self.qid, "response_id": answer}]
        # filed by the admin: a volunteer may name only rows assigned to them
        reply = self.api.post(
            f"/campaigns/{self.cid}/actions/{self.aid}/reports", body, token=self.admin.token
        )
        assert reply.status == 201, reply
        return str(reply.body["report_id"])

    def sync_states(self, state: str | None = None) -> list[dict[str, Any]]:
        path = f"/campaigns/{self.cid}/sync" + (f"?state={state}" if state else "")
        reply = self.api.get(path, token=self.admin.token)
        assert reply.status == 200, reply
        return list(reply.body["items"])

    def state_of(self, report_id: str, provider: str) -> dict[str, Any]:
        return next(
            s
            for s in self.sync_states()
            if s["report_id"] == report_id and s["provider"] == provider
        )


def van_world(api, fakes) -> World:
    world = World(api, fakes, ["1001", "1002", "1003"])
    assert world.configure("van").status == 200
    mapping = {
        "contact_type_id": 2,
        "results": {"not_home": 4, "refused": 5},
        "questions": {
            world.qid: {
                "external_question_id": 378552,
                "responses": {world.yes: 1555791, world.no: 1555792},
            }
        },
        "activist_codes": [4482459],
    }
    assert world.instruct("van", mapping).status == 200
    return world


# ---- credentials -------------------------------------------------------------------------


def test_credentials_are_tried_first_and_never_shown(api, fakes, stack):
    world = World(api, fakes, [])
    reply = world.configure("van")
    assert reply.status == 200
    assert reply.body["provider"] == "van"
    assert reply.body["configured"] is True
    assert reply.body["key_hint"] == "…2a9e"
    secret = fakes["van"].api_key
    assert secret not in json.dumps(reply.body)
    assert fakes["van"].calls_to("POST", "/echoes")
    listed = api.get(f"/campaigns/{world.cid}/integrations", token=world.admin.token)
    assert [i["provider"] for i in listed.body["items"]] == ["van"]
    assert secret not in json.dumps(listed.body)
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    stored = table.get_item(Key={"pk": f"CAMPAIGN#{world.cid}", "sk": "INTEGRATION#van"})["Item"]
    assert secret not in json.dumps(stored, default=str)


def test_rejected_credentials_are_422_and_nothing_is_stored(api, fakes):
    world = World(api, fakes, [])
    fakes["pdi"].reject_credentials("Invalid API token")
    reply = world.configure("pdi")
    assert reply.status == 422
    assert "Invalid API token" in reply.body["Message"]
    assert fakes["pdi"].password not in reply.body["Message"]
    listed = api.get(f"/campaigns/{world.cid}/integrations", token=world.admin.token)
    assert listed.body["items"] == []


@pytest.mark.parametrize("provider", ["van", "pdi", "salsa"])
def test_a_provider_echoing_the_credentials_shows_them_to_no_one(api, fakes, provider, log_lines):
    """A provider that puts what it was sent (the Authorization header, base64 and all)
    into its refusal: the admin's 422, the stored error and the logs never carry it."""
    import base64
    from urllib.parse import quote

    world = World(api, fakes, [])
    fake = fakes[provider]
    creds = fake.credentials
    secret_fields = {"van": ["api_key"], "pdi": ["password", "api_token"], "salsa": ["api_token"]}
    secrets = [str(creds[name]) for name in secret_fields[provider]]
    echoes = []
    if provider == "van":
        pair = f"{creds['application_name']}:{creds['api_key']}|{creds['db_mode']}"
        echoes.append(base64.b64encode(pair.encode()).decode())
    for secret in secrets:
        echoes += [secret, base64.b64encode(secret.encode()).decode(), quote(secret, safe="")]
    fake.reject_credentials("you sent: " + " / ".join(f"Basic {e}" for e in echoes))
    reply = world.configure(provider)
    assert reply.status == 422, reply
    shown = json.dumps(reply.body) + "\n".join(log_lines)
    for secret in secrets:
        assert secret not in shown, secret
    for echo in echoes:
        assert echo not in shown, echo
    assert "you sent" in reply.body["Message"]


def test_a_provider_that_hangs_gets_a_504_within_the_api_budget(api, fakes, monkeypatch):
    import time

    from chalicelib.logic import integrations

    monkeypatch.setattr(integrations, "API_DEADLINE", 1.5)
    world = World(api, fakes, [])
    fakes["van"].set_delay(5)
    started = time.monotonic()
    reply = world.configure("van")
    took = time.monotonic() - started
    assert reply.status == 504, reply
    assert reply.body["Code"] == "GatewayTimeoutError"
    assert took < 4, took  # one try, cut at the deadline: no retries on the API path
    assert len(fakes["van"].calls) == 1
    listed = api.get(f"/campaigns/{world.cid}/integrations", token=world.admin.token)
    assert listed.body["items"] == []


@pytest.mark.parametrize(
    ("provider", "body", "field"),
    [
        pytest.param(
            "van", {"application_name": "x", "api_key": "k"}, "db_mode", id="van-no-db-mode"
        ),
        pytest.param(
            "van",
            {"application_name": "x", "api_key": "k", "db_mode": 2},
            "db_mode",
            id="van-unknown-db-mode",
        ),
        pytest.param("pdi", {"username": "u", "password": "p"}, "api_token", id="pdi-no-token"),
        pytest.param("salsa", {}, "api_token", id="salsa-no-token"),
    ],
)
def test_credential_fields_are_checked(api, fakes, provider, body, field):
    world = World(api, fakes, [])
    path = f"/campaigns/{world.cid}/integrations"
    reply = api.put(f"{path}/{provider}", body, token=world.admin.token)
    assert reply.status == 400, (provider, reply)
    assert reply.body["Message"].startswith(field)


def test_an_unknown_provider_or_no_integration_is_404(api, fakes):
    world = World(api, fakes, [])
    path = f"/campaigns/{world.cid}/integrations"
    assert api.put(f"{path}/hubspot", {}, token=world.admin.token).status == 404
    assert api.delete(f"{path}/van", token=world.admin.token).status == 404


def test_catalog_follows_paging_and_is_cached(api, fakes):
    world = World(api, fakes, [])
    world.configure("van")
    fakes["van"].clear_calls()
    first = api.get(f"/campaigns/{world.cid}/integrations/van/catalog", token=world.admin.token)
    assert first.status == 200
    names = {q["name"] for q in first.body["survey_questions"]}
    assert {"Measure A", "Support level", "Volunteer?"} <= names
    assert len(first.body["activist_codes"]) >= 5
    calls = len(fakes["van"].calls)
    second = api.get(f"/campaigns/{world.cid}/integrations/van/catalog", token=world.admin.token)
    assert second.body == first.body
    assert len(fakes["van"].calls) == calls  # from the cache


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param(lambda a, q: {"actions": {"nope": {}}}, "actions.nope", id="unknown-action"),
        pytest.param(
            lambda a, q: {"actions": {a: {"results": {"won": 1}}}},
            "actions.{aid}.results.won",
            id="unknown-result",
        ),
        pytest.param(
            lambda a, q: {"actions": {a: {"questions": {"q": {}}}}},
            "actions.{aid}.questions.q",
            id="unknown-question",
        ),
        pytest.param(
            lambda a, q: {
                "actions": {
                    a: {"questions": {q: {"external_question_id": 1, "responses": {"r": 2}}}}
                }
            },
            "actions.{aid}.questions.{qid}.responses.r",
            id="unknown-response",
        ),
        pytest.param(
            lambda a, q: {"actions": {a: {"questions": {q: {"responses": {}}}}}},
            "actions.{aid}.questions.{qid}.external_question_id",
            id="no-external-question-id",
        ),
        pytest.param(lambda a, q: {"actions": []}, "actions", id="actions-not-an-object"),
    ],
)
def test_instructions_name_only_what_exists(api, fakes, bad, field):
    world = World(api, fakes, [])
    world.configure("van")
    body = bad(world.aid, world.qid)
    field = field.format(aid=world.aid, qid=world.qid)
    reply = api.put(
        f"/campaigns/{world.cid}/integrations/van/instructions", body, token=world.admin.token
    )
    assert reply.status == 400, (body, reply)
    assert reply.body["Message"].startswith(field), (field, reply)


def test_instructions_for_a_provider_not_configured_are_404(api, fakes):
    world = World(api, fakes, [])
    world.configure("van")
    not_configured = api.put(
        f"/campaigns/{world.cid}/integrations/pdi/instructions",
        {"actions": {}},
        token=world.admin.token,
    )
    assert not_configured.status == 404


# ---- sync: the happy paths --------------------------------------------------------------


def test_van_canvassed_gets_responses_and_other_results_a_result_code(api, fakes, stream):
    world = van_world(api, fakes)
    canvassed = world.report("1001", "canvassed", world.yes)
    not_home = world.report("1002", "not_home")
    result = stream.deliver("crm_sync_consumer")
    assert result == {"batchItemFailures": []}

    posted = {van_id: body for van_id, body in fakes["van"].canvass_responses}
    assert posted[1001]["resultCodeId"] is None
    assert posted[1001]["responses"] == [
        {"type": "ActivistCode", "activistCodeId": 4482459, "action": "Apply"},
        {"type": "SurveyResponse", "surveyQuestionId": 378552, "surveyResponseId": 1555791},
    ]
    assert posted[1001]["canvassContext"]["contactTypeId"] == 2  # a canvass is a walk
    assert posted[1002]["resultCodeId"] == 4
    assert posted[1002]["responses"] is None
    assert world.state_of(canvassed, "van")["state"] == "synced"
    assert world.state_of(not_home, "van")["state"] == "synced"
    reports = api.get(f"/campaigns/{world.cid}/reports", token=world.admin.token).body["items"]
    assert all(r["sync"] == [{"provider": "van", "state": "synced"}] for r in reports)


def test_pdi_posts_one_flag_array_for_a_batch(api, fakes, stream):
    world = World(api, fakes, ["2001", "2002"])
    world.configure("pdi")
    world.instruct(
        "pdi",
        {
            "results": {"not_home": PDI_FLAGS["NAH"]},
            "questions": {
                world.qid: {
                    "external_question_id": PDI_QUESTIONS["measure"],
                    "responses": {world.yes: PDI_FLAGS["SUP"]},
                }
            },
            "acquisition_type_id": PDI_ACQUISITIONS["Walk"],
        },
    )
    world.report("2001", "canvassed", world.yes)
    world.report("2002", "not_home")
    assert stream.deliver("crm_sync_consumer") == {"batchItemFailures": []}
    posts = fakes["pdi"].calls_to("POST", "/flags")
    assert len(posts) == 1
    flags = {(f["pdiId"], f["flagId"], f.get("questionId")) for f in posts[0].body}
    assert flags == {
        ("2001", PDI_FLAGS["SUP"], PDI_QUESTIONS["measure"]),
        ("2002", PDI_FLAGS["NAH"], None),
    }
    assert {f["acquisitionTypeId"] for f in posts[0].body} == {PDI_ACQUISITIONS["Walk"]}
    assert {s["state"] for s in world.sync_states()} == {"synced"}


def test_ids_from_a_list_for_one_crm_go_to_that_crm_only(api, fakes, stream, capsys):
    """A campaign on VAN and PDI at once: a VAN list's ids are never posted to PDI, nor a
    PDI list's to VAN (the same number can be two different people); ids from a list
    that names no CRM go to both."""
    world = World(api, fakes, [])
    world.add_list(["1001"], provider="van")
    world.add_list(["2001"], provider="pdi")
    world.add_list(["3001"])
    fakes["van"].add_person(3001)
    fakes["pdi"].add_person(3001)
    assert world.configure("van").status == 200
    assert world.configure("pdi").status == 200
    assert world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": 2}).status == 200
    pdi_mapping = {
        "results": {"not_home": PDI_FLAGS["NAH"]},
        "acquisition_type_id": PDI_ACQUISITIONS["Walk"],
    }
    assert world.instruct("pdi", pdi_mapping).status == 200
    van_only = world.report("1001", "not_home")
    pdi_only = world.report("2001", "not_home")
    both = world.report("3001", "not_home")
    capsys.readouterr()
    assert stream.deliver("crm_sync_consumer") == {"batchItemFailures": []}
    assert metrics_counted(capsys.readouterr().out) == {"CrmSynced": 4, "CrmSkipped": 2}

    assert sorted(van_id for van_id, _ in fakes["van"].canvass_responses) == [1001, 3001]
    flagged = [f["pdiId"] for call in fakes["pdi"].calls_to("POST", "/flags") for f in call.body]
    assert sorted(flagged) == ["2001", "3001"]
    assert world.state_of(van_only, "van")["state"] == "synced"
    assert world.state_of(pdi_only, "pdi")["state"] == "synced"
    assert world.state_of(both, "van")["state"] == "synced"
    assert world.state_of(both, "pdi")["state"] == "synced"
    not_for_pdi = world.state_of(van_only, "pdi")
    assert not_for_pdi["state"] == "skipped"
    assert "from a van list, not a pdi one" in not_for_pdi["last_error"]
    not_for_van = world.state_of(pdi_only, "van")
    assert not_for_van["state"] == "skipped"
    assert "from a pdi list, not a van one" in not_for_van["last_error"]

    reports = api.get(f"/campaigns/{world.cid}/reports", token=world.admin.token).body["items"]
    contacts = {r["report_id"]: r["contact"] for r in reports}
    assert contacts[van_only] == {"name": "P1001", "external_id": "1001", "provider": "van"}
    assert contacts[both] == {"name": "P3001", "external_id": "3001", "provider": None}


def test_salsa_writes_only_found_supporters(api, fakes, stream):
    found = "5c7a0d0e-0000-4000-8000-000000000001"
    world = World(api, fakes, [found, "5c7a0d0e-0000-4000-8000-00000000dead"])
    world.configure("salsa")
    world.instruct(
        "salsa",
        {
            "results": {"canvassed": "seg-0001"},
            "questions": {
                world.qid: {"external_question_id": "field-a", "responses": {world.yes: "yes"}}
            },
        },
    )
    ok = world.report(found, "canvassed", world.yes)
    missing = world.report("5c7a0d0e-0000-4000-8000-00000000dead", "canvassed", world.yes)
    stream.deliver("crm_sync_consumer")
    salsa = fakes["salsa"]
    assert found in salsa.segment_members["seg-0001"]
    assert salsa.custom_fields[found]
    assert world.state_of(ok, "salsa")["state"] == "synced"
    failed = world.state_of(missing, "salsa")
    assert failed["state"] == "failed"
    assert "not in the CRM" in failed["last_error"]
    puts = salsa.calls_to("PUT", "/supporters")
    assert all(s.get("supporterId") == found for c in puts for s in c.body["payload"]["supporters"])


@pytest.mark.parametrize("refusal", ["segment", "field"])
def test_salsa_is_synced_only_when_salsa_says_each_write_took(api, fakes, stream, refusal):
    """A segment Salsa will not let the API manage answers NOT_ALLOWED for the supporter, and
    a refused custom field carries its error on the field of an UPDATED supporter: either
    way the record fails with Salsa's reason, not `synced`."""
    found = "5c7a0d0e-0000-4000-8000-000000000001"
    world = World(api, fakes, [found])
    world.configure("salsa")
    salsa = fakes["salsa"]
    if refusal == "segment":
        salsa.unmanaged_segments.add("seg-0001")
    else:
        salsa.refused_fields["field-a"] = "value is not one of the field's options"
    world.instruct(
        "salsa",
        {
            "results": {"canvassed": "seg-0001"},
            "questions": {
                world.qid: {"external_question_id": "field-a", "responses": {world.yes: "yes"}}
            },
        },
    )
    report_id = world.report(found, "canvassed", world.yes)
    stream.deliver("crm_sync_consumer")
    state = world.state_of(report_id, "salsa")
    assert state["state"] == "failed"
    expected = "NOT_ALLOWED" if refusal == "segment" else "not one of the field's options"
    assert expected in state["last_error"]
    assert not salsa.custom_fields.get(found)


def test_salsa_counts_a_supporter_already_in_the_segment_as_synced(api, fakes, stream):
    found = "5c7a0d0e-0000-4000-8000-000000000001"
    world = World(api, fakes, [found])
    world.configure("salsa")
    fakes["salsa"].segment_members["seg-0001"].add(found)  # added before: Salsa says UPDATED
    world.instruct("salsa", {"results": {"not_home": "seg-0001"}})
    report_id = world.report(found, "not_home")
    stream.deliver("crm_sync_consumer")
    assert world.state_of(report_id, "salsa")["state"] == "synced"


def test_reports_without_external_id_or_mapping_are_skipped(api, fakes, stream):
    world = van_world(api, fakes)
    vol_contact = api.put(
        "/me/contacts",
        {"contacts": [{"name": "Unknown", "phones": ["2025550191"]}]},
        token=world.vol.token,
    )
    assert vol_contact.status == 200
    contact_id = api.get("/me/contacts", token=world.vol.token).body["items"][0]["contact_id"]
    no_id = api.post(
        f"/campaigns/{world.cid}/actions/{world.aid}/reports",
        {"contact_id": contact_id, "result": "not_home"},
        token=world.vol.token,
    ).body["report_id"]
    unmapped = world.report("1003", "moved")
    stream.deliver("crm_sync_consumer")
    assert world.state_of(no_id, "van")["state"] == "skipped"
    assert "external id" in world.state_of(no_id, "van")["last_error"]
    assert world.state_of(unmapped, "van")["state"] == "skipped"
    assert "moved" in world.state_of(unmapped, "van")["last_error"]
    assert fakes["van"].canvass_responses == []
    assert len(world.sync_states("skipped")) == 2
    assert world.sync_states("synced") == []
    assert (
        api.get(f"/campaigns/{world.cid}/sync?state=weird", token=world.admin.token).status == 400
    )


# ---- exactly once ------------------------------------------------------------------------


def test_a_redelivered_batch_posts_once(api, fakes, stream):
    world = van_world(api, fakes)
    world.report("1001", "not_home")
    records = stream.read()
    assert stream.deliver("crm_sync_consumer", records) == {"batchItemFailures": []}
    assert stream.deliver("crm_sync_consumer", records) == {"batchItemFailures": []}
    assert len(fakes["van"].canvass_responses) == 1


def test_a_first_attempt_writes_its_sync_record_twice(api, fakes, stream, monkeypatch):
    """The record is created claimed for the first attempt, then finished: two writes (a
    put, then an update), not three; a redelivery writes nothing more and sends nothing."""
    import botocore.client

    world = van_world(api, fakes)
    report_id = world.report("1001", "not_home")
    records = stream.read()
    writes: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def watched(client: Any, operation: str, params: dict[str, Any]) -> Any:
        item = params.get("Key") or params.get("Item") or {}
        if str(item.get("sk", {}).get("S", "")).startswith("SYNC#"):
            writes.append(operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", watched)
    assert stream.deliver("crm_sync_consumer", records) == {"batchItemFailures": []}
    assert writes == ["PutItem", "UpdateItem"]
    writes.clear()
    assert stream.deliver("crm_sync_consumer", records) == {"batchItemFailures": []}
    assert writes == ["PutItem"]  # refused: the record exists
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)
    state = world.state_of(report_id, "van")
    assert (state["state"], state["attempts"]) == ("synced", 1)
    assert len(fakes["van"].canvass_responses) == 1


def test_first_attempts_a_down_provider_cannot_take_are_given_back_unspent(
    api, fakes, stream, monkeypatch
):
    """Records created claimed for a provider whose breaker is open are given back: still
    due, no attempt spent, and the schedule sends them once the provider is back."""
    from chalicelib.logic import sync

    world = van_world(api, fakes)
    reports = [world.report(x, "not_home") for x in ("1001", "1002")]
    from chalicelib.logic import breaker

    allows = breaker.allows
    monkeypatch.setattr(breaker, "allows", lambda campaign_id, provider: 0)
    stream.deliver("crm_sync_consumer")
    states = [world.state_of(r, "van") for r in reports]
    assert [(s["state"], s["attempts"]) for s in states] == [("pending", 0), ("pending", 0)]
    assert fakes["van"].canvass_responses == []
    monkeypatch.setattr(breaker, "allows", allows)  # the provider is back
    sync.run_due()
    assert {world.state_of(r, "van")["state"] for r in reports} == {"synced"}
    assert len(fakes["van"].canvass_responses) == 2


def test_overlapping_schedules_post_once(api, fakes, stream, monkeypatch):
    from chalicelib.logic import sync

    world = van_world(api, fakes)
    fakes["van"].set_delay(0.2)
    ids = [world.report(x, "not_home") for x in ("1001", "1002", "1003")]
    # the stream's first attempt is lost (say, the consumer was down): the schedule picks up
    for report_id in ids:
        from chalicelib.dal import integrations as dal

        dal.create_record(world.cid, report_id, "van", "test")
    threads = [threading.Thread(target=sync.run_due) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v for v, _ in fakes["van"].canvass_responses) == [1001, 1002, 1003]
    assert {s["state"] for s in world.sync_states()} == {"synced"}


def test_a_timeout_after_sending_is_never_retried_by_itself(api, fakes, stream, monkeypatch):
    from chalicelib.logic import sync

    monkeypatch.setattr(sync, "BACKOFF_BASE", 0)
    world = van_world(api, fakes)
    fakes["van"].slow_next(3.0, path=r"/people/\d+/canvassResponses")
    report_id = world.report("1001", "not_home")
    stream.deliver("crm_sync_consumer")
    state = world.state_of(report_id, "van")
    assert state["state"] == "failed"
    assert "may have" in state["last_error"]
    assert state["retrying_at"] is None
    sync.run_due()
    sync.run_due()
    # the slow request did reach the fake: it was recorded once, and never sent again
    assert len(fakes["van"].calls_to("POST", r"/people/\d+/canvassResponses")) == 1
    # an admin who checked VAN may decide to send it again
    retry = api.post(f"/campaigns/{world.cid}/integrations/van/retry", token=world.admin.token)
    assert (retry.status, retry.body) == (202, {"provider": "van", "accepted": True})
    assert world.state_of(report_id, "van")["state"] == "pending"  # in the background
    sync.run_due()
    assert world.state_of(report_id, "van")["state"] == "synced"


def test_a_write_answered_with_a_server_error_is_not_resent_until_an_admin_says(
    api, fakes, stream, monkeypatch
):
    """A 5xx on a write may hide a write that landed: the record is failed with the reason,
    no schedule sends it again, and an admin's retry does, once."""
    from chalicelib.logic import sync

    monkeypatch.setattr(sync, "BACKOFF_BASE", 0)
    world = van_world(api, fakes)
    fakes["van"].fail_next(500, times=100, path=r"/people/\d+/canvassResponses")
    report_id = world.report("1001", "not_home")
    stream.deliver("crm_sync_consumer")
    first = world.state_of(report_id, "van")
    assert first["state"] == "failed" and first["attempts"] == 1
    assert first["retrying_at"] is None
    assert "may have arrived" in first["last_error"]
    posts = lambda: [c for c in fakes["van"].calls if c.path.endswith("/canvassResponses")]  # noqa: E731
    assert len(posts()) == 1
    sync.run_due()
    sync.run_due()
    assert len(posts()) == 1 and world.state_of(report_id, "van")["attempts"] == 1
    # the admin checked the CRM and sends it again
    fakes["van"].clear_faults()
    api.post(f"/campaigns/{world.cid}/integrations/van/retry", token=world.admin.token)
    sync.run_due()
    assert world.state_of(report_id, "van")["state"] == "synced"
    assert len(fakes["van"].canvass_responses) == 1


def test_429_with_retry_after_is_honoured(api, fakes, stream):
    world = van_world(api, fakes)
    fakes["van"].fail_next(429, retry_after=1, path=r"/people/\d+/canvassResponses")
    report_id = world.report("1001", "not_home")
    stream.deliver("crm_sync_consumer")
    assert world.state_of(report_id, "van")["state"] == "synced"
    statuses = [c.status for c in fakes["van"].calls_to("POST", r"/people/\d+/canvassResponses")]
    assert statuses == [429, 204]


def test_an_unknown_person_fails_and_nobody_is_created(api, fakes, stream, capsys):
    world = van_world(api, fakes)
    unknown = world.report("9999", "not_home")
    malformed = world.report("NO-SUCH", "not_home")
    capsys.readouterr()
    stream.deliver("crm_sync_consumer")
    assert metrics_counted(capsys.readouterr().out) == {"CrmSyncFailed": 2}
    state = world.state_of(unknown, "van")
    assert state["state"] == "failed"
    assert "not in the CRM" in state["last_error"]
    assert state["retrying_at"] is None
    bad = world.state_of(malformed, "van")
    assert bad["state"] == "failed"
    assert bad["last_error"].startswith("not sent")
    assert fakes["van"].canvass_responses == []


def test_one_bad_record_fails_alone(api, fakes, stream):
    world = van_world(api, fakes)
    world.report("1001", "not_home")
    records = stream.read()
    inserted = next(
        r
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["entity"]["S"] == "report"
    )
    broken = broken_copy(inserted, "999999999", campaign_id=None)
    result = stream.deliver("crm_sync_consumer", [*records, broken])
    assert result == {"batchItemFailures": [{"itemIdentifier": "999999999"}]}
    assert len(fakes["van"].canvass_responses) == 1


def test_no_secret_reaches_a_log_line_or_a_response(api, fakes, stream, log_lines):
    from chalicelib.logic import sync

    world = van_world(api, fakes)
    world.configure("pdi")
    world.configure("salsa")
    responses = []
    for provider in ("van", "pdi", "salsa"):
        responses.append(
            api.get(
                f"/campaigns/{world.cid}/integrations/{provider}/catalog", token=world.admin.token
            )
        )
    world.report("1001", "canvassed", world.yes)
    fakes["van"].fail_next(500, path=r"/people/\d+/canvassResponses")
    world.report("1002", "not_home")
    stream.deliver("crm_sync_consumer")
    sync.run_due()
    responses.append(api.get(f"/campaigns/{world.cid}/integrations", token=world.admin.token))
    responses.append(api.get(f"/campaigns/{world.cid}/sync", token=world.admin.token))
    responses.append(api.get(f"/campaigns/{world.cid}/reports", token=world.admin.token))
    everything = "\n".join(log_lines) + json.dumps([r.body for r in responses])
    secrets_used = [
        fakes["van"].api_key,
        fakes["pdi"].password,
        fakes["pdi"].api_token,
        fakes["salsa"].api_token,
    ]
    for secret in secrets_used:
        assert secret not in everything
    assert any('"kind": "crm_sync"' in line or '"kind":"crm_sync"' in line for line in log_lines)


# ---- throughput: a pool of threads, paced to the provider's limit ---------------------------


def test_a_rate_limited_van_gets_every_report_once(api, fakes, stream):
    """30 reports against a VAN that allows 10 calls a second: the first attempts learn the
    limit from its 429s, honour Retry-After, and every report is posted once."""
    ids = [str(1001 + i) for i in range(30)]
    for van_id in ids:
        fakes["van"].add_person(van_id)
    world = World(api, fakes, ids)
    world.configure("van")
    world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": 2})
    for van_id in ids:
        world.report(van_id, "not_home")
    fakes["van"].clear_calls()
    fakes["van"].set_delay(0.02)
    fakes["van"].set_rate_limit(10)
    assert stream.deliver("crm_sync_consumer") == {"batchItemFailures": []}
    assert sorted(v for v, _ in fakes["van"].canvass_responses) == sorted(int(x) for x in ids)
    assert {s["state"] for s in world.sync_states()} == {"synced"}
    statuses = [c.status for c in fakes["van"].calls]
    assert statuses.count(204) == 30
    assert statuses.count(429) <= 16  # those in flight at the first 429 (and a jitter cut or two)


def test_a_batch_is_sent_from_several_threads(api, fakes, stream):
    world = van_world(api, fakes)
    for van_id in ("1001", "1002", "1003"):
        world.report(van_id, "not_home")
    fakes["van"].clear_calls()
    fakes["van"].set_delay(0.5)
    stream.deliver("crm_sync_consumer")
    arrivals = sorted(c.at for c in fakes["van"].calls_to("POST", r"/people/\d+/canvassResponses"))
    assert len(arrivals) == 3
    assert arrivals[-1] - arrivals[0] < 0.5  # not one after the other (that takes 1 s or more)
    assert {s["state"] for s in world.sync_states()} == {"synced"}


def test_what_a_batch_has_no_time_for_is_left_due_for_the_schedule(api, fakes, stream, monkeypatch):
    from chalicelib.logic import sync

    world = van_world(api, fakes)
    world.report("1001", "not_home")
    world.report("1002", "not_home")
    budget = sync.BUDGET
    monkeypatch.setattr(sync, "BUDGET", 0.0)
    stream.deliver("crm_sync_consumer")
    assert fakes["van"].canvass_responses == []
    states = world.sync_states()
    assert [s["state"] for s in states] == ["pending", "pending"]
    assert all(s["attempts"] == 0 for s in states)  # never claimed
    monkeypatch.setattr(sync, "BUDGET", budget)
    sync.run_due()
    assert {s["state"] for s in world.sync_states()} == {"synced"}
    assert len(fakes["van"].canvass_responses) == 2


def test_a_client_is_reused_by_the_next_batches(api, fakes, stream):
    world = World(api, fakes, ["2001", "2002"])
    world.configure("pdi")
    world.instruct(
        "pdi",
        {
            "results": {"not_home": PDI_FLAGS["NAH"]},
            "acquisition_type_id": PDI_ACQUISITIONS["Phone"],
        },
    )
    signed_in = fakes["pdi"].sign_ins
    world.report("2001", "not_home")
    stream.deliver("crm_sync_consumer")
    world.report("2002", "not_home")
    stream.deliver("crm_sync_consumer")
    assert {s["state"] for s in world.sync_states()} == {"synced"}
    assert len(fakes["pdi"].calls_to("POST", "/flags")) == 2
    assert fakes["pdi"].sign_ins == signed_in + 1  # one sign-in for both batches


def test_a_429_waits_for_retry_after_and_more_attempts_than_other_errors():
    from chalicelib.crm import RateLimited, TransientCrmError
    from chalicelib.dal.common import now
    from chalicelib.domain.integrations import SyncRecord
    from chalicelib.logic import sync

    def attempt(attempts: int) -> Any:
        record = SyncRecord("c", "r", "van", "pending", attempts, None, True, None, "t", None, "")
        return sync.Attempt(record, sync._missing_report(record), "t")

    throttled = RateLimited("van", "rate limited", retry_after=2.0)
    outcome = sync._failure(attempt(1), throttled)
    assert outcome.retry_at is not None
    waited = (
        datetime.fromisoformat(outcome.retry_at.replace("Z", "+00:00")) - now()
    ).total_seconds()
    assert 0 < waited <= 2.0  # Retry-After, not the minutes of backoff
    assert sync._failure(attempt(sync.MAX_ATTEMPTS + 2), throttled).retry_at is not None
    assert sync._failure(attempt(sync.MAX_RATE_LIMITED_ATTEMPTS), throttled).retry_at is None
    assert sync._failure(attempt(sync.MAX_ATTEMPTS), TransientCrmError("van", "x")).retry_at is None


def test_phone_contacts_send_the_list_rows_number(api, fakes, stream):
    world = World(api, fakes, ["1001"])
    world.configure("van")
    world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": 1})
    phoned = api.post(
        f"/campaigns/{world.cid}/lists",
        {"name": "With phones", "rows": [{"external_id": "1002", "phone": "202-555-0144"}]},
        token=world.admin.token,
    ).body["list_id"]
    no_phone = world.report("1001", "not_home")
    with_phone = api.post(
        f"/campaigns/{world.cid}/actions/{world.aid}/reports",
        {"list_row_id": list_row(phoned), "result": "not_home"},
        token=world.admin.token,
    ).body["report_id"]
    stream.deliver("crm_sync_consumer")
    assert world.state_of(no_phone, "van")["state"] == "skipped"
    assert "phone" in world.state_of(no_phone, "van")["last_error"]
    assert world.state_of(with_phone, "van")["state"] == "synced"
    ((van_id, body),) = fakes["van"].canvass_responses
    assert van_id == 1002
    assert body["canvassContext"]["phone"] == {"dialingPrefix": "1", "phoneNumber": "2025550144"}


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"results": {"not_home": "four"}}, "results.not_home"),
        ({"results": {"not_home": "4; DROP"}}, "results.not_home"),
        ({"activist_codes": ["abc"]}, "activist_codes[0]"),
        ({"contact_type_id": "1.5"}, "contact_type_id"),
        ({"contact_type_id": None}, "contact_type_id"),  # required: VAN's own list offers it
        ({"contact_type_id": 81}, "contact_type_id"),  # not in this VAN's contact types
        ({"results": {"not_home": "9" * 201}}, "results.not_home"),
    ],
)
def test_a_mapping_van_cannot_take_is_refused_when_saved(api, fakes, mapping, field):
    world = World(api, fakes, ["1001"])
    world.configure("van")
    reply = world.instruct("van", {"contact_type_id": 2, **mapping})
    assert reply.status == 400, reply
    assert reply.body["Field"] == f"actions.{world.aid}.{field}"


def test_a_stored_mapping_the_crm_cannot_take_fails_its_record_alone(api, fakes, stream, stack):
    """A mapping stored before it was checked (or by hand): the report it concerns fails
    with the reason and nothing is sent for it; the rest of the batch syncs."""
    from chalicelib.dal import integrations as integrations_dal

    world = van_world(api, fakes)
    bad = {
        "actions": {
            world.aid: {"results": {"not_home": "four", "refused": "5"}, "contact_type_id": "2"}
        }
    }
    integrations_dal.set_instructions(world.cid, "van", bad, "operator")
    broken = world.report("1001", "not_home")
    fine = world.report("1002", "refused")
    answer = stream.deliver("crm_sync_consumer")
    assert answer == {"batchItemFailures": []}
    failed = world.state_of(broken, "van")
    assert failed["state"] == "failed" and "mapping cannot be used" in failed["last_error"]
    assert world.state_of(fine, "van")["state"] == "synced"
    assert [van_id for van_id, _ in fakes["van"].canvass_responses] == [1002]


def test_a_crm_that_is_down_pauses_its_sync_without_spending_attempts(
    api, fakes, stream, monkeypatch
):
    """Past a few outages in a row the provider account's breaker opens: the schedule
    leaves its records waiting (attempts unspent) until the cool-down ends, tries one,
    and once that one goes through, sends the rest."""
    import time

    from chalicelib import config
    from chalicelib.crm.retries import RetryPolicy
    from chalicelib.logic import breaker, sync

    monkeypatch.setattr(sync, "BACKOFF_BASE", 0)
    monkeypatch.setattr(breaker, "THRESHOLD", 3)
    monkeypatch.setattr(breaker, "COOLDOWN", 1.0)
    monkeypatch.setattr(sync, "CLIENT_TTL", 0.0)  # each attempt asks where VAN is now
    monkeypatch.setattr(
        "chalicelib.crm.http.RetryPolicy",
        lambda **options: RetryPolicy(**{**options, "max_attempts": 1}),
    )
    world = van_world(api, fakes)
    reports = [world.report(x, "not_home") for x in ("1001", "1002", "1003")]
    up = fakes["van"].url
    monkeypatch.setenv("VAN_API_URL", "http://127.0.0.1:9")  # nothing listens: VAN is down
    config.reset()
    stream.deliver("crm_sync_consumer")
    assert {world.state_of(r, "van")["attempts"] for r in reports} == {1}

    for _ in range(3):  # the breaker is open: nothing is claimed, no attempt is spent
        sync.run_due()
    states = [world.state_of(r, "van") for r in reports]
    assert [s["attempts"] for s in states] == [1, 1, 1], states
    assert all(s["state"] == "failed" and s["retrying_at"] for s in states)

    monkeypatch.setenv("VAN_API_URL", up)  # VAN is back
    config.reset()
    time.sleep(1.1)  # the cool-down ends
    sync.run_due()  # one record is tried, goes through, and the breaker closes
    sync.run_due()
    assert {world.state_of(r, "van")["state"] for r in reports} == {"synced"}
    assert sorted(v for v, _ in fakes["van"].canvass_responses) == [1001, 1002, 1003]
