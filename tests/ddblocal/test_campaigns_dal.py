"""Campaigns and their members on DynamoDB Local (`dal.campaigns`): all-or-nothing writes,
an exact admin count under concurrent changes, join codes and member lists."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import pytest
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.dal import campaigns, users
from chalicelib.domain.campaigns import JoinCode, Membership, Role
from chalicelib.domain.paging import Page
from chalicelib.errors import Conflict, Forbidden, NotFound
from tests.ddblocal.helpers import (
    add_admin,
    add_volunteer,
    admin_state,
    make_campaign,
    make_user,
    new_action,
    pages,
    race,
    stored,
)

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


def test_create_campaign_writes_the_campaign_and_its_admin_membership(ddb: Tables) -> None:
    founder = make_user("founder", name="Fay")

    campaign = campaigns.create_campaign("c1", "Save the Park", founder)

    assert campaign.campaign_id == "c1"
    assert campaign.name == "Save the Park"
    assert campaign.settings == {}
    assert campaign.admin_count == 1
    assert campaign.updated_by == "founder"
    assert campaigns.get_campaign("c1") == campaign
    meta = stored(ddb.main, "CAMPAIGN#c1", "META")
    assert meta is not None
    assert meta["entity"] == "campaign"
    assert meta["admin_count"] == 1
    member = stored(ddb.main, "CAMPAIGN#c1", "MEMBER#founder")
    assert member is not None
    assert member["entity"] == "member"
    assert member["role"] == "admin"
    assert member["gsi1pk"] == "USER#founder"
    assert member["gsi1sk"] == "CAMPAIGN#c1"
    assert member["name"] == "Fay"
    assert member["email"] == "founder@example.org"
    assert member["reports_count"] == 0
    assert member["created_at"] == meta["created_at"]  # one transaction, one stamp
    assert campaigns.get_membership("c1", "founder") == Membership(
        campaign_id="c1",
        user_id="founder",
        role=Role.ADMIN,
        name="Fay",
        email="founder@example.org",
        reports_count=0,
        created_at=meta["created_at"],
    )
    assert campaigns.list_user_memberships("founder") == [campaigns.get_membership("c1", "founder")]
    assert admin_state("c1") == (1, 1)


def test_create_campaign_with_a_taken_id_writes_nothing(ddb: Tables) -> None:
    make_campaign("c1", creator="founder")
    intruder = make_user("intruder")

    with pytest.raises(TransactWriteError):
        campaigns.create_campaign("c1", "Hijacked", intruder)

    campaign = campaigns.get_campaign("c1")
    assert campaign is not None
    assert campaign.name == "Campaign c1"
    assert campaigns.get_membership("c1", "intruder") is None
    assert admin_state("c1") == (1, 1)


def test_create_campaign_is_all_or_nothing(ddb: Tables) -> None:
    """If the membership cannot be written, neither is the campaign."""
    founder = make_user("founder")
    ddb.main.put_item(
        Item={"pk": "CAMPAIGN#c1", "sk": "MEMBER#founder", "entity": "member", "role": "volunteer"}
    )

    with pytest.raises(TransactWriteError):
        campaigns.create_campaign("c1", "Half made", founder)

    assert campaigns.get_campaign("c1") is None
    assert stored(ddb.main, "CAMPAIGN#c1", "META") is None


def test_get_campaign_of_nothing_is_none(ddb: Tables) -> None:
    assert campaigns.get_campaign("nope") is None


def test_get_campaigns(ddb: Tables) -> None:
    assert campaigns.get_campaigns([]) == {}
    one, _ = make_campaign("c1", creator="a")
    two, _ = make_campaign("c2", creator="b")

    assert campaigns.get_campaigns(["c2", "nope", "c1", "c2"]) == {"c1": one, "c2": two}


def test_update_campaign_changes_only_what_is_given(ddb: Tables) -> None:
    make_campaign("c1")

    renamed = campaigns.update_campaign("c1", name="New name", settings=None, actor="editor")

    assert renamed.name == "New name"
    assert renamed.settings == {}
    assert renamed.admin_count == 1
    assert renamed.updated_by == "editor"
    assert campaigns.get_campaign("c1") == renamed

    settings = {"crm": "van", "nested": {"list": [1, 2, 3], "flag": True}}
    configured = campaigns.update_campaign("c1", name=None, settings=settings, actor="editor2")

    assert configured.name == "New name"
    assert configured.settings == settings
    assert configured.updated_by == "editor2"
    assert campaigns.get_campaign("c1") == configured


def test_update_campaign_of_nothing_raises_not_found_and_creates_nothing(ddb: Tables) -> None:
    with pytest.raises(NotFound):
        campaigns.update_campaign("nope", name="x", settings=None, actor="editor")

    assert stored(ddb.main, "CAMPAIGN#nope", "META") is None


def test_add_member_adds_once(ddb: Tables) -> None:
    make_campaign("c1")
    vic = make_user("vic", name="Vic")

    membership, created = campaigns.add_member("c1", vic, Role.VOLUNTEER)

    assert created is True
    assert membership.role == Role.VOLUNTEER
    assert membership.name == "Vic"
    assert campaigns.get_membership("c1", "vic") == membership
    item = stored(ddb.main, "CAMPAIGN#c1", "MEMBER#vic")
    assert item is not None
    assert item["gsi1pk"] == "USER#vic"
    assert item["updated_by"] == "vic"

    again, created_again = campaigns.add_member("c1", vic, Role.ADMIN)

    assert created_again is False
    assert again == membership  # the existing membership, unchanged
    assert admin_state("c1") == (1, 1)


def test_add_member_as_admin_keeps_admin_count_exact(ddb: Tables) -> None:
    make_campaign("c1")

    campaigns.add_member("c1", make_user("second"), Role.ADMIN)

    assert admin_state("c1") == (2, 2)


def test_get_membership_of_non_member_is_none(ddb: Tables) -> None:
    make_campaign("c1")
    assert campaigns.get_membership("c1", "stranger") is None
    assert campaigns.get_membership("nope", "founder") is None


def test_list_user_memberships_uses_every_campaign_of_the_user(ddb: Tables) -> None:
    make_campaign("c1", creator="a")
    make_campaign("c2", creator="b")
    make_campaign("c3", creator="c")
    pat = make_user("pat")
    campaigns.add_member("c1", pat, Role.VOLUNTEER)
    campaigns.add_member("c3", pat, Role.VOLUNTEER)
    campaigns.change_role("c3", "pat", Role.ADMIN, "c")

    found = campaigns.list_user_memberships("pat")

    assert sorted((m.campaign_id, m.role) for m in found) == [
        ("c1", Role.VOLUNTEER),
        ("c3", Role.ADMIN),
    ]
    assert campaigns.list_user_memberships("nobody") == []


def test_change_role_promotes_and_demotes_keeping_admin_count_exact(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")

    promoted = campaigns.change_role("c1", "vic", Role.ADMIN, "founder")

    assert promoted.role == Role.ADMIN
    assert campaigns.get_membership("c1", "vic") == promoted
    assert admin_state("c1") == (2, 2)
    member = stored(ddb.main, "CAMPAIGN#c1", "MEMBER#vic")
    meta = stored(ddb.main, "CAMPAIGN#c1", "META")
    assert member is not None
    assert meta is not None
    assert member["updated_by"] == meta["updated_by"] == "founder"

    demoted = campaigns.change_role("c1", "founder", Role.VOLUNTEER, "vic")

    assert demoted.role == Role.VOLUNTEER
    assert admin_state("c1") == (1, 1)
    assert campaigns.get_membership("c1", "vic").role == Role.ADMIN  # type: ignore[union-attr]


def test_change_role_to_the_same_role_writes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")
    before = (
        stored(ddb.main, "CAMPAIGN#c1", "META"),
        stored(ddb.main, "CAMPAIGN#c1", "MEMBER#vic"),
    )

    same = campaigns.change_role("c1", "vic", Role.VOLUNTEER, "founder")

    assert same.role == Role.VOLUNTEER
    after = (stored(ddb.main, "CAMPAIGN#c1", "META"), stored(ddb.main, "CAMPAIGN#c1", "MEMBER#vic"))
    assert after == before


def test_change_role_of_non_member_raises_not_found(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        campaigns.change_role("c1", "stranger", Role.ADMIN, "founder")
    assert stored(ddb.main, "CAMPAIGN#c1", "MEMBER#stranger") is None
    assert admin_state("c1") == (1, 1)


def test_demoting_the_last_admin_is_refused_and_changes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")
    before = (
        stored(ddb.main, "CAMPAIGN#c1", "META"),
        stored(ddb.main, "CAMPAIGN#c1", "MEMBER#founder"),
    )

    with pytest.raises(Conflict, match="at least one admin"):
        campaigns.change_role("c1", "founder", Role.VOLUNTEER, "founder")

    after = (
        stored(ddb.main, "CAMPAIGN#c1", "META"),
        stored(ddb.main, "CAMPAIGN#c1", "MEMBER#founder"),
    )
    assert after == before
    assert admin_state("c1") == (1, 1)


def test_two_admins_demoting_themselves_at_once_exactly_one_wins(ddb: Tables) -> None:
    for n in range(5):  # several rounds: more chances for the two calls to overlap
        cid = f"c{n}"
        make_campaign(cid, creator=f"a{n}")
        add_admin(cid, f"b{n}", actor=f"a{n}")
        assert admin_state(cid) == (2, 2)

        outcomes = race(
            partial(campaigns.change_role, cid, f"a{n}", Role.VOLUNTEER, f"a{n}"),
            partial(campaigns.change_role, cid, f"b{n}", Role.VOLUNTEER, f"b{n}"),
        )

        winners = [o for o in outcomes if isinstance(o, Membership)]
        losers = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1, outcomes
        assert winners[0].role == Role.VOLUNTEER
        assert admin_state(cid) == (1, 1)


def test_concurrent_demotions_that_leave_an_admin_all_succeed(ddb: Tables) -> None:
    make_campaign("c1", creator="a")
    add_admin("c1", "b", actor="a")
    add_admin("c1", "c", actor="a")

    outcomes = race(
        lambda: campaigns.change_role("c1", "a", Role.VOLUNTEER, "a"),
        lambda: campaigns.change_role("c1", "b", Role.VOLUNTEER, "b"),
    )

    assert all(isinstance(o, Membership) for o in outcomes), outcomes
    assert admin_state("c1") == (1, 1)


def test_concurrent_promotions_of_one_member_count_once(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")

    outcomes = race(*[lambda: campaigns.change_role("c1", "vic", Role.ADMIN, "founder")] * 4)

    # Each call either promotes, finds vic already promoted, or loses the race (Conflict).
    assert all(isinstance(o, Membership | Conflict) for o in outcomes), outcomes
    assert any(isinstance(o, Membership) for o in outcomes)
    assert admin_state("c1") == (2, 2)


def test_remove_member_removes_a_volunteer(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")

    campaigns.remove_member("c1", "vic", "founder")

    assert campaigns.get_membership("c1", "vic") is None
    assert stored(ddb.main, "CAMPAIGN#c1", "MEMBER#vic") is None
    assert campaigns.list_user_memberships("vic") == []
    assert admin_state("c1") == (1, 1)
    assert users.get_user("vic") is not None  # the person stays, only the membership goes


def test_remove_member_removes_an_admin_and_counts_it(ddb: Tables) -> None:
    make_campaign("c1")
    add_admin("c1", "second")

    campaigns.remove_member("c1", "second", "founder")

    assert campaigns.get_membership("c1", "second") is None
    assert admin_state("c1") == (1, 1)
    meta = stored(ddb.main, "CAMPAIGN#c1", "META")
    assert meta is not None
    assert meta["updated_by"] == "founder"


def test_remove_member_of_non_member_raises_not_found(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        campaigns.remove_member("c1", "stranger", "founder")
    assert stored(ddb.main, "CAMPAIGN#c1", "MEMBER#stranger") is None


def test_removing_the_last_admin_is_refused(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")

    with pytest.raises(Conflict, match="at least one admin"):
        campaigns.remove_member("c1", "founder", "vic")

    assert campaigns.get_membership("c1", "founder").role == Role.ADMIN  # type: ignore[union-attr]
    assert admin_state("c1") == (1, 1)


def test_a_refused_removal_leaves_the_member_item_untouched(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")
    before = stored(ddb.main, "CAMPAIGN#c1", "MEMBER#founder")

    with pytest.raises(Conflict):
        campaigns.remove_member("c1", "founder", "vic")

    assert stored(ddb.main, "CAMPAIGN#c1", "MEMBER#founder") == before


def test_two_admins_removed_at_once_exactly_one_goes(ddb: Tables) -> None:
    make_campaign("c1", creator="a")
    add_admin("c1", "b", actor="a")

    outcomes = race(
        lambda: campaigns.remove_member("c1", "a", "b"),
        lambda: campaigns.remove_member("c1", "b", "a"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NoneType"], outcomes
    assert admin_state("c1") == (1, 1)
    remaining = [u for u in ("a", "b") if campaigns.get_membership("c1", u) is not None]
    assert len(remaining) == 1


def test_join_codes(ddb: Tables) -> None:
    make_campaign("c1")

    code = campaigns.create_join_code("ABC123", "c1", "2030-01-01T00:00:00.000Z", "founder")

    assert code == JoinCode(
        code="ABC123",
        campaign_id="c1",
        expires_at="2030-01-01T00:00:00.000Z",
        created_at=code.created_at,
        created_by="founder",
    )
    assert code.created_at and code.uses == 0 and code.max_uses is None and not code.revoked_at
    assert campaigns.get_join_code("ABC123") == code
    item = stored(ddb.main, "JOINCODE#ABC123", "META")
    assert item is not None
    assert item["entity"] == "join_code"
    assert item["updated_by"] == "founder"
    assert campaigns.get_join_code("NOPE") is None


def test_a_limited_code_admits_exactly_its_number_under_threads(ddb: Tables) -> None:
    make_campaign("c1")
    campaigns.create_join_code("LIM3", "c1", "2030-01-01T00:00:00.000Z", "founder", max_uses=3)
    people = [make_user(f"j{i}") for i in range(8)]

    outcomes = race(
        *[lambda p=p: campaigns.add_member("c1", p, Role.VOLUNTEER, code="LIM3") for p in people]
    )

    joined = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, NotFound)]
    assert len(joined) == 3 and len(refused) == 5, outcomes
    assert campaigns.get_join_code("LIM3").uses == 3


def test_a_removed_member_is_barred_until_readmitted(ddb: Tables) -> None:
    make_campaign("c1")
    vol = make_user("v1")
    campaigns.create_join_code("OPEN1", "c1", "2030-01-01T00:00:00.000Z", "founder")
    campaigns.add_member("c1", vol, Role.VOLUNTEER, code="OPEN1")
    campaigns.remove_member("c1", "v1", "founder")

    with pytest.raises(Forbidden) as barred:
        campaigns.add_member("c1", vol, Role.VOLUNTEER, code="OPEN1")
    assert barred.value.reason == "removed_from_campaign"
    assert campaigns.get_join_code("OPEN1").uses == 1  # the refused join used nothing up
    campaigns.readmit("c1", "v1", "founder")
    assert campaigns.add_member("c1", vol, Role.VOLUNTEER, code="OPEN1")[1] is True
    with pytest.raises(NotFound):
        campaigns.readmit("c1", "v1", "founder")


def test_a_revoked_code_admits_no_one(ddb: Tables) -> None:
    make_campaign("c1")
    campaigns.create_join_code("REV1", "c1", "2030-01-01T00:00:00.000Z", "founder")
    campaigns.revoke_join_code("c1", "REV1", "founder")
    campaigns.revoke_join_code("c1", "REV1", "founder")  # again: nothing changes
    with pytest.raises(NotFound):
        campaigns.add_member("c1", make_user("v2"), Role.VOLUNTEER, code="REV1")
    with pytest.raises(NotFound):
        campaigns.revoke_join_code("c2", "REV1", "someone")
    assert campaigns.list_join_codes("c1", limit=10, cursor=None).items[0].revoked_at


def test_a_join_code_is_never_overwritten(ddb: Tables) -> None:
    make_campaign("c1", creator="a")
    make_campaign("c2", creator="b")
    campaigns.create_join_code("ABC123", "c1", "2030-01-01T00:00:00.000Z", "a")

    with pytest.raises(PutError):
        campaigns.create_join_code("ABC123", "c2", "2031-01-01T00:00:00.000Z", "b")

    code = campaigns.get_join_code("ABC123")
    assert code is not None
    assert code.campaign_id == "c1"


def test_list_members_pages_return_every_member_exactly_once(ddb: Tables) -> None:
    make_campaign("c1")
    for i in range(11):
        add_volunteer("c1", f"v{i:02d}")
    new_action("c1", "A1")  # other items of the campaign are not members
    campaigns.create_join_code("CODE1", "c1", "2030-01-01T00:00:00.000Z", "founder")

    got = pages(lambda c: campaigns.list_members("c1", limit=5, cursor=c))

    assert [len(p) for p in got] == [5, 5, 2]
    ids = [m.user_id for p in got for m in p]
    assert ids == sorted(["founder", *(f"v{i:02d}" for i in range(11))])
    assert all(m.campaign_id == "c1" for p in got for m in p)


def test_list_members_when_the_last_page_is_exactly_full(ddb: Tables) -> None:
    make_campaign("c1")
    for i in range(5):
        add_volunteer("c1", f"v{i}")

    got = pages(lambda c: campaigns.list_members("c1", limit=3, cursor=c))

    ids = [m.user_id for p in got for m in p]
    assert sorted(ids) == sorted(["founder", "v0", "v1", "v2", "v3", "v4"])
    assert len(ids) == len(set(ids))
    assert all(len(p) == 3 for p in got[:2])
    # When a Query's Limit is reached exactly at the last item, AWS and DynamoDB Local
    # still return a LastEvaluatedKey, so the list ends with one empty page; moto returns
    # none. Either way nothing is repeated or lost.
    assert got[2:] in ([], [[]])


def test_list_members_of_an_unknown_campaign_is_empty(ddb: Tables) -> None:
    page = campaigns.list_members("nope", limit=10, cursor=None)
    assert page == Page(items=[], next_cursor=None)
