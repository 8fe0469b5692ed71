"""Crypto-shredding: a volunteer's contacts are encrypted under a data key of their own,
kept where no backup reaches. Erasing the contacts destroys the key first, so a copy of
the items taken before (what a backup or a point-in-time restore holds) reads as nothing."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.helpers import volunteer

NAMES = ["Ann Secret", "Bob Hidden"]
PHONES = ["2025550191", "2025550192"]


def _contacts_items(stack, user_id):
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    return [
        item
        for item in table.scan(ConsistentRead=True)["Items"]
        if item["pk"] == f"USER#{user_id}" and item["sk"].startswith("CONTACT#")
    ]


def _sync(api, vol):
    body = {"contacts": [{"name": n, "phones": [p]} for n, p in zip(NAMES, PHONES, strict=True)]}
    assert api.put("/me/contacts", body, token=vol.token).status == 200


def test_contacts_are_stored_encrypted_with_the_volunteers_own_key(api, stack):
    vol = volunteer(api)
    _sync(api, vol)
    items = _contacts_items(stack, vol.user_id)
    dumped = json.dumps(items, default=str)
    assert len(items) == 2
    for secret in [*NAMES, *PHONES, "+12025550191"]:
        assert secret not in dumped
    keys = boto3.resource("dynamodb").Table(stack["KEYS_TABLE"])
    stored = keys.get_item(Key={"pk": f"CONTACTS#{vol.user_id}"})["Item"]
    assert stored["wrapped"] and "Ann" not in str(stored)
    listed = sorted(c["name"] for c in api.get("/me/contacts", token=vol.token).body["items"])
    assert listed == NAMES


@pytest.mark.parametrize("erase", ["DELETE /me/contacts", "DELETE /me"])
def test_a_copy_taken_before_erasure_reads_as_nothing_after_it(api, stack, erase):
    from cryptography.exceptions import InvalidTag

    from chalicelib import crypto
    from chalicelib.dal import contacts as contacts_dal

    vol = volunteer(api)
    _sync(api, vol)
    backup = _contacts_items(stack, vol.user_id)  # what a backup holds
    assert len(backup) == 2
    if erase == "DELETE /me/contacts":
        assert api.delete("/me/contacts", token=vol.token).status == 204
    else:
        from tests.helpers import PASSWORD

        assert api.call("DELETE", "/me", {"password": PASSWORD}, token=vol.token).status == 204
    crypto.forget_contacts_key(vol.user_id)  # as a cold container would start
    # the backup is restored, item for item
    table = boto3.resource("dynamodb").Table(stack["MAIN_TABLE"])
    for item in backup:
        table.put_item(Item=item)
    assert contacts_dal.contacts_key(vol.user_id) is None  # the key is gone for good
    assert contacts_dal.all_contacts(vol.user_id) == []  # nothing decrypts
    keys = boto3.resource("dynamodb").Table(stack["KEYS_TABLE"])
    assert "Item" not in keys.get_item(Key={"pk": f"CONTACTS#{vol.user_id}"})
    # and a key made afterwards opens none of the old copies
    fresh = contacts_dal.contacts_key(vol.user_id, create=True)
    assert fresh is not None
    for item in backup:
        with pytest.raises(InvalidTag):
            crypto.open_with(fresh, f"contact:{vol.user_id}:{item['contact_id']}", item["sealed"])


def test_a_sync_costs_one_kms_call_at_most_with_a_warm_key(api, enforcer):
    vol = volunteer(api)
    _sync(api, vol)  # makes the key (one GenerateDataKey)
    enforcer.calls.clear()
    body = {"contacts": [{"name": f"N{i}", "phones": [f"+1202556{i:04d}"]} for i in range(200)]}
    assert api.put("/me/contacts", body, token=vol.token).status == 200
    kms = [c for c in enforcer.calls if c.action.startswith("kms:")]
    assert len(kms) <= 1
