"""A volunteer's contacts: sync with de-duplication, listing, erasure.

Contacts are the volunteer's alone: nothing here is reachable by anyone else,
and matching them to a campaign's lists happens only when the volunteer reports
on one (logic.reports).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import app_secret
from chalicelib.dal import contacts as contacts_dal
from chalicelib.dal import users as users_dal
from chalicelib.domain.contacts import Contact, SyncResult
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput
from chalicelib.logic import matching, normalize
from chalicelib.logic.principal import Principal

MAX_CONTACTS_PER_SYNC = 5000
MAX_VALUES_PER_CONTACT = 50


@dataclass
class _Draft:
    """A contact being merged: its values as ordered sets, so each merge costs what it
    adds, and never more than MAX_VALUES_PER_CONTACT phones or e-mails (a bound on the
    stored item's size, whatever a sync sends)."""

    contact_id: str
    name: str
    phones: dict[str, None] = field(default_factory=dict)
    emails: dict[str, None] = field(default_factory=dict)
    keys: dict[str, None] = field(default_factory=dict)
    existing: Contact | None = None

    @classmethod
    def of(cls, contact: Contact) -> _Draft:
        return cls(
            contact.contact_id,
            contact.name,
            dict.fromkeys(contact.phones),
            dict.fromkeys(contact.emails),
            dict.fromkeys(contact.keys),
            contact,
        )

    def merge(self, phones: list[str], emails: list[str]) -> tuple[list[str], int]:
        """Add what fits; (the match keys added, how many values did not fit)."""
        added: list[str] = []
        dropped = 0
        for values, into, key_of in (
            (phones, self.phones, matching.phone_key),
            (emails, self.emails, matching.email_key),
        ):
            for value in values:
                if value in into:
                    continue
                if len(into) >= MAX_VALUES_PER_CONTACT:
                    dropped += 1
                    continue
                into[value] = None
                key = key_of(value)
                if key not in self.keys:
                    self.keys[key] = None
                    added.append(key)
        return added, dropped

    def contact(self) -> Contact:
        return Contact(
            self.contact_id, self.name, list(self.phones), list(self.emails), list(self.keys)
        )

    def changed(self) -> bool:
        before = self.existing
        return before is None or (before.name, before.phones, before.emails) != (
            self.name,
            list(self.phones),
            list(self.emails),
        )


def _contact_id(user_id: str, first_key: str) -> str:
    """Deterministic per user and first key: two syncs racing converge on one id."""
    digest = hmac.new(
        app_secret(), f"contact:{user_id}:{first_key}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:15]).decode().rstrip("=")


def _values(raw: Any, field_name: str, index: int, problems: list[dict[str, Any]]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(
            {"index": index, "field": field_name, "reason": "must be a list of strings"}
        )
        return []
    if len(raw) > MAX_VALUES_PER_CONTACT:
        problems.append(
            {"index": index, "field": field_name, "reason": f"at most {MAX_VALUES_PER_CONTACT}"}
        )
        raw = raw[:MAX_VALUES_PER_CONTACT]
    return raw


def _normalised(
    raw: Any, index: int, problems: list[dict[str, Any]]
) -> tuple[str, list[str], list[str]] | None:
    """(name, phones, emails) of one incoming contact, or None when it cannot be kept."""
    if not isinstance(raw, dict):
        problems.append({"index": index, "field": "contact", "reason": "must be an object"})
        return None
    name = raw.get("name", "")
    if name is None:
        name = ""
    if not isinstance(name, str) or len(name) > 200:
        problems.append(
            {"index": index, "field": "name", "reason": "must be text of at most 200 characters"}
        )
        return None
    phones: list[str] = []
    for n, value in enumerate(_values(raw.get("phones"), "phones", index, problems)):
        try:
            if not isinstance(value, str):
                raise ValueError("must be a string")
            phones.append(normalize.phone_e164(value))
        except ValueError as exc:
            problems.append({"index": index, "field": f"phones[{n}]", "reason": str(exc)})
    emails: list[str] = []
    for n, value in enumerate(_values(raw.get("emails"), "emails", index, problems)):
        try:
            if not isinstance(value, str):
                raise ValueError("must be a string")
            emails.append(normalize.email(value))
        except ValueError as exc:
            problems.append({"index": index, "field": f"emails[{n}]", "reason": str(exc)})
    phones, emails = list(dict.fromkeys(phones)), list(dict.fromkeys(emails))
    if not phones and not emails:
        problems.append(
            {"index": index, "field": "contact", "reason": "has no valid phone or e-mail"}
        )
        return None
    return name.strip(), phones, emails


def _fingerprint(data_key: bytes, name: str, phones: list[str], emails: list[str]) -> str:
    """A contact as received, keyed with the user's data key (`dal.contacts.SyncState`)."""
    text = json.dumps([name, phones, emails], ensure_ascii=False, separators=(",", ":"))
    digest = hmac.new(data_key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def sync_contacts(principal: Principal, incoming: list[Any]) -> SyncResult:
    """Merge the phone's contacts into the caller's, de-duplicated by phone and e-mail.

    A contact that shares a normalised phone or e-mail with one the caller already
    has (or with one earlier in the same request) updates it: the latest name wins,
    phones and e-mails are united. Contacts with invalid values are reported back by
    index and reason; the rest are kept.

    A contact received exactly so before (its fingerprint is in the digest) was merged
    then and brings nothing new: it is passed over, and when every contact of a sync is,
    the stored contacts are not read at all.
    """
    if len(incoming) > MAX_CONTACTS_PER_SYNC:
        raise InvalidInput("contacts", f"at most {MAX_CONTACTS_PER_SYNC} contacts a request")
    user_id = principal.user_id
    data_key = contacts_dal.contacts_key(user_id, create=True)  # read once for the sync
    assert data_key is not None
    state = contacts_dal.sync_state(user_id)
    problems: list[dict[str, Any]] = []
    fresh: list[tuple[int, str, list[str], list[str]]] = []
    fingerprints: dict[str, None] = {}
    for index, raw in enumerate(incoming):
        parsed = _normalised(raw, index, problems)
        if parsed is None:
            continue
        fingerprint = _fingerprint(data_key, *parsed)
        if not state.known(fingerprint):
            fresh.append((index, *parsed))
            fingerprints[fingerprint] = None

    existing = contacts_dal.all_contacts(user_id, data_key) if fresh else []
    drafts: dict[str, _Draft] = {c.contact_id: _Draft.of(c) for c in existing}
    owner = {key: c.contact_id for c in existing for key in c.keys}
    touched: list[str] = []
    for index, name, phones, emails in fresh:
        keys = matching.keys_for(phones, emails)
        target = next((owner[k] for k in keys if k in owner), None)
        if target is None:
            target = _contact_id(user_id, keys[0])
            drafts.setdefault(target, _Draft(target, name))
        draft = drafts[target]
        if name:
            draft.name = name
        added, dropped = draft.merge(phones, emails)
        if dropped:
            problems.append(
                {
                    "index": index,
                    "field": "contact",
                    "reason": f"merged into a contact that has {MAX_VALUES_PER_CONTACT} phones "
                    f"or e-mails already; {dropped} were not kept",
                }
            )
        for key in added:
            owner.setdefault(key, target)
        touched.append(target)

    unique = list(dict.fromkeys(touched))
    to_write = [drafts[cid] for cid in unique if drafts[cid].changed()]
    created = sum(1 for d in to_write if d.existing is None)
    updated = len(to_write) - created
    summary = {"received": len(incoming), "created": created, "updated": updated}
    contacts_dal.save_contacts(
        user_id, (d.contact() for d in to_write), created=created, summary=summary, key=data_key
    )
    contacts_dal.save_digest(user_id, state, fingerprints)  # once the contacts are in
    return SyncResult(
        received=len(incoming),
        created=created,
        updated=updated,
        total=len(existing) + created if fresh else state.contacts_count,
        invalid=problems,
    )


def list_contacts(principal: Principal, *, limit: int, cursor: str | None) -> Page:
    return contacts_dal.list_contacts(principal.user_id, limit=limit, cursor=cursor)


def delete_contact(principal: Principal, contact_id: str) -> None:
    contacts_dal.delete_contact(principal.user_id, contact_id)


def delete_all_contacts(principal: Principal) -> int:
    return contacts_dal.delete_all_contacts(principal.user_id)


def contacts_count(principal: Principal) -> int:
    user = users_dal.get_user(principal.user_id)
    return user.contacts_count if user else 0
