"""Phone numbers: stored as E.164 beside what was typed; looked up by any written form."""

import re

import phonenumbers
from django.conf import settings
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

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


def national_digits(e164: str) -> str:
    """The significant national number ("9161234567" for "+79161234567").

    Read off the stored E.164 string instead of parsing it again (the search text of
    every phone needs it, and a parse is most of a phone's cost in a bulk import):
    calling codes are one to three digits and none is the prefix of another, so the
    first known prefix is the code; leading zeros are dropped as ``phonenumbers``
    drops them (Italy's "+39 06…" gives "6…"). Where re-parsing would strip a trunk
    prefix a second time ("+375 8 8…"), this keeps the number as stored.
    """
    digits_only = e164[1:] if e164.startswith("+") else e164
    if digits_only.isdigit():
        for length in (1, 2, 3):
            if int(digits_only[:length]) in COUNTRY_CODE_TO_REGION_CODE:
                national = digits_only[length:]
                if national:
                    return str(int(national))
                break
    parsed = phonenumbers.parse(e164)
    return str(parsed.national_number)


def pretty(e164: str) -> str:
    """International display form ("+7 916 123-45-67")."""
    if not e164:
        return ""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
