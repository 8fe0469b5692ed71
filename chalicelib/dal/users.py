"""Users: profiles and TOTP enrolment (main table)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError

from chalicelib.dal.common import now_iso
from chalicelib.dal.db import conflicted, failed_conditions, transaction
from chalicelib.dal.models import TotpModel, UserModel
from chalicelib.domain.people import User
from chalicelib.errors import Conflict, NotFound


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _user(item: UserModel) -> User:
    return User(
        user_id=item.user_id,
        email=item.email,
        name=item.name,
        phone=item.phone,
        is_staff=bool(item.is_staff),
        staff_trained_at=item.staff_trained_at,
        mfa_enabled=bool(item.mfa_enabled),
        contacts_count=int(item.contacts_count or 0),
    )


def create_user(user_id: str, email: str, name: str, phone: str | None) -> User:
    stamp = now_iso()
    item = UserModel(
        _pk(user_id),
        "PROFILE",
        entity="user",
        user_id=user_id,
        email=email,
        name=name,
        phone=phone,
        is_staff=False,
        mfa_enabled=False,
        contacts_count=0,
        created_at=stamp,
        updated_at=stamp,
        updated_by=user_id,
    )
    try:
        item.save(condition=UserModel.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("this user already exists") from None
        raise
    return _user(item)


def delete_user(user_id: str) -> None:
    """Erase the profile and the TOTP enrolment (secret and recovery codes), each stamped
    first so the stream's removal names the user as the actor."""
    stamp = now_iso()
    for model, sk in ((TotpModel, "TOTP"), (UserModel, "PROFILE")):
        item = model(_pk(user_id), sk)
        try:
            item.update(
                actions=[model.updated_at.set(stamp), model.updated_by.set(user_id)],
                condition=model.pk.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue
            raise
        item.delete()


def get_user(user_id: str) -> User | None:
    try:
        return _user(UserModel.get(_pk(user_id), "PROFILE"))
    except DoesNotExist:
        return None


def set_staff(user_id: str, trained_at: str | None, actor: str) -> User:
    """Flag (or, with trained_at None, unflag) a user as platform staff."""
    item = UserModel(_pk(user_id), "PROFILE")
    try:
        item.update(
            actions=[
                UserModel.is_staff.set(trained_at is not None),
                UserModel.staff_trained_at.set(trained_at)
                if trained_at
                else UserModel.staff_trained_at.remove(),
                UserModel.updated_at.set(now_iso()),
                UserModel.updated_by.set(actor),
            ],
            condition=UserModel.pk.exists(),
        )
    except Exception as exc:  # UpdateError on a missing user
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound("no such user") from None
        raise
    return _user(item)


def put_totp(user_id: str, secret_enc: str) -> None:
    """Start (or restart) enrolment: the secret is stored encrypted, not yet verified."""
    stamp = now_iso()
    TotpModel(
        _pk(user_id),
        "TOTP",
        entity="totp",
        user_id=user_id,
        secret_enc=secret_enc,
        verified=False,
        created_at=stamp,
        updated_at=stamp,
        updated_by=user_id,
    ).save()


def set_recovery_hashes(user_id: str, hashes: set[str]) -> None:
    """Replace the user's recovery codes (enrolled TOTP only)."""
    try:
        TotpModel(_pk(user_id), "TOTP").update(
            actions=[
                TotpModel.recovery_hashes.set(hashes),
                TotpModel.updated_at.set(now_iso()),
                TotpModel.updated_by.set(user_id),
            ],
            condition=TotpModel.verified == True,  # noqa: E712
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("enrol TOTP first (POST /me/mfa/totp)") from None
        raise


def use_recovery_hash(user_id: str, code_hash: str) -> bool:
    """Spend one recovery code: True once, for the one request that does."""
    try:
        TotpModel(_pk(user_id), "TOTP").update(
            actions=[
                TotpModel.recovery_hashes.delete({code_hash}),
                TotpModel.updated_at.set(now_iso()),
                TotpModel.updated_by.set(user_id),
            ],
            condition=TotpModel.recovery_hashes.contains(code_hash),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_totp(user_id: str) -> tuple[str, bool] | None:
    """(encrypted secret, verified) or None when the user never enrolled."""
    try:
        item = TotpModel.get(_pk(user_id), "TOTP")
    except DoesNotExist:
        return None
    return item.secret_enc, bool(item.verified)


def confirm_totp(user_id: str, secret_enc: str) -> None:
    """Mark enrolment verified and MFA enabled, in one transaction.

    The condition on the secret makes sure the code was checked against the
    secret that is still stored (a concurrent re-enrolment wins).
    """
    stamp = now_iso()
    try:
        _confirm(user_id, secret_enc, stamp)
    except TransactWriteError as exc:
        if any(failed_conditions(exc)) or conflicted(exc):
            raise Conflict("TOTP enrolment changed meanwhile; start again") from None
        raise


def _confirm(user_id: str, secret_enc: str, stamp: str) -> None:
    with transaction() as tx:
        tx.update(
            TotpModel(_pk(user_id), "TOTP"),
            actions=[
                TotpModel.verified.set(True),
                TotpModel.updated_at.set(stamp),
                TotpModel.updated_by.set(user_id),
            ],
            condition=TotpModel.secret_enc == secret_enc,
        )
        tx.update(
            UserModel(_pk(user_id), "PROFILE"),
            actions=[
                UserModel.mfa_enabled.set(True),
                UserModel.updated_at.set(stamp),
                UserModel.updated_by.set(user_id),
            ],
            condition=UserModel.pk.exists(),
        )


def get_users(user_ids: list[str], *, consistent: bool = False) -> dict[str, User]:
    """Several profiles by id (BatchGetItem)."""
    keys = [(_pk(uid), "PROFILE") for uid in dict.fromkeys(user_ids)]
    return {u.user_id: _user(u) for u in UserModel.batch_get(keys, consistent_read=consistent)}


def reset_mfa(user_id: str, actor: str) -> bool:
    """Take the user's second factor away (TOTP secret and recovery codes), so they enrol
    again at their next sign-in. The enrolment is stamped first, so its removal names
    `actor`. False when they had none."""
    stamp = now_iso()
    totp = TotpModel(_pk(user_id), "TOTP")
    try:
        totp.update(
            actions=[TotpModel.updated_at.set(stamp), TotpModel.updated_by.set(actor)],
            condition=TotpModel.pk.exists(),
        )
        had = True
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        had = False
    if had:
        totp.delete()
    try:
        UserModel(_pk(user_id), "PROFILE").update(
            actions=[
                UserModel.mfa_enabled.set(False),
                UserModel.updated_at.set(stamp),
                UserModel.updated_by.set(actor),
            ],
            condition=UserModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no such user") from None
        raise
    return had
