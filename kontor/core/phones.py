"""Phone numbers: stored as E.164 beside what was typed; looked up by any written form."""

import re

import phonenumbers
from django.conf import settings

_PHONE_LIKE = re.compile(r"^[\d\s()+\-./]+$")


def to_e164(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of ``raw`` ("+79161234567"), or None if it is not a possible number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, region or settings.KONTOR_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    text = (text or "").strip()
    return bool(_PHONE_LIKE.match(text)) and sum(c.isdigit() for c in text) >= 5


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def pretty(e164: str) -> str:
    """International display form ("+7 916 123-45-67")."""
    if not e164:
        return ""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
