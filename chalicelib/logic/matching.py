"""Match keys, and the one place a contact is matched to a campaign's voter lists.

A match key is HMAC-SHA256 of a normalised phone (E.164) or e-mail under the
deployment secret. Contacts carry their keys; list rows are indexed by theirs.
Matching happens when a volunteer reports on a contact, against the lists the
campaign has then, so it holds whichever arrived first (contacts, list or
membership), and no index ever links one volunteer's contacts to a campaign.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.config import app_secret
from chalicelib.dal import lists as lists_dal
from chalicelib.domain.contacts import Contact


def _key(kind: str, value: str) -> str:
    digest = hmac.new(app_secret(), f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def phone_key(e164: str) -> str:
    return _key("phone", e164)


def email_key(email: str) -> str:
    return _key("email", email)


def keys_for(phones: list[str], emails: list[str]) -> list[str]:
    """The match keys of normalised phones and e-mails, in order, without repeats."""
    keys = [phone_key(p) for p in phones] + [email_key(e) for e in emails]
    return list(dict.fromkeys(keys))


def match_for(campaign_id: str, contact: Contact) -> lists_dal.ListMatch | None:
    """The list row of the campaign's lists that this contact matches (its external id,
    and the CRM it is for if the list names one): phones first, then e-mails.

    Every key is looked up whether or not an earlier one matched, so the time a report
    takes does not tell its filer whether, or by which key, their contact matched."""
    found = lists_dal.matches_for_keys(campaign_id, list(contact.keys))
    return next((match for match in found if match is not None), None)
