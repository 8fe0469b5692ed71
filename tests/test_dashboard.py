"""GET /campaigns/{cid}/stats: the dashboard, from kept counters, as an admin sees it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import admin_with_mfa, create_campaign, join, volunteer
from tests.test_crm_sync import World, van_world


def _stats(world: World) -> dict[str, Any]:
    reply = world.api.get(f"/campaigns/{world.cid}/stats", token=world.admin.token)
    assert reply.status == 200, reply
    return dict(reply.body)


def _sync_contacts(api, person, count: int) -> None:
    contacts = [{"name": f"Friend {i}", "phones": [f"+1202555{i:04d}"]} for i in range(count)]
    reply = api.put("/me/contacts", {"contacts": contacts}, token=person.token)
    assert reply.status == 200, reply


def test_the_dashboard_counts_members_contacts_reports_and_answers(api, fakes, stream):
    world = World(api, fakes, ["1001", "1002", "1003"])
    _sync_contacts(api, world.vol, 3)
    world.report("1001", "canvassed", world.yes)
    world.report("1002", "canvassed", world.no)
    world.report("1003", "not_home")
    stream.deliver("crm_sync_consumer")

    stats = _stats(world)
    assert stats["members"] == {"admins": 1, "volunteers": 1}
    assert stats["synced_contacts"] == 3
    assert stats["reports"] == {"total": 3, "by_result": {"canvassed": 2, "not_home": 1}}
    [action] = stats["actions"]
    assert (action["action_id"], action["title"], action["deleted"]) == (
        world.aid,
        "Measure A doors",
        False,
    )
    assert (action["reports"], action["by_result"]) == (3, {"canvassed": 2, "not_home": 1})
    [question] = action["questions"]
    assert question["question_id"] == world.qid
    assert [(r["text"], r["count"]) for r in question["responses"]] == [("Yes", 1), ("No", 1)]
    assert stats["sync"] == {"pending": 0, "synced": 0, "failed": 0, "skipped": 0}  # no CRM
    assert "Friend" not in str(stats)  # counts only: never a contact


def test_the_dashboard_follows_members_and_their_contacts(api, fakes, stream):
    world = World(api, fakes, [])
    _sync_contacts(api, world.vol, 4)
    second = volunteer(api, "second")
    join(api, world.admin, world.cid, second)
    _sync_contacts(api, second, 2)
    stream.deliver("crm_sync_consumer")
    stats = _stats(world)
    assert (stats["members"], stats["synced_contacts"]) == ({"admins": 1, "volunteers": 2}, 6)

    assert api.delete("/me/contacts", token=world.vol.token).status == 204
    reply = api.delete(f"/campaigns/{world.cid}/members/{second.user_id}", token=world.admin.token)
    assert reply.status == 204
    stream.deliver("crm_sync_consumer")
    stats = _stats(world)
    assert (stats["members"], stats["synced_contacts"]) == ({"admins": 1, "volunteers": 1}, 0)


def test_reconciling_again_moves_nothing(api, fakes, stream):
    from chalicelib.dal import stats as stats_dal
    from chalicelib.logic import stats

    world = World(api, fakes, [])
    _sync_contacts(api, world.vol, 5)
    records = stream.read()
    for _ in range(3):  # a batch delivered again, and again
        stream.deliver("crm_sync_consumer", records)
    stats.reconcile_members({(world.cid, world.vol.user_id)})
    assert not stats_dal.reconcile_member(world.cid, world.vol.user_id, member=True, contacts=5)
    assert _stats(world)["synced_contacts"] == 5


def test_the_dashboard_counts_each_reports_sync_state(api, fakes, stream):
    from chalicelib.logic import sync

    world = van_world(api, fakes)
    world.report("1001", "not_home", world.yes)
    world.report("1002", "refused")
    failed = world.report("9999", "not_home")  # not in VAN: fails, never created
    stream.deliver("crm_sync_consumer")
    assert world.state_of(failed, "van")["state"] == "failed"
    assert _stats(world)["sync"] == {"pending": 0, "synced": 2, "failed": 1, "skipped": 0}

    reply = api.post(f"/campaigns/{world.cid}/integrations/van/retry", token=world.admin.token)
    assert reply.status == 202
    assert _stats(world)["sync"] == {"pending": 1, "synced": 2, "failed": 0, "skipped": 0}
    sync.run_due()  # tried again: still not in VAN
    by_state: dict[str, int] = {}
    for record in world.sync_states():
        by_state[record["state"]] = by_state.get(record["state"], 0) + 1
    assert _stats(world)["sync"] == {"pending": 0, "skipped": 0, **by_state}


@pytest.mark.parametrize("who", ["volunteer", "outsider", "admin_without_mfa"])
def test_only_the_campaigns_admins_see_its_dashboard(api, who):
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = volunteer(api, who)
    if who == "volunteer":
        join(api, admin, cid, person)
    if who == "admin_without_mfa":
        join(api, admin, cid, person)  # signed in without a second factor
        promoted = api.patch(
            f"/campaigns/{cid}/members/{person.user_id}", {"role": "admin"}, token=admin.token
        )
        assert promoted.status == 200, promoted
    reply = api.get(f"/campaigns/{cid}/stats", token=person.token)
    expected = {"volunteer": 403, "outsider": 404, "admin_without_mfa": 403}[who]
    assert reply.status == expected, reply
    assert "members" not in reply.body


def test_a_report_cancelled_by_a_concurrent_transaction_is_written_once(
    api, fakes, stream, monkeypatch
):
    """Two reports on one action may race for the same counter item: the one DynamoDB
    cancels is written again, and counted once."""
    from pynamodb.exceptions import CancellationReason, TransactWriteError

    from chalicelib.dal import reports as reports_dal

    world = World(api, fakes, ["1001"])
    write = reports_dal._write_report
    cancelled: list[str] = []

    class Cancelled(TransactWriteError):  # as DynamoDB answers a transaction it cancelled
        cancellation_reasons = [None, None, CancellationReason(code="TransactionConflict")]

    def conflicting(report: Any) -> None:
        if not cancelled:
            cancelled.append(report.report_id)
            raise Cancelled("cancelled")
        write(report)

    monkeypatch.setattr(reports_dal, "_write_report", conflicting)
    report_id = world.report("1001", "canvassed")
    assert cancelled == [report_id]
    listed = api.get(f"/campaigns/{world.cid}/reports", token=world.admin.token).body["items"]
    assert [r["report_id"] for r in listed] == [report_id]
    assert _stats(world)["reports"] == {"total": 1, "by_result": {"canvassed": 1}}
