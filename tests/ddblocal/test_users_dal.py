"""Users on DynamoDB Local (`dal.users`): profiles, staff flags, TOTP enrolment and batch reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chalicelib.dal import users
from chalicelib.domain.people import User
from chalicelib.errors import Conflict, NotFound
from tests.ddblocal.helpers import make_user, stored

if TYPE_CHECKING:
    from tests.ddblocal.conftest import Tables


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
