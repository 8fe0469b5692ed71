"""One request's membership and item in one call (`dal.common.get_together`), on DynamoDB
Local: what comes back, for items that exist and items that do not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chalicelib.dal import actions, campaigns, users
from chalicelib.dal.common import get_together
from chalicelib.domain.campaigns import Role

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
