"""Staff grants (main table, under the campaign they open: CAMPAIGN#<cid> / GRANT#<gid>).

Grant ids are time-ordered, and no grant lasts longer than `LONGEST`, so the grants that
could still be live are one short key range: a staff read costs one small query however
many grants the campaign has had.
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.dal.common import id_floor, iso, new_id, now, paged_query
from chalicelib.dal.models import GrantModel
from chalicelib.domain.paging import Page
from chalicelib.domain.privacy import StaffGrant
from chalicelib.errors import NotFound

LONGEST = timedelta(hours=72)


def _pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _grant(item: GrantModel) -> StaffGrant:
    return StaffGrant(
        campaign_id=item.campaign_id,
        grant_id=item.grant_id,
        staff_user_id=item.staff_user_id,
        staff_name=item.staff_name,
        reason=item.reason,
        granted_by=item.granted_by,
        granted_at=item.granted_at,
        expires_at=item.expires_at,
        revoked_at=item.revoked_at,
        revoked_by=item.revoked_by,
        accesses=int(item.accesses or 0),
    )


def create_grant(
    campaign_id: str,
    *,
    staff_user_id: str,
    staff_name: str,
    reason: str,
    hours: int,
    granted_by: str,
) -> StaffGrant:
    if not 1 <= hours <= LONGEST.total_seconds() // 3600:
        raise ValueError("a grant lasts 1 to 72 hours")
    start = now()
    grant_id = new_id()
    item = GrantModel(
        _pk(campaign_id),
        f"GRANT#{grant_id}",
        entity="staff_grant",
        campaign_id=campaign_id,
        grant_id=grant_id,
        staff_user_id=staff_user_id,
        staff_name=staff_name,
        reason=reason,
        granted_by=granted_by,
        granted_at=iso(start),
        expires_at=iso(start + timedelta(hours=hours)),
        accesses=0,
        created_at=iso(start),
        updated_at=iso(start),
        updated_by=granted_by,
    )
    item.save(condition=GrantModel.pk.does_not_exist())
    return _grant(item)


def live_grant(campaign_id: str, staff_user_id: str) -> StaffGrant | None:
    """The staff member's live grant to this campaign, if any (strongly consistent: a
    revocation counts from the next read)."""
    moment = now()
    stamp = iso(moment)
    for item in GrantModel.query(
        _pk(campaign_id),
        range_key_condition=GrantModel.sk.between(f"GRANT#{id_floor(moment - LONGEST)}", "GRANT#~"),
        filter_condition=(GrantModel.staff_user_id == staff_user_id)
        & (GrantModel.expires_at > stamp)
        & GrantModel.revoked_at.does_not_exist(),
        consistent_read=True,
    ):
        return _grant(item)
    return None


def list_grants(campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    """Every grant to the campaign, newest first."""
    return paged_query(
        GrantModel,
        _pk(campaign_id),
        scope=f"grants:{campaign_id}",
        limit=limit,
        cursor=cursor,
        convert=_grant,
        range_key_condition=GrantModel.sk.startswith("GRANT#"),
        newest_first=True,
    )


def grants_of_staff(campaign_id: str, staff_user_id: str) -> list[StaffGrant]:
    """The staff member's grants to the campaign that could still be live."""
    moment = now()
    return [
        _grant(item)
        for item in GrantModel.query(
            _pk(campaign_id),
            range_key_condition=GrantModel.sk.between(
                f"GRANT#{id_floor(moment - LONGEST)}", "GRANT#~"
            ),
            filter_condition=GrantModel.staff_user_id == staff_user_id,
            consistent_read=True,
        )
    ]


def revoke_grant(campaign_id: str, grant_id: str, actor: str) -> StaffGrant:
    """End a grant at once. Ending one already ended (or expired) changes nothing."""
    item = GrantModel(_pk(campaign_id), f"GRANT#{grant_id}")
    stamp = iso(now())
    try:
        item.update(
            actions=[
                GrantModel.revoked_at.set(stamp),
                GrantModel.revoked_by.set(actor),
                GrantModel.updated_at.set(stamp),
                GrantModel.updated_by.set(actor),
            ],
            condition=GrantModel.pk.exists()
            & GrantModel.revoked_at.does_not_exist()
            & (GrantModel.expires_at > stamp),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        try:
            found = GrantModel.get(_pk(campaign_id), f"GRANT#{grant_id}", consistent_read=True)
        except GrantModel.DoesNotExist:
            raise NotFound("no such grant") from None
        return _grant(found)
    return _grant(item)


def count_access(campaign_id: str, grant_id: str) -> None:
    try:
        GrantModel(_pk(campaign_id), f"GRANT#{grant_id}").update(
            actions=[GrantModel.accesses.add(1)], condition=GrantModel.pk.exists()
        )
    except UpdateError as exc:  # erased meanwhile: nothing to count on
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
