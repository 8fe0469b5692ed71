"""A volunteer's synced contacts (main table, in the volunteer's own partition)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError

from chalicelib import aws, config, crypto
from chalicelib.dal import batch
from chalicelib.dal.common import now_iso, paged_query
from chalicelib.dal.db import failed_conditions, transaction
from chalicelib.dal.models import ContactModel, KeyModel, UserModel
from chalicelib.domain.contacts import Contact
from chalicelib.domain.paging import Page
from chalicelib.errors import NotFound


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


# What a sync has merged already, so that a phone sending its unchanged address book again
# costs a read of a few small items, not of every contact: fingerprints (FINGERPRINT_CHARS
# each, keyed with the user's data key, so shredding the key makes them meaningless) in
# DIGEST_SHARDS items beside the profile. A deleted contact moves the profile's
# `contacts_epoch`, and digests built under another epoch are not trusted: a contact deleted
# on the server and sent again is merged again.
DIGEST_SHARDS = 16
FINGERPRINT_CHARS = 16
MAX_DIGEST_CHARS = 300_000  # a shard beyond this is not kept (items hold 400 KB at most)
_DIGEST = "PROFILE#DIGEST#"


@dataclass
class SyncState:
    """What a sync starts from: the contacts counted, the digest's epoch and its shards."""

    contacts_count: int = 0
    epoch: int = 0
    shards: list[set[str]] = field(default_factory=lambda: [set() for _ in range(DIGEST_SHARDS)])

    def known(self, fingerprint: str) -> bool:
        return fingerprint in self.shards[shard_of(fingerprint)]


def shard_of(fingerprint: str) -> int:
    return ord(fingerprint[0]) % DIGEST_SHARDS


def sync_state(user_id: str) -> SyncState:
    """The profile's count and epoch and the digest built under that epoch: one strongly
    consistent Query of the profile and its digest items (a few KB)."""
    state = SyncState()
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": config.settings().main_table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :profile)",
        "ExpressionAttributeValues": {":pk": {"S": _pk(user_id)}, ":profile": {"S": "PROFILE"}},
        "ConsistentRead": True,
    }
    while True:
        page = aws.dynamodb().query(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for item in items:
        if item["sk"]["S"] == "PROFILE":
            state.contacts_count = int(item.get("contacts_count", {}).get("N", "0"))
            state.epoch = int(item.get("contacts_epoch", {}).get("N", "0"))
    for item in items:
        sk = item["sk"]["S"]
        if not sk.startswith(_DIGEST) or int(item.get("epoch", {}).get("N", "0")) != state.epoch:
            continue
        text = item.get("fingerprints", {}).get("S", "")
        shard = int(sk.removeprefix(_DIGEST))
        if 0 <= shard < DIGEST_SHARDS:
            state.shards[shard] = {
                text[i : i + FINGERPRINT_CHARS] for i in range(0, len(text), FINGERPRINT_CHARS)
            }
    return state


def save_digest(user_id: str, state: SyncState, added: Iterable[str]) -> None:
    """Add fingerprints to the digest (the shards they fall in, under the state's epoch).
    Two syncs at once may each keep only their own: a lost fingerprint costs a later
    sync a merge that changes nothing."""
    touched: set[int] = set()
    for fingerprint in added:
        shard = shard_of(fingerprint)
        state.shards[shard].add(fingerprint)
        touched.add(shard)
    stamp = now_iso()
    puts = []
    for shard in sorted(touched):
        text = "".join(sorted(state.shards[shard]))
        if len(text) > MAX_DIGEST_CHARS:
            continue
        puts.append(
            {
                "pk": {"S": _pk(user_id)},
                "sk": {"S": f"{_DIGEST}{shard:02d}"},
                "entity": {"S": "contact_digest"},
                "user_id": {"S": user_id},
                "epoch": {"N": str(state.epoch)},
                "fingerprints": {"S": text},
                "created_at": {"S": stamp},
                "updated_at": {"S": stamp},
                "updated_by": {"S": user_id},
            }
        )
    batch.write(config.settings().main_table, puts=puts)


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
                    UserModel.contacts_epoch.set(time.time_ns()),  # and the digest
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
    digests = [
        {"pk": {"S": pk}, "sk": {"S": f"{_DIGEST}{shard:02d}"}} for shard in range(DIGEST_SHARDS)
    ]
    batch.write(config.settings().main_table, deletes=[*keys, *digests])
    UserModel(pk, "PROFILE").update(
        actions=[
            UserModel.contacts_count.set(0),
            UserModel.counted_at.set(time.time_ns()),
            UserModel.contacts_epoch.set(time.time_ns()),
            UserModel.updated_at.set(now_iso()),
            UserModel.updated_by.set(user_id),
        ]
    )
    return len(keys)
