"""A volunteer's synced contacts (main table, in the volunteer's own partition)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError

from chalicelib import config, crypto
from chalicelib.dal import batch
from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.db import failed_conditions, transaction
from chalicelib.dal.models import ContactModel, KeyModel, UserModel
from chalicelib.domain import Contact, Page
from chalicelib.errors import NotFound


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


# A volunteer's contacts are encrypted with a data key of their own (envelope: KMS wraps
# it, the profile keeps it). Erasing the contacts removes that key first: every copy of
# them anywhere (a backup, a point-in-time restore) is unreadable from then on.


def _aad(user_id: str, contact_id: str) -> str:
    return f"contact:{user_id}:{contact_id}"


def contacts_key(user_id: str, *, create: bool = False) -> bytes | None:
    """The user's contacts key (None when they have none and `create` is False)."""
    try:
        wrapped = KeyModel.get(f"CONTACTS#{user_id}", consistent_read=True).wrapped
    except DoesNotExist:
        wrapped = None
    if wrapped:
        return crypto.unwrap_contacts_key(user_id, wrapped)
    if not create:
        return None
    key, wrapped = crypto.new_contacts_key(user_id)
    try:
        KeyModel(f"CONTACTS#{user_id}", wrapped=wrapped, created_at=now_iso()).save(
            condition=KeyModel.pk.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return contacts_key(user_id)  # another sync made one first: use theirs
    crypto.remember_contacts_key(user_id, wrapped, key)
    return key


def destroy_contacts_key(user_id: str) -> None:
    """Delete the user's data key for good (the keys table keeps no backup)."""
    KeyModel(f"CONTACTS#{user_id}").delete()
    crypto.forget_contacts_key(user_id)


def _contact(item: ContactModel, key: bytes | None) -> Contact | None:
    """The contact, or None when it cannot be read (its key was destroyed)."""
    if key is None or not item.sealed:
        return None
    try:
        fields = crypto.open_with(key, _aad(item.user_id, item.contact_id), item.sealed)
    except Exception:  # sealed under a destroyed key
        return None
    return Contact(
        contact_id=item.contact_id,
        name=str(fields["name"]),
        phones=[str(p) for p in fields["phones"]],
        emails=[str(e) for e in fields["emails"]],
        keys=[str(k) for k in item.keys or []],
    )


def all_contacts(user_id: str, key: bytes | None = None) -> list[Contact]:
    """Every contact of a user (one Query, paged by DynamoDB at 1 MB); `key`, when the
    caller holds it already, saves reading it again."""
    key = key or contacts_key(user_id)
    found = (
        _contact(item, key)
        for item in ContactModel.query(
            _pk(user_id), range_key_condition=ContactModel.sk.startswith("CONTACT#")
        )
    )
    return [c for c in found if c is not None]


def list_contacts(user_id: str, *, limit: int, cursor: str | None) -> Page:
    key = contacts_key(user_id)
    page = paged_query(
        ContactModel,
        _pk(user_id),
        scope=f"contacts:{user_id}",
        limit=limit,
        cursor=cursor,
        convert=lambda item: _contact(item, key),
        range_key_condition=ContactModel.sk.startswith("CONTACT#"),
    )
    return Page(items=[c for c in page.items if c is not None], next_cursor=page.next_cursor)


def get_contact(user_id: str, contact_id: str) -> Contact | None:
    try:
        item = ContactModel.get(_pk(user_id), f"CONTACT#{contact_id}")
    except DoesNotExist:
        return None
    return _contact(item, contacts_key(user_id))


def get_contacts(user_id: str, contact_ids: list[str]) -> dict[str, Contact]:
    """Several of the user's contacts by id (one BatchGetItem and the user's key)."""
    if not contact_ids:
        return {}
    key = contacts_key(user_id)
    found = {}
    for item in ContactModel.batch_get(
        [(_pk(user_id), f"CONTACT#{cid}") for cid in dict.fromkeys(contact_ids)]
    ):
        contact = _contact(item, key)
        if contact is not None:
            found[contact.contact_id] = contact
    return found


def save_contacts(
    user_id: str,
    contacts: Iterable[Contact],
    *,
    created: int,
    summary: dict[str, int],
    key: bytes | None = None,
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

    key = key or contacts_key(user_id, create=True)
    assert key is not None

    def items() -> Iterable[dict[str, Any]]:
        for contact in contacts:
            fields = {"name": contact.name, "phones": contact.phones, "emails": contact.emails}
            sealed = crypto.seal_with(key, _aad(user_id, contact.contact_id), fields)
            yield {
                **constant,
                "sk": {"S": f"CONTACT#{contact.contact_id}"},
                "contact_id": {"S": contact.contact_id},
                "sealed": {"S": sealed},
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
    """Erase every contact of a user for good; returns how many there were. The data key
    goes first: whatever copy of them remains anywhere is unreadable from that moment."""
    pk = _pk(user_id)
    destroy_contacts_key(user_id)
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
