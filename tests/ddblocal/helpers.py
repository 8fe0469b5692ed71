"""What the data-layer tests on DynamoDB Local share: factories for users, campaigns and
actions, the stored item read back, every page of a list, calls raced in threads.

Each test starts from empty tables (fixture `ddb`). Where a test checks what is stored, it
reads the item with a plain, strongly consistent GetItem through boto3 (`stored`), not through
the data layer's own models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.dal import actions, campaigns, common, users
from chalicelib.domain.actions import Action, Question, Response
from chalicelib.domain.campaigns import Campaign, Membership, Role
from chalicelib.domain.paging import Page
from chalicelib.domain.people import User


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
