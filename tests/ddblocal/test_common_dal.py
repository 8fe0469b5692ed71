"""Reading and paging on DynamoDB Local (`dal.common`): cursors that work only for their
own list, paged queries, and one request's membership and item in one call
(`get_together`): what comes back for items that exist and items that do not."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from chalicelib import config
from chalicelib.dal import actions, campaigns, common, users
from chalicelib.dal.common import get_together
from chalicelib.dal.models import ActionModel
from chalicelib.domain.campaigns import Role
from chalicelib.errors import InvalidInput
from tests.ddblocal.helpers import add_volunteer, make_campaign, new_action, pages

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


@pytest.fixture
def campaign(ddb: Tables) -> str:
    founder = users.create_user("founder", "founder@example.org", "Founder", None)
    campaigns.create_campaign("c1", "Save the Park", founder)
    return "c1"


def test_membership_and_campaign_come_back_together(campaign: str) -> None:
    membership, found = campaigns.get_membership_and(
        campaign, "founder", campaigns.campaign_key(campaign)
    )
    assert membership is not None and membership.role is Role.ADMIN
    assert found is not None and found.name == "Save the Park"


@pytest.mark.parametrize(
    ("user_id", "campaign_id", "member", "item"),
    [
        ("stranger", "c1", False, True),  # the item, but no membership
        ("founder", "c1-none", False, False),  # neither
    ],
)
def test_what_is_not_there_is_none(
    campaign: str, user_id: str, campaign_id: str, member: bool, item: bool
) -> None:
    membership, found = campaigns.get_membership_and(
        campaign_id, user_id, campaigns.campaign_key(campaign_id)
    )
    assert (membership is not None, found is not None) == (member, item)


def test_an_action_missing_beside_a_membership(campaign: str) -> None:
    membership, action = campaigns.get_membership_and(
        campaign, "founder", actions.action_key(campaign, "no-such-action")
    )
    assert membership is not None and action is None


def test_items_come_back_in_the_order_asked_whatever_dynamodb_returns(campaign: str) -> None:
    keys = [campaigns.campaign_key(campaign), campaigns.campaign_key("other")]
    assert [c and c.campaign_id for c in get_together(*keys)] == [campaign, None]
    assert [c and c.campaign_id for c in get_together(*reversed(keys))] == [None, campaign]


def test_a_change_is_seen_by_the_next_read(campaign: str) -> None:
    """Strongly consistent, as `get_membership` is: a removal counts from the next request."""
    volunteer = users.create_user("vol", "vol@example.org", "Vol", None)
    campaigns.add_member(campaign, volunteer, Role.VOLUNTEER)
    before, _ = campaigns.get_membership_and(campaign, "vol", campaigns.campaign_key(campaign))
    campaigns.remove_member(campaign, "vol", "founder")
    after, _ = campaigns.get_membership_and(campaign, "vol", campaigns.campaign_key(campaign))
    assert before is not None and after is None


def test_keys_dynamodb_leaves_unprocessed_are_asked_again(
    campaign: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.dal.models import MemberModel

    real = MemberModel._batch_get_page
    asked: list[int] = []

    def first_unprocessed(keys, **options):  # type: ignore[no-untyped-def]
        asked.append(len(keys))
        if len(asked) == 1:
            return [], keys  # throttled: nothing read, everything left over
        return real(keys, **options)

    monkeypatch.setattr(MemberModel, "_batch_get_page", first_unprocessed)
    membership, found = campaigns.get_membership_and(
        campaign, "founder", campaigns.campaign_key(campaign)
    )
    assert asked == [2, 2]
    assert membership is not None and found is not None


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


def _flip(text: str) -> str:
    return ("A" if text[0] != "A" else "B") + text[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, sig, other: _flip(body) + "." + sig, id="body-changed"),
        pytest.param(lambda body, sig, other: body + "." + _flip(sig), id="signature-changed"),
        # another key with this cursor's signature
        pytest.param(lambda body, sig, other: other.split(".")[0] + "." + sig, id="other-key"),
        pytest.param(lambda body, sig, other: body, id="no-signature"),
        pytest.param(lambda body, sig, other: body + "." + sig + ".x", id="extra-part"),
        pytest.param(lambda body, sig, other: "not-a-cursor", id="not-a-cursor"),
        pytest.param(lambda body, sig, other: ".", id="dot"),
        pytest.param(lambda body, sig, other: "!!!.###", id="not-base64"),
        pytest.param(
            lambda body, sig, other: common.encode_cursor("members:c1", ["not", "a", "key"]),  # type: ignore[arg-type]
            id="not-a-key",
        ),
    ],
)
def test_a_tampered_cursor_is_refused(ddb: Tables, tamper: Callable[[str, str, str], str]) -> None:
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

    bad = tamper(body, signature, other)
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
