"""/me: the caller's own profile, contacts and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, route
from chalicelib.api.reports import filed_body

if TYPE_CHECKING:
    from chalicelib.domain.contacts import Contact
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


@route(bp, "/me", methods=["GET"], response="Me")
def get_me(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import me

    found = me.get_me(principal)
    user = found.user
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "mfa_enabled": user.mfa_enabled,
        "mfa_verified": principal.mfa,
        "is_staff": user.is_staff,
        "memberships": [
            {"campaign_id": m.campaign_id, "campaign_name": name, "role": m.role.value}
            for m, name in found.memberships
        ],
    }


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "name": contact.name,
        "phones": contact.phones,
        "emails": contact.emails,
    }


# 5,000 contacts a request, each of a name and a few phones and e-mails
MAX_CONTACTS_BYTES = 4 * 1024 * 1024


@route(bp, "/me/contacts", methods=["PUT"], body="ContactsIn", response="ContactsSynced")
def sync_contacts(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import contacts, inputs

    body = parse(inputs.ContactsIn, json_body(bp.current_request, max_bytes=MAX_CONTACTS_BYTES))
    result = contacts.sync_contacts(principal, body.contacts)
    return {
        "received": result.received,
        "created": result.created,
        "updated": result.updated,
        "total": result.total,
        "invalid": result.invalid,
    }


@route(bp, "/me/contacts", methods=["GET"], paged=True, response="Page[Contact]")
def list_contacts(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import contacts

    limit, cursor = page_params(bp.current_request)
    page = contacts.list_contacts(principal, limit=limit, cursor=cursor)
    return page_body([_contact(c) for c in page.items], page.next_cursor)


@route(bp, "/me/contacts", methods=["DELETE"], status=204)
def delete_contacts(principal: Principal) -> Response:
    from chalicelib.logic import contacts

    contacts.delete_all_contacts(principal)
    return Response(body="", status_code=204)


@route(bp, "/me/contacts/{contact_id}", methods=["DELETE"], status=204)
def delete_contact(principal: Principal, contact_id: str) -> Response:
    from chalicelib.logic import contacts

    contacts.delete_contact(principal, contact_id)
    return Response(body="", status_code=204)


@route(bp, "/me/reports", methods=["GET"], paged=True, response="Page[FiledReport]")
def my_reports(principal: Principal) -> dict[str, Any]:
    from chalicelib.logic import reports

    limit, cursor = page_params(bp.current_request)
    page = reports.my_reports(principal, limit=limit, cursor=cursor)
    return page_body([filed_body(r) for r in page.items], page.next_cursor)
