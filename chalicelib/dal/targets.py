"""Targets: a volunteer's own contacts that a campaign's ready lists hold ("these friends of
yours are ones the campaign wants reached"), kept in the volunteer's partition and computed
in the background when contacts, lists or memberships change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib import config
from chalicelib.dal import batch
from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.models import ContactModel, TargetModel
from chalicelib.domain.paging import Page


@dataclass(frozen=True)
class Target:
    user_id: str
    campaign_id: str
    contact_id: str
    list_ids: frozenset[str]
    reported: bool


def _sk(campaign_id: str, contact_id: str) -> str:
    return f"TARGET#{campaign_id}#{contact_id}"


def _target(item: TargetModel) -> Target:
    return Target(
        user_id=item.user_id,
        campaign_id=item.campaign_id,
        contact_id=item.contact_id,
        list_ids=frozenset(item.list_ids or ()),
        reported=bool(item.reported),
    )


def put(
    user_id: str, campaign_id: str, contact_id: str, list_ids: set[str], *, reported: bool
) -> None:
    """The contact is on these lists of the campaign (the whole item, written at once)."""
    stamp = now_iso()
    TargetModel(
        f"USER#{user_id}",
        _sk(campaign_id, contact_id),
        entity="target",
        gsi1pk=f"TARGETS#{campaign_id}",
        gsi1sk=f"{user_id}#{contact_id}",
        user_id=user_id,
        campaign_id=campaign_id,
        contact_id=contact_id,
        list_ids=list_ids,
        reported=reported,
        created_at=stamp,
        updated_at=stamp,
        updated_by="targets",
    ).save()


def drop(user_id: str, pairs: Iterable[tuple[str, str]]) -> None:
    """No longer targets: (campaign id, contact id) pairs (absent ones are no matter)."""
    batch.write(
        config.settings().main_table,
        deletes=(
            {"pk": {"S": f"USER#{user_id}"}, "sk": {"S": _sk(cid, contact_id)}}
            for cid, contact_id in dict.fromkeys(pairs)
        ),
    )


def page(user_id: str, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    return paged_query(
        TargetModel,
        f"USER#{user_id}",
        scope=f"targets:{user_id}:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_target,
        range_key_condition=TargetModel.sk.startswith(f"TARGET#{campaign_id}#"),
    )


def mark_reported(user_id: str, campaign_id: str, contact_id: str) -> None:
    """The volunteer reported on the contact in the campaign (one conditional write, made
    whether or not the contact is a target: the call tells nothing)."""
    try:
        TargetModel(f"USER#{user_id}", _sk(campaign_id, contact_id)).update(
            actions=[TargetModel.reported.set(True)], condition=TargetModel.pk.exists()
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def contact_keys(user_id: str) -> list[tuple[str, list[str]]]:
    """(contact id, match keys) of every contact of the user: keys only, no contact data."""
    return [
        (str(item.contact_id), [str(k) for k in item.keys or []])
        for item in ContactModel.query(
            f"USER#{user_id}",
            ContactModel.sk.startswith("CONTACT#"),
            attributes_to_get=["contact_id", "keys"],
        )
    ]


def campaign_target_keys(campaign_id: str, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` keys of the campaign's targets (for its erasure)."""
    return [
        (item.pk, item.sk) for item in TargetModel.gsi1.query(f"TARGETS#{campaign_id}", limit=limit)
    ]
