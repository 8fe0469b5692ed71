"""Campaigns, memberships and join codes (main table)."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError

from chalicelib.dal.common import ItemKey, get_together, now_iso, paged_query
from chalicelib.dal.db import conflicted, failed_conditions, transaction
from chalicelib.dal.models import CampaignModel, JoinCodeModel, MemberModel, RemovedMemberModel
from chalicelib.domain.campaigns import Campaign, JoinCode, Membership, Role
from chalicelib.domain.paging import Page
from chalicelib.domain.people import User
from chalicelib.errors import Conflict, Forbidden, NotFound

_LAST_ADMIN = "a campaign always keeps at least one admin"
T = TypeVar("T")


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _campaign(item: CampaignModel) -> Campaign:
    return Campaign(
        campaign_id=item.campaign_id,
        name=item.name,
        settings=dict(item.settings or {}),
        admin_count=int(item.admin_count or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        deletion_grace_days=int(
            7 if item.deletion_grace_days is None else item.deletion_grace_days
        ),
    )


def _membership(item: MemberModel) -> Membership:
    return Membership(
        campaign_id=item.campaign_id,
        user_id=item.user_id,
        role=Role(item.role),
        name=item.name,
        email=item.email,
        reports_count=int(item.reports_count or 0),
        created_at=item.created_at,
    )


def _member_item(campaign_id: str, user: User, role: Role, actor: str, stamp: str) -> MemberModel:
    return MemberModel(
        _pk(campaign_id),
        f"MEMBER#{user.user_id}",
        entity="member",
        gsi1pk=f"USER#{user.user_id}",
        gsi1sk=f"CAMPAIGN#{campaign_id}",
        campaign_id=campaign_id,
        user_id=user.user_id,
        role=role.value,
        name=user.name,
        email=user.email,
        reports_count=0,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )


def create_campaign(campaign_id: str, name: str, creator: User) -> Campaign:
    """The campaign and its first admin membership, in one transaction."""
    stamp = now_iso()
    campaign = CampaignModel(
        _pk(campaign_id),
        "META",
        entity="campaign",
        campaign_id=campaign_id,
        name=name,
        settings={},
        admin_count=1,
        created_at=stamp,
        updated_at=stamp,
        updated_by=creator.user_id,
    )
    with transaction() as tx:
        tx.save(campaign, condition=CampaignModel.pk.does_not_exist())
        tx.save(
            _member_item(campaign_id, creator, Role.ADMIN, creator.user_id, stamp),
            condition=MemberModel.pk.does_not_exist(),
        )
    return _campaign(campaign)


def campaign_key(campaign_id: str) -> ItemKey[Campaign]:
    return ItemKey(CampaignModel, _pk(campaign_id), "META", _campaign)


def get_membership_and(
    campaign_id: str, user_id: str, key: ItemKey[T]
) -> tuple[Membership | None, T | None]:
    """The caller's membership (strongly consistent, as `get_membership`) and the item
    the request is about, in one call."""
    membership = ItemKey(MemberModel, _pk(campaign_id), f"MEMBER#{user_id}", _membership)
    found, item = get_together(membership, key)
    return found, item


def get_campaign(campaign_id: str) -> Campaign | None:
    try:
        return _campaign(CampaignModel.get(_pk(campaign_id), "META"))
    except DoesNotExist:
        return None


def get_campaigns(campaign_ids: list[str]) -> dict[str, Campaign]:
    """Several campaigns by id (BatchGetItem)."""
    keys = [(_pk(cid), "META") for cid in dict.fromkeys(campaign_ids)]
    return {c.campaign_id: _campaign(c) for c in CampaignModel.batch_get(keys)}


def update_campaign(
    campaign_id: str, *, name: str | None, settings: dict[str, Any] | None, actor: str
) -> Campaign:
    item = CampaignModel(_pk(campaign_id), "META")
    actions: list[Any] = [
        CampaignModel.updated_at.set(now_iso()),
        CampaignModel.updated_by.set(actor),
    ]
    if name is not None:
        actions.append(CampaignModel.name.set(name))
    if settings is not None:
        actions.append(CampaignModel.settings.set(settings))
    try:
        item.update(actions=actions, condition=CampaignModel.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no such campaign") from None
        raise
    return _campaign(item)


def get_membership(campaign_id: str, user_id: str) -> Membership | None:
    """Strongly consistent: a role change or removal counts from the next request."""
    try:
        return _membership(
            MemberModel.get(_pk(campaign_id), f"MEMBER#{user_id}", consistent_read=True)
        )
    except DoesNotExist:
        return None


def list_members(campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    return paged_query(
        MemberModel,
        _pk(campaign_id),
        scope=f"members:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_membership,
        range_key_condition=MemberModel.sk.startswith("MEMBER#"),
    )


def admins(campaign_id: str) -> list[Membership]:
    """Every admin of the campaign (their e-mails are where campaign notices go)."""
    return [
        _membership(item)
        for item in MemberModel.query(
            _pk(campaign_id),
            range_key_condition=MemberModel.sk.startswith("MEMBER#"),
            filter_condition=MemberModel.role == Role.ADMIN.value,
        )
    ]


def set_deletion_grace(campaign_id: str, days: int, actor: str) -> Campaign:
    """The contract's grace period before a requested erasure (an operator's setting)."""
    item = CampaignModel(_pk(campaign_id), "META")
    try:
        item.update(
            actions=[
                CampaignModel.deletion_grace_days.set(days),
                CampaignModel.updated_at.set(now_iso()),
                CampaignModel.updated_by.set(actor),
            ],
            condition=CampaignModel.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no such campaign") from None
        raise
    return _campaign(item)


def list_user_memberships(user_id: str) -> list[Membership]:
    """Every membership of a user (Query on gsi1)."""
    return [
        _membership(item)  # type: ignore[arg-type]
        for item in MemberModel.gsi1.query(
            f"USER#{user_id}", range_key_condition=MemberModel.gsi1sk.startswith("CAMPAIGN#")
        )
    ]


def _removed_key(campaign_id: str, user_id: str) -> tuple[str, str]:
    return _pk(campaign_id), f"REMOVED#{user_id}"


def add_member(
    campaign_id: str, user: User, role: Role, *, code: str | None = None
) -> tuple[Membership, bool]:
    """Add a membership unless there is one: (membership, created).

    One transaction: the member is written only if they were not removed from the
    campaign (until an admin readmits them), and, joining by `code`, only if the code
    is live, not revoked and not used up; the code's use is counted with it."""
    stamp = now_iso()
    item = _member_item(campaign_id, user, role, user.user_id, stamp)
    removed_pk, removed_sk = _removed_key(campaign_id, user.user_id)
    try:
        with transaction() as tx:
            tx.condition_check(
                RemovedMemberModel,
                removed_pk,
                removed_sk,
                condition=RemovedMemberModel.pk.does_not_exist(),
            )
            tx.save(item, condition=MemberModel.pk.does_not_exist())
            if role == Role.ADMIN:
                tx.update(
                    CampaignModel(_pk(campaign_id), "META"),
                    actions=[
                        CampaignModel.admin_count.add(1),
                        CampaignModel.updated_at.set(stamp),
                        CampaignModel.updated_by.set(user.user_id),
                    ],
                    condition=CampaignModel.pk.exists(),
                )
            if code is not None:
                tx.update(
                    JoinCodeModel(f"JOINCODE#{code}", "META"),
                    actions=[
                        JoinCodeModel.uses.add(1),
                        JoinCodeModel.updated_at.set(stamp),
                        JoinCodeModel.updated_by.set(user.user_id),
                    ],
                    condition=(JoinCodeModel.campaign_id == campaign_id)
                    & JoinCodeModel.revoked_at.does_not_exist()
                    & (JoinCodeModel.expires_at > stamp)
                    & (
                        JoinCodeModel.max_uses.does_not_exist()
                        | (JoinCodeModel.uses < JoinCodeModel.max_uses)
                    ),
                )
    except TransactWriteError as exc:
        failed = failed_conditions(exc)
        removed, member = [*failed, False, False][:2]
        if member:
            existing = get_membership(campaign_id, user.user_id)
            if existing is not None:
                return existing, False
        if removed:
            raise Forbidden(
                "an admin removed you from this campaign; ask one to readmit you",
                reason="removed_from_campaign",
            ) from None
        if any(failed):
            raise NotFound("no such join code, or it has expired") from None
        raise
    return _membership(item), True


def readmit(campaign_id: str, user_id: str, actor: str) -> None:
    """Lift a removed member's bar (stamped with the admin first, for the audit)."""
    removed_pk, removed_sk = _removed_key(campaign_id, user_id)
    item = RemovedMemberModel(removed_pk, removed_sk)
    try:
        item.update(
            actions=[
                RemovedMemberModel.updated_at.set(now_iso()),
                RemovedMemberModel.updated_by.set(actor),
            ],
            condition=RemovedMemberModel.pk.exists(),
        )
        item.delete(condition=RemovedMemberModel.pk.exists())
    except (UpdateError, DeleteError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no removed member with that id") from None
        raise


def change_role(campaign_id: str, user_id: str, role: Role, actor: str) -> Membership:
    """Change a member's role, keeping the campaign's admin count exact.

    The admin count lives on the campaign item and moves in the same transaction,
    with a condition that it stays at one or more: no check-then-act race can
    leave a campaign without an admin.
    """
    current = get_membership(campaign_id, user_id)
    if current is None:
        raise NotFound("no such member")
    if current.role == role:
        return current
    stamp = now_iso()
    delta = 1 if role == Role.ADMIN else -1
    campaign_condition = CampaignModel.pk.exists()
    if delta < 0:
        campaign_condition &= CampaignModel.admin_count > 1
    try:
        with transaction() as tx:
            tx.update(
                MemberModel(_pk(campaign_id), f"MEMBER#{user_id}"),
                actions=[
                    MemberModel.role.set(role.value),
                    MemberModel.updated_at.set(stamp),
                    MemberModel.updated_by.set(actor),
                ],
                condition=MemberModel.role == current.role.value,
            )
            tx.update(
                CampaignModel(_pk(campaign_id), "META"),
                actions=[
                    CampaignModel.admin_count.add(delta),
                    CampaignModel.updated_at.set(stamp),
                    CampaignModel.updated_by.set(actor),
                ],
                condition=campaign_condition,
            )
    except TransactWriteError as exc:
        _raise_member_conflict(exc, last_admin_at=1 if delta < 0 else None)
    updated = get_membership(campaign_id, user_id)
    if updated is None:  # removed between the write and the read
        raise NotFound("no such member")
    return updated


def remove_member(campaign_id: str, user_id: str, actor: str, *, bar: bool = True) -> None:
    """End a membership; unless `bar` is False (the member leaving on their own), the
    removed member may not rejoin until readmitted."""
    current = get_membership(campaign_id, user_id)
    if current is None:
        raise NotFound("no such member")
    # Stamp the remover first, so the stream's REMOVE record names the actor; in a
    # transaction that checks the removal may go ahead, so a refused one writes nothing.
    try:
        with transaction() as tx:
            if current.role == Role.ADMIN:
                tx.condition_check(
                    CampaignModel, _pk(campaign_id), "META", condition=CampaignModel.admin_count > 1
                )
            tx.update(
                MemberModel(_pk(campaign_id), f"MEMBER#{user_id}"),
                actions=[MemberModel.updated_at.set(now_iso()), MemberModel.updated_by.set(actor)],
                condition=MemberModel.role == current.role.value,
            )
    except TransactWriteError as exc:
        _raise_member_conflict(exc, last_admin_at=0 if current.role == Role.ADMIN else None)
    removed_pk, removed_sk = _removed_key(campaign_id, user_id)
    stamp = now_iso()
    barred = RemovedMemberModel(
        removed_pk,
        removed_sk,
        entity="removed_member",
        campaign_id=campaign_id,
        user_id=user_id,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    try:
        with transaction() as tx:  # items run: deletes, puts, updates
            tx.delete(
                MemberModel(_pk(campaign_id), f"MEMBER#{user_id}"),
                condition=MemberModel.role == current.role.value,
            )
            if bar:
                tx.save(barred)
            if current.role == Role.ADMIN:
                tx.update(
                    CampaignModel(_pk(campaign_id), "META"),
                    actions=[
                        CampaignModel.admin_count.add(-1),
                        CampaignModel.updated_at.set(now_iso()),
                        CampaignModel.updated_by.set(actor),
                    ],
                    condition=CampaignModel.admin_count > 1,
                )
    except TransactWriteError as exc:
        admin_at = (2 if bar else 1) if current.role == Role.ADMIN else None
        _raise_member_conflict(exc, last_admin_at=admin_at)


def _raise_member_conflict(exc: TransactWriteError, *, last_admin_at: int | None) -> NoReturn:
    """Translate a cancelled membership transaction; `last_admin_at` is the index of
    the item whose condition keeps one admin, if the transaction had one."""
    failed = failed_conditions(exc)
    if last_admin_at is not None and len(failed) > last_admin_at and failed[last_admin_at]:
        raise Conflict(_LAST_ADMIN) from None
    if any(failed) or conflicted(exc):
        raise Conflict("the member changed meanwhile; try again") from None
    raise exc


def _join_code(item: JoinCodeModel) -> JoinCode:
    return JoinCode(
        code=item.code,
        campaign_id=item.campaign_id,
        expires_at=item.expires_at,
        created_at=item.created_at,
        created_by=item.created_by or item.updated_by,
        uses=int(item.uses or 0),
        max_uses=None if item.max_uses is None else int(item.max_uses),
        revoked_at=item.revoked_at,
    )


def create_join_code(
    code: str, campaign_id: str, expires_at: str, actor: str, max_uses: int | None = None
) -> JoinCode:
    stamp = now_iso()
    item = JoinCodeModel(
        f"JOINCODE#{code}",
        "META",
        entity="join_code",
        gsi1pk=f"JOINCODES#{campaign_id}",
        gsi1sk=f"{stamp}#{code}",
        code=code,
        campaign_id=campaign_id,
        expires_at=expires_at,
        created_by=actor,
        uses=0,
        max_uses=max_uses,
        created_at=stamp,
        updated_at=stamp,
        updated_by=actor,
    )
    item.save(condition=JoinCodeModel.pk.does_not_exist())
    return _join_code(item)


def get_join_code(code: str) -> JoinCode | None:
    try:
        item = JoinCodeModel.get(f"JOINCODE#{code}", "META")
    except DoesNotExist:
        return None
    return _join_code(item)


def list_join_codes(campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    """The campaign's join codes, newest first (revoked and expired ones too)."""
    return paged_query(
        JoinCodeModel,
        f"JOINCODES#{campaign_id}",
        scope=f"joincodes:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_join_code,
        index=JoinCodeModel.gsi1,
        newest_first=True,
    )


def revoke_join_code(campaign_id: str, code: str, actor: str) -> None:
    """The code stops working at once; NotFound for a code that is not this campaign's."""
    stamp = now_iso()
    try:
        JoinCodeModel(f"JOINCODE#{code}", "META").update(
            actions=[
                JoinCodeModel.revoked_at.set(stamp),
                JoinCodeModel.updated_at.set(stamp),
                JoinCodeModel.updated_by.set(actor),
            ],
            condition=(JoinCodeModel.campaign_id == campaign_id)
            & JoinCodeModel.revoked_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        found = get_join_code(code)
        if found is None or found.campaign_id != campaign_id:
            raise NotFound("no such join code") from None
