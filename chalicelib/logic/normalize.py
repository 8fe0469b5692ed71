"""Normalising what people type: phone numbers to E.164, e-mails to lower case, moments in
time (`?since=`) to aware datetimes."""

from __future__ import annotations

from datetime import datetime

from chalicelib.config import settings
from chalicelib.errors import InvalidInput


def phone_e164(raw: str, region: str | None = None) -> str:
    """The E.164 form of a phone number; ValueError when it is not a valid number."""
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region or settings().default_phone_region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def email(raw: str) -> str:
    value = raw.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise ValueError("is not a valid e-mail address")
    return value


def since(value: str | None) -> datetime | None:
    """A `since` given as ISO 8601 with a time zone; a 400 naming `since` otherwise."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("since", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise InvalidInput("since", "must carry a time zone (e.g. Z)")
    return moment
