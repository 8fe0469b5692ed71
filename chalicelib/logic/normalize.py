"""Normalising what people type: phone numbers to E.164, e-mails to lower case."""

from __future__ import annotations

from chalicelib.config import settings


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
