"""A volunteer's synced contacts (main table, in the volunteer's own partition)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import config
from chalicelib.dal import batch
from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.db import failed_conditions, transaction
from chalicelib.dal.models import ContactModel, UserModel
from chalicelib.domain import Contact, Page
from chalicelib.errors import NotFound


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _contact(item: ContactModel) -> Contact:
    return Contact(
        contact_id=item.contact_id,
        name=item.name,
        phones=[str(p) for p in item.phones or []],
        emails=[str(e) for e in item.emails or []],
        keys=[str(k) for k in item.keys or []],
    )


def all_contacts(user_id: str) -> list[Contact]:
    """Every contact of a user (one Query, paged by DynamoDB at 1 MB)."""
    return [
        _contact(item)
        for item in ContactModel.query(
            _pk(user_id), range_key_condition=ContactModel.sk.startswith("CONTACT#")
        )
    ]


def list_contacts(user_id: str, *, limit: int, cursor: str | None) -> Page:
    return paged_query(
        ContactModel,
        _pk(user_id),
        scope=f"contacts:{user_id}",
        limit=limit,
        cursor=cursor,
        convert=_contact,
        range_key_condition=ContactModel.sk.startswith("CONTACT#"),
    )


def get_contact(user_id: str, contact_id: str) -> Contact | None:
    try:
        return _contact(ContactModel.get(_pk(user_id), f"CONTACT#{contact_id}"))
    except DoesNotExist:
        return None


def save_contacts(
    user_id: str, contacts: Iterable[Contact], *, created: int, summary: dict[str, int]
) -> int:
    """Write contacts in batches, then move the user's count by `created` and record
    the sync's counts (`summary`: numbers only) on the profile.

    Returns the number of BatchWriteItem calls made.
    """
    stamp = now_iso()
    pk = _pk(user_id)
    # The attribute maps ContactModel serialises to, built directly (a pynamodb model
    # per contact costs more than the rest of a sync's work on our side).
    constant = {
        "pk": {"S": pk},
        "entity": {"S": "contact"},
        "created_at": {"S": stamp},
        "updated_at": {"S": stamp},
        "updated_by": {"S": user_id},
        "user_id": {"S": user_id},
    }

    def items() -> Iterable[dict[str, Any]]:
        for contact in contacts:
            yield {
                **constant,
                "sk": {"S": f"CONTACT#{contact.contact_id}"},
                "contact_id": {"S": contact.contact_id},
                "name": {"S": contact.name},
                "phones": {"L": [{"S": value} for value in contact.phones]},
                "emails": {"L": [{"S": value} for value in contact.emails]},
                "keys": {"L": [{"S": value} for value in contact.keys]},
            }

    calls = batch.write(config.settings().main_table, puts=items())
    actions: list[Any] = [
        UserModel.last_sync.set({**summary, "at": stamp}),
        UserModel.updated_at.set(stamp),
        UserModel.updated_by.set(user_id),
    ]
    if created:
        # Counted, not added: two syncs of the same new contacts would each add them.
        # The count that started last wins; a deletion since makes an older count stale.
        started = time.time_ns()
        total = ContactModel.count(
            pk, range_key_condition=ContactModel.sk.startswith("CONTACT#"), consistent_read=True
        )
        try:
            UserModel(pk, "PROFILE").update(
                actions=[
                    *actions,
                    UserModel.contacts_count.set(total),
                    UserModel.counted_at.set(started),
                ],
                condition=UserModel.counted_at.does_not_exist() | (UserModel.counted_at < started),
            )
            return calls + 2
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # else a later count is already there: keep it
    UserModel(pk, "PROFILE").update(actions=actions)
    return calls + 1


def delete_contact(user_id: str, contact_id: str) -> None:
    """Erase one contact for good, and count it out, in one transaction."""
    stamp = now_iso()
    try:
        with transaction() as tx:
            tx.delete(
                ContactModel(_pk(user_id), f"CONTACT#{contact_id}"),
                condition=ContactModel.pk.exists(),
            )
            tx.update(
                UserModel(_pk(user_id), "PROFILE"),
                actions=[
                    UserModel.contacts_count.add(-1),
                    UserModel.counted_at.set(time.time_ns()),  # an older count is stale now
                    UserModel.updated_at.set(stamp),
                    UserModel.updated_by.set(user_id),
                ],
            )
    except TransactWriteError as exc:
        if any(failed_conditions(exc)):
            raise NotFound("no such contact") from None
        raise


def delete_all_contacts(user_id: str) -> int:
    """Erase every contact of a user for good; returns how many there were."""
    pk = _pk(user_id)
    keys = [
        {"pk": {"S": pk}, "sk": {"S": item.sk}}
        for item in ContactModel.query(
            pk,
            range_key_condition=ContactModel.sk.startswith("CONTACT#"),
            attributes_to_get=["pk", "sk"],
        )
    ]
    batch.write(config.settings().main_table, deletes=keys)
    UserModel(pk, "PROFILE").update(
        actions=[
            UserModel.contacts_count.set(0),
            UserModel.counted_at.set(time.time_ns()),
            UserModel.updated_at.set(now_iso()),
            UserModel.updated_by.set(user_id),
        ]
    )
    return len(keys)
