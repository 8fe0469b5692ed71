"""Targets: the volunteer's own contacts that the campaign's ready lists hold.

Kept, not computed per page: the page is one query of the volunteer's own partition (and
one read of those contacts and of the lists' states), whatever the size of the lists or
of the volunteer's contacts. They are recomputed in the background, per (campaign,
volunteer), through the import queue: when the volunteer's contacts change or they join
(the CRM-sync stream reader sends the message: no third reader on the stream), and for
every member when a list becomes ready. A list deleted or failed stops counting at once
(the page checks the lists' states). Nothing here is readable by an admin's route: the
items live in the volunteer's partition, and the campaign learns of a contact only when
the volunteer reports on it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.auth.policy import Permission
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import contacts as contacts_dal
from chalicelib.dal import lists as lists_dal
from chalicelib.dal import targets as targets_dal
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal

MEMBERS_PAGE = 200


def refresh(campaign_id: str, user_id: str) -> int:
    """Recompute the volunteer's targets in the campaign; how many there are."""
    if campaigns_dal.get_membership(campaign_id, user_id) is None:
        found: dict[str, set[str]] = {}
    else:
        found = {}
        for contact_id, keys in targets_dal.contact_keys(user_id):
            if not keys:
                continue
            matches = lists_dal.matches_for_keys(campaign_id, keys)
            lists = {m.list_id for m in matches if m is not None}
            if lists:
                found[contact_id] = lists
    existing: dict[str, bool] = {}  # contact id -> reported
    cursor = None
    while True:
        page = targets_dal.page(user_id, campaign_id, limit=200, cursor=cursor)
        existing |= {t.contact_id: t.reported for t in page.items}
        cursor = page.next_cursor
        if not cursor:
            break
    for contact_id, lists in found.items():
        targets_dal.put(
            user_id, campaign_id, contact_id, lists, reported=existing.get(contact_id, False)
        )
    targets_dal.drop(user_id, [(campaign_id, c) for c in set(existing) - set(found)])
    return len(found)


def members_of(campaign_id: str, cursor: str | None) -> tuple[list[str], str | None]:
    page = campaigns_dal.list_members(campaign_id, limit=MEMBERS_PAGE, cursor=cursor)
    return [m.user_id for m in page.items], page.next_cursor


def mine(
    principal: Principal, campaign_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's targets in the campaign: their own contacts' names, phones and
    e-mails, and whether they reported on each; nothing from the lists."""
    require(principal, campaign_id, Permission.FILE_REPORT)
    page = targets_dal.page(principal.user_id, campaign_id, limit=limit, cursor=cursor)
    targets = list(page.items)
    ready = lists_dal.ready_lists(campaign_id, [lid for t in targets for lid in t.list_ids])
    live = [t for t in targets if t.list_ids & ready]
    contacts = contacts_dal.get_contacts(principal.user_id, [t.contact_id for t in live])
    items = []
    for target in live:
        contact = contacts.get(target.contact_id)
        if contact is None:
            continue  # erased meanwhile: its target goes at the next refresh
        items.append(
            {
                "contact_id": contact.contact_id,
                "name": contact.name,
                "phones": contact.phones,
                "emails": contact.emails,
                "reported": target.reported,
            }
        )
    return items, page.next_cursor
