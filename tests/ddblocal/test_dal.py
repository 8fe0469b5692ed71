"""The data layer on DynamoDB Local, AWS's own engine: what is stored and what comes back.

Each test starts from empty tables (fixture `ddb`). Where a test checks what is stored, it
reads the item with a plain, strongly consistent GetItem through boto3, not through the
data layer's own models.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib import config
from chalicelib.dal import actions, campaigns, common, ops, sessions, users
from chalicelib.dal.models import ActionModel
from chalicelib.domain.actions import Action, Question, Response
from chalicelib.domain.campaigns import Campaign, JoinCode, Membership, Role
from chalicelib.domain.paging import Page
from chalicelib.domain.people import Session, User
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables

# --------------------------------------------------------------------------- helpers


def stored(table: Any, pk: str, sk: str | None = None) -> dict[str, Any] | None:
    """The item as DynamoDB holds it (strongly consistent read), or None."""
    key = {"pk": pk} if sk is None else {"pk": pk, "sk": sk}
    item: dict[str, Any] | None = table.get_item(Key=key, ConsistentRead=True).get("Item")
    return item


def make_user(user_id: str, name: str | None = None, phone: str | None = None) -> User:
    return users.create_user(user_id, f"{user_id}@example.org", name or user_id.title(), phone)


def make_campaign(campaign_id: str = "c1", creator: str = "founder") -> tuple[Campaign, User]:
    founder = make_user(creator)
    return campaigns.create_campaign(campaign_id, f"Campaign {campaign_id}", founder), founder


def add_volunteer(campaign_id: str, user_id: str) -> Membership:
    membership, created = campaigns.add_member(campaign_id, make_user(user_id), Role.VOLUNTEER)
    assert created
    return membership


def add_admin(campaign_id: str, user_id: str, actor: str = "founder") -> Membership:
    add_volunteer(campaign_id, user_id)
    return campaigns.change_role(campaign_id, user_id, Role.ADMIN, actor)


def admin_state(campaign_id: str) -> tuple[int, int]:
    """(admin_count on the campaign item, admin memberships actually stored)."""
    campaign = campaigns.get_campaign(campaign_id)
    assert campaign is not None
    members = all_items(lambda c: campaigns.list_members(campaign_id, limit=100, cursor=c))
    return campaign.admin_count, sum(1 for m in members if m.role == Role.ADMIN)


QUESTIONS = [
    Question(
        "q1",
        "Will you vote?",
        [Response("r1", "Yes"), Response("r2", "No"), Response("r3", "Unsure")],
    ),
    Question("q2", "Any comments?", []),
]


def new_action(
    campaign_id: str,
    action_id: str,
    *,
    status: str = "live",
    instructions: str | None = "Knock on every door",
    questions: list[Question] | None = None,
    by: str = "founder",
) -> Action:
    stamp = common.now_iso()
    return actions.create_action(
        Action(
            campaign_id=campaign_id,
            action_id=action_id,
            type="survey",
            title=f"Action {action_id}",
            instructions=instructions,
            status=status,
            questions=QUESTIONS if questions is None else questions,
            created_at=stamp,
            created_by=by,
            updated_at=stamp,
            updated_by=by,
        )
    )


def pages(fetch: Callable[[str | None], Page], max_pages: int = 100) -> list[list[Any]]:
    """Every page of a list, following cursors until there is none."""
    result: list[list[Any]] = []
    cursor = None
    while True:
        page = fetch(cursor)
        result.append(page.items)
        if page.next_cursor is None:
            return result
        assert page.next_cursor != cursor, "a cursor that points at itself never ends"
        cursor = page.next_cursor
        assert len(result) < max_pages, "paging does not end"


def all_items(fetch: Callable[[str | None], Page]) -> list[Any]:
    return [item for page in pages(fetch) for item in page]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads: each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing call hung"
    return outcomes


def without(item: dict[str, Any] | None, *names: str) -> dict[str, Any]:
    assert item is not None
    return {k: v for k, v in item.items() if k not in names}


BOOKKEEPING = ("updated_at", "updated_by")

# --------------------------------------------------------------------------- users


def test_create_user_stores_the_profile_and_get_user_reads_it(ddb: Tables) -> None:
    user = users.create_user("u1", "ann@example.org", "Ann", "+15551234567")

    assert user == User(
        user_id="u1",
        email="ann@example.org",
        name="Ann",
        phone="+15551234567",
        is_staff=False,
        staff_trained_at=None,
        mfa_enabled=False,
        contacts_count=0,
    )
    assert users.get_user("u1") == user
    item = stored(ddb.main, "USER#u1", "PROFILE")
    assert item is not None
    assert item["entity"] == "user"
    assert item["email"] == "ann@example.org"
    assert item["phone"] == "+15551234567"
    assert item["is_staff"] is False
    assert item["mfa_enabled"] is False
    assert item["contacts_count"] == 0
    assert item["updated_by"] == "u1"
    assert item["created_at"] == item["updated_at"]
    assert item["created_at"].endswith("Z")


def test_create_user_without_phone_stores_no_phone(ddb: Tables) -> None:
    make_user("u1")

    assert "phone" not in (stored(ddb.main, "USER#u1", "PROFILE") or {})
    user = users.get_user("u1")
    assert user is not None
    assert user.phone is None


def test_duplicate_create_user_raises_conflict_and_keeps_the_first(ddb: Tables) -> None:
    first = users.create_user("u1", "first@example.org", "First", None)

    with pytest.raises(Conflict):
        users.create_user("u1", "second@example.org", "Second", "+15550000000")

    assert users.get_user("u1") == first
    item = stored(ddb.main, "USER#u1", "PROFILE")
    assert item is not None
    assert item["email"] == "first@example.org"
    assert "phone" not in item


def test_get_user_of_nobody_is_none(ddb: Tables) -> None:
    assert users.get_user("nobody") is None


def test_set_staff_flags_and_unflags_a_user(ddb: Tables) -> None:
    make_user("u1")

    flagged = users.set_staff("u1", "2024-05-01T00:00:00.000Z", "boss")

    assert flagged.is_staff is True
    assert flagged.staff_trained_at == "2024-05-01T00:00:00.000Z"
    assert users.get_user("u1") == flagged
    item = stored(ddb.main, "USER#u1", "PROFILE")
    assert item is not None
    assert item["is_staff"] is True
    assert item["updated_by"] == "boss"
    assert item["email"] == "u1@example.org"  # the rest of the profile is untouched

    unflagged = users.set_staff("u1", None, "boss2")

    assert unflagged.is_staff is False
    assert unflagged.staff_trained_at is None
    item = stored(ddb.main, "USER#u1", "PROFILE")
    assert item is not None
    assert item["is_staff"] is False
    assert "staff_trained_at" not in item
    assert item["updated_by"] == "boss2"


def test_set_staff_of_nobody_raises_not_found_and_creates_nothing(ddb: Tables) -> None:
    with pytest.raises(NotFound):
        users.set_staff("ghost", "2024-05-01T00:00:00.000Z", "boss")

    assert stored(ddb.main, "USER#ghost", "PROFILE") is None


def test_totp_enrolment_put_get_and_confirm(ddb: Tables) -> None:
    make_user("u1")
    assert users.get_totp("u1") is None

    users.put_totp("u1", "secret-enc-1")
    assert users.get_totp("u1") == ("secret-enc-1", False)
    totp = stored(ddb.main, "USER#u1", "TOTP")
    assert totp is not None
    assert totp["entity"] == "totp"
    assert totp["verified"] is False

    users.confirm_totp("u1", "secret-enc-1")

    assert users.get_totp("u1") == ("secret-enc-1", True)
    user = users.get_user("u1")
    assert user is not None
    assert user.mfa_enabled is True


def test_put_totp_again_restarts_enrolment(ddb: Tables) -> None:
    make_user("u1")
    users.put_totp("u1", "secret-enc-1")
    users.confirm_totp("u1", "secret-enc-1")

    users.put_totp("u1", "secret-enc-2")

    assert users.get_totp("u1") == ("secret-enc-2", False)


def test_confirm_totp_with_a_replaced_secret_changes_nothing(ddb: Tables) -> None:
    make_user("u1")
    users.put_totp("u1", "secret-enc-1")
    users.put_totp("u1", "secret-enc-2")  # a concurrent re-enrolment won
    before_user = stored(ddb.main, "USER#u1", "PROFILE")

    with pytest.raises(Conflict):
        users.confirm_totp("u1", "secret-enc-1")

    assert users.get_totp("u1") == ("secret-enc-2", False)
    assert stored(ddb.main, "USER#u1", "PROFILE") == before_user


def test_confirm_totp_is_all_or_nothing_when_the_profile_is_missing(ddb: Tables) -> None:
    users.put_totp("orphan", "secret-enc-1")  # no profile item

    with pytest.raises(Conflict):
        users.confirm_totp("orphan", "secret-enc-1")

    assert users.get_totp("orphan") == ("secret-enc-1", False)
    assert stored(ddb.main, "USER#orphan", "PROFILE") is None


def test_get_users_with_no_ids_is_empty(ddb: Tables) -> None:
    assert users.get_users([]) == {}


def test_get_users_returns_the_ones_that_exist_once_each(ddb: Tables) -> None:
    ann = make_user("ann")
    bob = make_user("bob")

    found = users.get_users(["ann", "ghost", "bob", "ann", "bob"])

    assert found == {"ann": ann, "bob": bob}


def test_get_users_beyond_one_batch_of_100_keys(ddb: Tables) -> None:
    made = {f"u{i:03d}": make_user(f"u{i:03d}") for i in range(130)}

    found = users.get_users([*made, "ghost"])

    assert found == made


# --------------------------------------------------------------------------- campaigns


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


# --------------------------------------------------------------------------- member lists


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


# --------------------------------------------------------------------------- cursors


def test_a_cursor_is_refused_by_any_other_list(ddb: Tables) -> None:
    make_campaign("c1", creator="a")
    make_campaign("c2", creator="b")
    for i in range(3):
        add_volunteer("c1", f"v{i}")
        add_volunteer("c2", f"w{i}")
        new_action("c1", f"A{i}")
    members_c1 = campaigns.list_members("c1", limit=1, cursor=None).next_cursor
    actions_c1 = actions.list_actions(
        "c1", live_only=False, include_deleted=False, limit=1, cursor=None
    ).next_cursor
    assert members_c1
    assert actions_c1

    with pytest.raises(InvalidInput):
        campaigns.list_members("c2", limit=1, cursor=members_c1)
    with pytest.raises(InvalidInput):
        actions.list_actions(
            "c1", live_only=False, include_deleted=False, limit=1, cursor=members_c1
        )
    with pytest.raises(InvalidInput):
        campaigns.list_members("c1", limit=1, cursor=actions_c1)
    for live_only, include_deleted in [(True, False), (False, True), (True, True)]:
        with pytest.raises(InvalidInput):
            actions.list_actions(
                "c1",
                live_only=live_only,
                include_deleted=include_deleted,
                limit=1,
                cursor=actions_c1,
            )
    # ...and still works where it belongs
    assert campaigns.list_members("c1", limit=1, cursor=members_c1).items


def test_a_tampered_cursor_is_refused(ddb: Tables) -> None:
    make_campaign("c1")
    for i in range(3):
        add_volunteer("c1", f"v{i}")
    cursor = campaigns.list_members("c1", limit=1, cursor=None).next_cursor
    assert cursor
    body, signature = cursor.split(".")
    other = common.encode_cursor(
        "members:c1", {"pk": {"S": "CAMPAIGN#c1"}, "sk": {"S": "MEMBER#v2"}}
    )
    assert other

    tampered = [
        ("A" if body[0] != "A" else "B") + body[1:] + "." + signature,
        body + "." + ("A" if signature[0] != "A" else "B") + signature[1:],
        other.split(".")[0] + "." + signature,  # another key with this cursor's signature
        body,  # no signature
        body + "." + signature + ".x",
        "not-a-cursor",
        ".",
        "!!!.###",
        common.encode_cursor("members:c1", ["not", "a", "key"]),  # type: ignore[arg-type]
    ]
    for bad in tampered:
        with pytest.raises(InvalidInput):
            campaigns.list_members("c1", limit=1, cursor=bad)


def test_a_cursor_signed_with_another_app_secret_is_refused(
    ddb: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")
    cursor = campaigns.list_members("c1", limit=1, cursor=None).next_cursor
    monkeypatch.setenv("APP_SECRET", "another-app-secret-that-is-long-enough-0123")
    config.reset()

    with pytest.raises(InvalidInput):
        campaigns.list_members("c1", limit=1, cursor=cursor)


def test_a_cursor_with_non_ascii_characters_is_refused(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(InvalidInput):
        campaigns.list_members("c1", limit=1, cursor="e30.\u00e9")


def test_no_cursor_and_an_empty_cursor_mean_the_first_page(ddb: Tables) -> None:
    make_campaign("c1")
    first = campaigns.list_members("c1", limit=5, cursor=None)
    assert campaigns.list_members("c1", limit=5, cursor="") == first
    assert common.encode_cursor("scope", None) is None
    assert common.encode_cursor("scope", {}) is None
    assert common.decode_cursor("scope", None) is None


def test_paged_query_newest_first(ddb: Tables) -> None:
    make_campaign("c1")
    for i in range(7):
        new_action("c1", f"A{i}")

    got = pages(
        lambda c: common.paged_query(
            ActionModel,
            "CAMPAIGN#c1",
            scope="test:newest",
            limit=3,
            cursor=c,
            convert=lambda item: item.action_id,
            range_key_condition=ActionModel.sk.startswith("ACTION#"),
            newest_first=True,
        )
    )

    assert [p for p in got if p] == [["A6", "A5", "A4"], ["A3", "A2", "A1"], ["A0"]]


def test_paged_query_with_a_limit_larger_than_the_list(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")

    page = campaigns.list_members("c1", limit=50, cursor=None)

    assert [m.user_id for m in page.items] == ["founder", "vic"]
    assert page.next_cursor is None


# --------------------------------------------------------------------------- actions


def test_create_action_stores_it_and_get_action_reads_it_back(ddb: Tables) -> None:
    make_campaign("c1")

    action = new_action("c1", "A1")

    assert actions.get_action("c1", "A1") == action
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert item is not None
    assert item["entity"] == "action"
    assert item["title"] == "Action A1"
    assert item["created_by"] == "founder"
    assert "deleted_at" not in item
    assert actions.get_action("c1", "nope") is None
    assert actions.get_action("nope", "A1") is None


def test_create_action_without_instructions_or_questions(ddb: Tables) -> None:
    make_campaign("c1")

    action = new_action("c1", "A1", instructions=None, questions=[])

    got = actions.get_action("c1", "A1")
    assert got == action
    assert got is not None
    assert got.instructions is None
    assert got.questions == []
    assert "instructions" not in (stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") or {})


def test_create_action_never_overwrites(ddb: Tables) -> None:
    make_campaign("c1")
    first = new_action("c1", "A1")

    with pytest.raises(PutError):
        new_action("c1", "A1", status="draft", instructions="other")

    assert actions.get_action("c1", "A1") == first


def test_update_action_sets_and_removes_fields(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    questions = [Question("q9", "New question", [Response("r9", "Maybe")])]

    updated = actions.update_action(
        "c1",
        "A1",
        {"title": "Call voters", "instructions": None, "questions": questions, "status": "closed"},
        "editor",
    )

    assert updated.title == "Call voters"
    assert updated.instructions is None
    assert updated.questions == questions
    assert updated.status == "closed"
    assert updated.updated_by == "editor"
    assert updated.created_by == "founder"
    assert actions.get_action("c1", "A1") == updated
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert item is not None
    assert "instructions" not in item


def test_update_action_of_nothing_raises_not_found_and_creates_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        actions.update_action("c1", "nope", {"title": "x"}, "editor")
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#nope") is None


def test_update_of_a_deleted_action_is_refused_and_changes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    actions.soft_delete_action("c1", "A1", "remover")
    before = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    with pytest.raises(Conflict):
        actions.update_action("c1", "A1", {"title": "x"}, "editor")

    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == before


def test_soft_delete_keeps_every_field_and_restore_brings_it_back_exactly(ddb: Tables) -> None:
    make_campaign("c1")
    original = new_action("c1", "A1")
    original_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    deleted = actions.soft_delete_action("c1", "A1", "remover")

    assert deleted.deleted
    assert deleted.deleted_by == "remover"
    assert deleted.updated_by == "remover"
    assert actions.get_action("c1", "A1") == deleted
    deleted_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    # a deleted action leaves the live index (its keys are bookkeeping), and keeps all else
    assert without(deleted_item, *BOOKKEEPING, "deleted_at", "deleted_by") == without(
        original_item, *BOOKKEEPING, "gsi1pk", "gsi1sk"
    )
    assert replace(deleted, updated_at="", updated_by="", deleted_at=None, deleted_by=None) == (
        replace(original, updated_at="", updated_by="")
    )

    restored = actions.restore_action("c1", "A1", "restorer")

    assert not restored.deleted
    assert restored.deleted_by is None
    assert restored.updated_by == "restorer"
    assert actions.get_action("c1", "A1") == restored
    restored_item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")
    assert without(restored_item, *BOOKKEEPING) == without(original_item, *BOOKKEEPING)
    assert {k: v for k, v in asdict(restored).items() if k not in BOOKKEEPING} == {
        k: v for k, v in asdict(original).items() if k not in BOOKKEEPING
    }


def test_soft_delete_twice_changes_nothing_the_second_time(ddb: Tables) -> None:
    make_campaign("c1")
    new_action("c1", "A1")
    first = actions.soft_delete_action("c1", "A1", "first")
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    second = actions.soft_delete_action("c1", "A1", "second")

    assert second == first
    assert second.deleted_by == "first"
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == item


def test_restore_of_a_live_action_changes_nothing(ddb: Tables) -> None:
    make_campaign("c1")
    action = new_action("c1", "A1")
    item = stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1")

    assert actions.restore_action("c1", "A1", "restorer") == action
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#A1") == item


def test_soft_delete_and_restore_of_nothing_raise_not_found(ddb: Tables) -> None:
    make_campaign("c1")
    with pytest.raises(NotFound):
        actions.soft_delete_action("c1", "nope", "remover")
    with pytest.raises(NotFound):
        actions.restore_action("c1", "nope", "restorer")
    assert stored(ddb.main, "CAMPAIGN#c1", "ACTION#nope") is None


def test_list_actions_filters(ddb: Tables) -> None:
    make_campaign("c1")
    add_volunteer("c1", "vic")  # members are not actions
    new_action("c1", "A1", status="live")
    new_action("c1", "A2", status="draft")
    new_action("c1", "A3", status="live")
    new_action("c1", "A4", status="closed")
    new_action("c1", "A5", status="draft")
    actions.soft_delete_action("c1", "A3", "remover")
    actions.soft_delete_action("c1", "A5", "remover")

    def ids(live_only: bool, include_deleted: bool) -> list[str]:
        page = actions.list_actions(
            "c1", live_only=live_only, include_deleted=include_deleted, limit=50, cursor=None
        )
        assert page.next_cursor is None
        return [a.action_id for a in page.items]

    assert ids(False, False) == ["A1", "A2", "A4"]
    assert ids(True, False) == ["A1"]
    assert ids(False, True) == ["A1", "A2", "A3", "A4", "A5"]
    assert ids(True, True) == ["A1", "A3"]
    assert actions.list_actions(
        "other", live_only=False, include_deleted=True, limit=5, cursor=None
    ) == Page(items=[], next_cursor=None)


@pytest.mark.parametrize(
    ("live_only", "include_deleted"), [(False, False), (True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize("limit", [1, 3, 4])
def test_list_actions_pages_with_filters_return_every_match_exactly_once(
    ddb: Tables, live_only: bool, include_deleted: bool, limit: int
) -> None:
    make_campaign("c1")
    statuses = ["live", "draft", "closed", "live"]
    expected = []
    for i in range(17):
        status = statuses[i % len(statuses)]
        new_action("c1", f"A{i:02d}", status=status)
        deleted = i % 3 == 0
        if deleted:
            actions.soft_delete_action("c1", f"A{i:02d}", "remover")
        if (include_deleted or not deleted) and (not live_only or status == "live"):
            expected.append(f"A{i:02d}")

    got = pages(
        lambda c: actions.list_actions(
            "c1", live_only=live_only, include_deleted=include_deleted, limit=limit, cursor=c
        )
    )

    assert [a.action_id for p in got for a in p] == expected
    assert all(len(p) == limit for p in got[:-1]), [len(p) for p in got]
    assert len(got[-1]) <= limit


# --------------------------------------------------------------------------- sessions


def test_token_hash_is_sha256_hex() -> None:
    assert sessions.token_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_a_users_sessions_are_listed_and_ended_together(ddb: Tables) -> None:
    for jti in ("a", "b", "c"):
        sessions.create_session(jti, "u9", "u9@example.org", mfa=False, refresh_token=jti, ttl=60)
    sessions.create_session("x", "other", "o@example.org", mfa=False, refresh_token="x", ttl=60)
    assert sorted(s.session_id for s in sessions.user_sessions("u9")) == ["a", "b", "c"]
    assert sessions.revoke_user_sessions("u9", keep="b") == 2
    assert [s.session_id for s in sessions.user_sessions("u9")] == ["b"]
    assert sessions.get_session("x") is not None and not sessions.get_session("x").revoked


def test_create_session_stores_the_session_and_its_refresh_pointer(ddb: Tables) -> None:
    before = int(time.time())

    session = sessions.create_session(
        "jti-1", "u1", "ann@example.org", mfa=False, refresh_token="refresh-secret", ttl=3600
    )

    assert session == Session(
        session_id="jti-1",
        user_id="u1",
        username="ann@example.org",
        mfa=False,
        revoked=False,
        expires_at=session.expires_at,
        created_at=session.created_at,
        last_seen_at=session.created_at,
    )
    assert session.created_at
    assert before + 3600 <= session.expires_at <= int(time.time()) + 3600
    assert sessions.get_session("jti-1") == session
    assert sessions.session_for_refresh_token("refresh-secret") == session
    assert sessions.session_for_refresh_token("other-token") is None
    assert sessions.get_session("jti-unknown") is None
    item = stored(ddb.sessions, "SESSION#jti-1")
    pointer = stored(ddb.sessions, f"REFRESH#{sessions.token_hash('refresh-secret')}")
    assert item is not None
    assert pointer is not None
    assert item["kind"] == "session"
    assert item["expires_at"] == session.expires_at  # the table's TTL attribute
    assert pointer["kind"] == "refresh"
    assert pointer["session_id"] == "jti-1"
    assert pointer["expires_at"] == session.expires_at
    everything = ddb.sessions.scan(ConsistentRead=True)["Items"]
    assert "refresh-secret" not in repr(everything)  # only its hash is stored


def test_mark_mfa(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=False, refresh_token="rt", ttl=3600)

    sessions.mark_mfa("jti-1")

    assert sessions.get_session("jti-1").mfa is True  # type: ignore[union-attr]


def test_mark_mfa_of_a_revoked_or_missing_session_writes_nothing(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=False, refresh_token="rt", ttl=3600)
    sessions.revoke("jti-1")

    with pytest.raises(NotAuthenticated):
        sessions.mark_mfa("jti-1")
    with pytest.raises(NotAuthenticated):
        sessions.mark_mfa("jti-missing")

    assert sessions.get_session("jti-1").mfa is False  # type: ignore[union-attr]
    assert stored(ddb.sessions, "SESSION#jti-missing") is None


def test_revoke_is_immediate_and_idempotent(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)
    sessions.create_session("jti-2", "u1", "ann", mfa=True, refresh_token="rt2", ttl=3600)

    assert sessions.revoke("jti-1") is True

    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]
    assert sessions.session_for_refresh_token("rt").revoked is True  # type: ignore[union-attr]
    assert sessions.get_session("jti-2").revoked is False  # type: ignore[union-attr]
    item = stored(ddb.sessions, "SESSION#jti-1")
    assert item is not None
    assert item["revoked"] is True
    assert item["mfa"] is True  # nothing else changed

    assert sessions.revoke("jti-1") is False
    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]


def test_revoke_of_nothing_is_false_and_creates_nothing(ddb: Tables) -> None:
    assert sessions.revoke("jti-missing") is False
    assert stored(ddb.sessions, "SESSION#jti-missing") is None


def test_concurrent_revokes_report_one_revocation(ddb: Tables) -> None:
    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)

    outcomes = race(*[lambda: sessions.revoke("jti-1")] * 6)

    assert sorted(outcomes) == [False] * 5 + [True]


def test_session_reads_are_strongly_consistent(
    ddb: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection.base import Connection

    sessions.create_session("jti-1", "u1", "ann", mfa=True, refresh_token="rt", ttl=3600)
    sessions.revoke("jti-1")
    seen: list[dict[str, Any]] = []
    dispatch = Connection.dispatch

    def spy(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        if operation_name == "GetItem":
            seen.append(operation_kwargs)
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", spy)

    assert sessions.get_session("jti-1").revoked is True  # type: ignore[union-attr]
    assert seen
    assert all(kwargs.get("ConsistentRead") is True for kwargs in seen), seen


def test_challenge_put_get_and_consume_once(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)

    assert sessions.get_challenge("challenge-token") == ("u1", "ann", "refresh-enc")
    assert sessions.get_challenge("other-token") is None
    item = stored(ddb.sessions, f"MFA#{sessions.token_hash('challenge-token')}")
    assert item is not None
    assert item["kind"] == "mfa_challenge"
    assert item["secret_enc"] == "refresh-enc"
    assert "challenge-token" not in repr(item)

    assert sessions.consume_challenge("challenge-token") is True
    assert sessions.consume_challenge("challenge-token") is False
    assert sessions.get_challenge("challenge-token") is None
    assert stored(ddb.sessions, f"MFA#{sessions.token_hash('challenge-token')}") is None


def test_an_expired_challenge_is_not_returned(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=-1)
    assert sessions.get_challenge("challenge-token") is None


def test_a_challenge_allows_the_allowed_attempts_then_none(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)
    key = f"MFA#{sessions.token_hash('challenge-token')}"

    for attempt in range(1, sessions.MFA_CHALLENGE_ATTEMPTS):
        assert sessions.reserve_challenge_attempt("challenge-token") is True
        assert sessions.get_challenge("challenge-token") == ("u1", "ann", "refresh-enc")
        assert (stored(ddb.sessions, key) or {})["attempts"] == attempt

    assert sessions.reserve_challenge_attempt("challenge-token") is True  # the last one
    assert sessions.get_challenge("challenge-token") is None
    assert sessions.reserve_challenge_attempt("challenge-token") is False
    assert (stored(ddb.sessions, key) or {})["attempts"] == sessions.MFA_CHALLENGE_ATTEMPTS


def test_reserving_an_attempt_on_nothing_creates_nothing(ddb: Tables) -> None:
    assert sessions.reserve_challenge_attempt("no-such-challenge") is False
    assert stored(ddb.sessions, f"MFA#{sessions.token_hash('no-such-challenge')}") is None


def test_concurrent_attempts_on_a_challenge_get_the_allowed_number_exactly(ddb: Tables) -> None:
    sessions.put_challenge("challenge-token", "u1", "ann", "refresh-enc", ttl=300)

    outcomes = race(*[lambda: sessions.reserve_challenge_attempt("challenge-token")] * 12)

    assert sorted(outcomes) == [False] * 7 + [True] * sessions.MFA_CHALLENGE_ATTEMPTS
    assert sessions.get_challenge("challenge-token") is None


def test_concurrent_second_factor_attempts_of_an_account_get_the_streak_exactly(
    ddb: Tables,
) -> None:
    outcomes = race(*[lambda: ops.reserve_mfa_attempt("u1", most=10, window=900, daily=30)] * 20)
    allowed = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if isinstance(o, int)]
    assert len(allowed) == 10 and len(refused) == 10
    assert all(0 < wait <= 900 for wait in refused)
    assert ops.mfa_streak("u1") == 10
    ops.mfa_attempt_succeeded("u1")
    assert ops.mfa_streak("u1") == 0
    assert ops.reserve_mfa_attempt("u1", most=10, window=900, daily=30) is None


def test_the_days_cap_holds_across_streaks(ddb: Tables) -> None:
    for _ in range(3):
        assert ops.reserve_mfa_attempt("u2", most=10, window=900, daily=3) is None
    wait = ops.reserve_mfa_attempt("u2", most=10, window=900, daily=3)
    assert wait is not None and 0 < wait <= 86400
    assert ops.mfa_streak("u2") == 3  # the refused attempt was given back to the streak


def test_consume_challenge_succeeds_once_under_threads(ddb: Tables) -> None:
    for round_ in range(3):
        token = f"challenge-{round_}"
        sessions.put_challenge(token, "u1", "ann", "refresh-enc", ttl=300)

        outcomes = race(*[lambda t=token: sessions.consume_challenge(t)] * 8)

        assert sorted(outcomes) == [False] * 7 + [True]


# --------------------------------------------------------------------------- ops


def test_claim_totp_step_refuses_replays_and_older_steps(ddb: Tables) -> None:
    step = int(time.time()) // 30

    assert ops.claim_totp_step("u1", step) is True
    assert ops.claim_totp_step("u1", step) is False  # replay
    assert ops.claim_totp_step("u1", step - 1) is False  # older
    assert ops.claim_totp_step("u1", step + 1) is True
    assert ops.claim_totp_step("u1", step) is False
    assert ops.claim_totp_step("u2", step) is True  # per user

    item = stored(ddb.ops, "TOTP#u1", "LAST_STEP")
    assert item is not None
    assert item["value"] == step + 1


def test_claim_totp_step_under_threads_one_wins(ddb: Tables) -> None:
    step = int(time.time()) // 30

    outcomes = race(*[lambda: ops.claim_totp_step("u1", step)] * 8)

    assert sorted(outcomes) == [False] * 7 + [True]
    assert (stored(ddb.ops, "TOTP#u1", "LAST_STEP") or {})["value"] == step


def test_claim_totp_step_under_threads_with_different_steps_keeps_the_newest(
    ddb: Tables,
) -> None:
    step = int(time.time()) // 30
    steps = [step - 1, step, step + 1, step - 1, step, step + 1]

    outcomes = race(*[lambda s=s: ops.claim_totp_step("u1", s) for s in steps])

    assert outcomes.count(True) >= 1
    assert outcomes[2] is True or outcomes[5] is True  # one of the newest claims wins
    assert not (outcomes[2] and outcomes[5])
    assert (stored(ddb.ops, "TOTP#u1", "LAST_STEP") or {})["value"] == step + 1


def test_hit_counts_within_a_window(ddb: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    window_seconds = 60
    start = (int(time.time()) // window_seconds + 1) * window_seconds  # a window in the future
    clock = {"now": start + 10}
    monkeypatch.setattr(ops, "time", SimpleNamespace(time=lambda: clock["now"]))

    assert ops.hit("login", "ann@example.org", window_seconds) == (1, 50)
    clock["now"] = start + 30
    assert ops.hit("login", "ann@example.org", window_seconds) == (2, 30)
    assert ops.hit("login", "bob@example.org", window_seconds) == (1, 30)  # per key
    assert ops.hit("mfa", "ann@example.org", window_seconds) == (1, 30)  # per bucket
    clock["now"] = start + 59
    assert ops.hit("login", "ann@example.org", window_seconds) == (3, 1)

    window = start // window_seconds
    item = stored(ddb.ops, "RATE#login#ann@example.org", str(window))
    assert item is not None
    assert item["value"] == 3
    assert item["expires_at"] == start + window_seconds + 60

    clock["now"] = start + 60  # the next window starts from zero
    assert ops.hit("login", "ann@example.org", window_seconds) == (1, 60)


def test_hit_under_threads_counts_every_hit(ddb: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    now = (int(time.time()) // 60 + 1) * 60 + 5
    monkeypatch.setattr(ops, "time", SimpleNamespace(time=lambda: now))

    outcomes = race(*[lambda: ops.hit("login", "ann", 60)] * 10)

    assert sorted(count for count, _ in outcomes) == list(range(1, 11))
    assert (stored(ddb.ops, "RATE#login#ann", str(now // 60)) or {})["value"] == 10
