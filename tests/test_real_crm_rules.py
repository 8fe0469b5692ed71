"""What a real VAN, PDI or Salsa account would refuse, and the sync now respects: PDI's
opaque acquisition types and date-times, one bad flag not failing its batch, VAN's contact
types from its own catalog (and the phone they want), the campaign's time zone, and VAN
ids posted only with a key of the database they came from. (Salsa's per-item results are
in test_crm_sync.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.crm import OutcomeUnknown, PermanentCrmError
from chalicelib.domain.reports import Report
from tests.fakes.pdi import PDI_ACQUISITIONS, PDI_FLAGS
from tests.test_crm_sync import World

WALK = PDI_ACQUISITIONS["Walk"]


def _pdi_world(api, fakes, people: list[str]) -> World:
    world = World(api, fakes, people)
    assert world.configure("pdi").status == 200
    return world


def _report_made_at(stream, moment: str) -> list[dict[str, Any]]:
    """The stream's records, the new reports' creation time set to `moment` (UTC)."""
    records = stream.read()
    for record in records:
        image = record["dynamodb"].get("NewImage") or {}
        if image.get("entity", {}).get("S") == "report":
            image["created_at"] = {"S": moment}
    return records


# ---- PDI ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [({}, "is required"), ({"acquisition_type_id": "1"}, "names none of pdi's acquisition")],
)
def test_a_pdi_mapping_names_one_of_pdis_own_acquisition_types(api, fakes, mapping, reason):
    world = _pdi_world(api, fakes, ["2001"])
    reply = world.instruct("pdi", {"results": {"not_home": PDI_FLAGS["NAH"]}, **mapping})
    assert reply.status == 400, reply
    assert reply.body["Field"] == f"actions.{world.aid}.acquisition_type_id"
    assert reason in reply.body["Message"]


def test_a_stored_pdi_mapping_without_an_acquisition_type_sends_nothing(api, fakes, stream):
    from chalicelib.dal import integrations as integrations_dal

    world = _pdi_world(api, fakes, ["2001"])
    stored = {"actions": {world.aid: {"results": {"not_home": PDI_FLAGS["NAH"]}}}}
    integrations_dal.set_instructions(world.cid, "pdi", stored, "operator")
    report_id = world.report("2001", "not_home")
    stream.deliver("crm_sync_consumer")
    state = world.state_of(report_id, "pdi")
    assert state["state"] == "skipped" and "acquisition type" in state["last_error"]
    assert fakes["pdi"].calls_to("POST", "/flags") == []


def test_one_bad_flag_fails_its_report_alone(api, fakes, stream):
    """PDI refuses an array whole for one bad flag: the array is split and sent again
    until the report at fault fails alone; the others are written once each."""
    world = _pdi_world(api, fakes, ["2001", "2002", "2003", "2004"])
    fakes["pdi"].add_person("2004")
    fakes["pdi"].remove_person("2003")  # unknown to PDI: its flag is refused
    world.instruct("pdi", {"results": {"not_home": PDI_FLAGS["NAH"]}, "acquisition_type_id": WALK})
    ids = {p: world.report(p, "not_home") for p in ("2001", "2002", "2003", "2004")}
    stream.deliver("crm_sync_consumer")
    states = {p: world.state_of(r, "pdi") for p, r in ids.items()}
    assert {p: s["state"] for p, s in states.items()} == {
        "2001": "synced",
        "2002": "synced",
        "2003": "failed",
        "2004": "synced",
    }
    assert "pdiId 2003 not found" in states["2003"]["last_error"]
    written = sorted(f["pdiId"] for f in fakes["pdi"].flags)
    assert written == ["2001", "2002", "2004"]  # each once
    assert all(f["flagEntryDate"].endswith("T00:00:00") for f in fakes["pdi"].flags)


class _Flags:
    """A PDI client that refuses any array holding a flag for `bad`, or fails to answer."""

    def __init__(self, bad: str = "", error: Exception | None = None) -> None:
        self.bad, self.error, self.posts = bad, error, []

    def post_flags(self, flags: list[dict[str, str]]) -> int:
        self.posts.append([f["pdiId"] for f in flags])
        if self.error is not None:
            raise self.error
        if any(f["pdiId"] == self.bad for f in flags):
            raise PermanentCrmError("pdi", f"pdiId {self.bad} not found", status=400)
        return len(flags)


def _items(flags_each: list[int]) -> list[tuple[Report, Any]]:
    return [
        (None, [{"pdiId": f"p{n}"} for _ in range(count)])  # type: ignore[misc]
        for n, count in enumerate(flags_each)
    ]


def test_pdi_arrays_hold_at_most_200_flags_and_a_report_is_never_split():
    from chalicelib.logic.providers import pdi

    client = _Flags()
    outcomes = pdi.PROVIDER.send(client, _items([3] * 150))
    assert outcomes == [None] * 150
    assert [len(post) for post in client.posts] == [198, 198, 54]
    assert all(len(set(post[i : i + 3])) == 1 for post in client.posts for i in (0, 3))


def test_pdi_a_refused_array_is_halved_until_the_bad_report_is_alone():
    from chalicelib.logic.providers import pdi

    client = _Flags(bad="p5")
    outcomes = pdi.PROVIDER.send(client, _items([1] * 8))
    assert [o is None for o in outcomes] == [True] * 5 + [False] + [True] * 2
    assert isinstance(outcomes[5], PermanentCrmError)
    assert len(client.posts) == 7  # 8 -> 4+4 -> 2+2 -> 1+1 (only the refused halves split)


def test_pdi_an_array_that_may_have_arrived_is_never_sent_again():
    from chalicelib.logic.providers import pdi

    client = _Flags(error=OutcomeUnknown("pdi", "timed out after sending"))
    outcomes = pdi.PROVIDER.send(client, _items([1] * 4))
    assert len(client.posts) == 1
    assert all(isinstance(o, OutcomeUnknown) for o in outcomes)


# ---- VAN ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact_type", "phone_sent"),
    [(1, True), (67, True), (37, True), (132, True), (2, False), (145, False)],
)
def test_van_sends_the_phone_for_the_phone_and_text_channels_of_its_catalog(
    api, fakes, stream, contact_type, phone_sent
):
    """Phone Bank (67) and Relational Text (132) want the number as Phone (1) and SMS Text
    (37) do: decided by the contact type's channel in VAN's catalog, not a list of ids."""
    world = World(api, fakes, [])
    world.configure("van")
    world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": contact_type})
    listed = api.post(
        f"/campaigns/{world.cid}/lists",
        {
            "name": "Phones",
            "van_db_mode": 1,
            "rows": [{"external_id": "1002", "phone": "202-555-0144"}],
        },
        token=world.admin.token,
    ).body["list_id"]
    from tests.helpers import list_row

    api.post(
        f"/campaigns/{world.cid}/actions/{world.aid}/reports",
        {"list_row_id": list_row(listed), "result": "not_home"},
        token=world.admin.token,
    )
    stream.deliver("crm_sync_consumer")
    assert {s["state"] for s in world.sync_states()} == {"synced"}
    ((_van_id, body),) = fakes["van"].canvass_responses
    assert body["canvassContext"]["contactTypeId"] == contact_type
    assert ("phone" in body["canvassContext"]) == phone_sent


def test_dates_are_the_campaigns_own(api, fakes, stream):
    """8:30 pm in California is 03:30 the next day in UTC: VAN and PDI get the local day."""
    world = World(api, fakes, ["1001", "2001"])
    patched = api.patch(
        f"/campaigns/{world.cid}",
        {"settings": {"time_zone": "America/Los_Angeles"}},
        token=world.admin.token,
    )
    assert patched.status == 200, patched
    world.configure("van")
    world.configure("pdi")
    fakes["pdi"].add_person("1001")  # the list names no CRM: its ids go to both
    world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": 2})
    world.instruct("pdi", {"results": {"not_home": PDI_FLAGS["NAH"]}, "acquisition_type_id": WALK})
    world.report("1001", "not_home")
    stream.deliver("crm_sync_consumer", _report_made_at(stream, "2026-11-02T03:30:00.000Z"))
    ((_van, body),) = fakes["van"].canvass_responses
    assert body["canvassContext"]["dateCanvassed"].startswith("2026-11-01")
    (flag,) = fakes["pdi"].flags
    assert flag["flagEntryDate"] == "2026-11-01T00:00:00"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../etc/passwd", 5, ""])
def test_a_time_zone_must_be_a_real_one(api, fakes, zone):
    world = World(api, fakes, [])
    reply = api.patch(
        f"/campaigns/{world.cid}", {"settings": {"time_zone": zone}}, token=world.admin.token
    )
    assert reply.status == 400 and reply.body["Field"] == "settings.time_zone"


def test_van_ids_go_only_to_a_key_of_the_database_they_came_from(api, fakes, stream):
    """MyVoters and MyCampaign ids name different people: a list records which it holds, and
    a report from a list of the other database, or one that does not say, is skipped."""
    world = World(api, fakes, [])
    unknown = api.post(  # made before VAN is configured, and saying nothing
        f"/campaigns/{world.cid}/lists",
        {"name": "Unknown", "rows": [{"external_id": "1001"}]},
        token=world.admin.token,
    ).body["list_id"]
    world.configure("van")  # the fake's key works in MyCampaign (1)
    world.instruct("van", {"results": {"not_home": 4}, "contact_type_id": 2})
    body: dict[str, Any] = {"name": "MyVoters", "van_db_mode": 0, "rows": [{"external_id": "1002"}]}
    voters = api.post(f"/campaigns/{world.cid}/lists", body, token=world.admin.token).body
    assert voters["crm_settings"] == {"van": {"db_mode": 0}}
    inherited = api.post(
        f"/campaigns/{world.cid}/lists",
        {"name": "After", "rows": [{"external_id": "1003"}]},
        token=world.admin.token,
    ).body
    assert inherited["crm_settings"] == {"van": {"db_mode": 1}}  # the key's, when it came
    from tests.helpers import list_row

    reports = {}
    for name, list_id in (("unknown", unknown), ("voters", voters["list_id"])):
        reports[name] = api.post(
            f"/campaigns/{world.cid}/actions/{world.aid}/reports",
            {"list_row_id": list_row(list_id), "result": "not_home"},
            token=world.admin.token,
        ).body["report_id"]
    reports["same"] = api.post(
        f"/campaigns/{world.cid}/actions/{world.aid}/reports",
        {"list_row_id": list_row(inherited["list_id"]), "result": "not_home"},
        token=world.admin.token,
    ).body["report_id"]
    stream.deliver("crm_sync_consumer")
    states = {name: world.state_of(r, "van") for name, r in reports.items()}
    assert states["unknown"]["state"] == "skipped"
    assert "MyVoters or MyCampaign" in states["unknown"]["last_error"]
    assert states["voters"]["state"] == "skipped"
    assert "MyVoters ids" in states["voters"]["last_error"]
    assert states["same"]["state"] == "synced"
    assert [van_id for van_id, _ in fakes["van"].canvass_responses] == [1003]


def test_a_list_database_mode_must_be_zero_or_one(api, fakes):
    world = World(api, fakes, [])
    body = {"name": "L", "van_db_mode": 2, "rows": [{"external_id": "1"}]}
    reply = api.post(f"/campaigns/{world.cid}/lists", body, token=world.admin.token)
    assert reply.status == 400 and reply.body["Field"] == "van_db_mode"
