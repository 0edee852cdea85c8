"""Phone numbers: stored as E.164 beside what was typed; looked up by any written form."""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

_PHONE_LIKE = re.compile(r"^[\d\s()+\-./]+$")


@dataclass(frozen=True)
class ParsedPhone:
    """A number as understood: its E.164 form and the extension typed after it ("105")."""

    e164: str
    extension: str


def _possible_number(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, region or settings.KONTOR_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def parse(raw: str, region: str | None = None) -> ParsedPhone | None:
    """``raw`` understood, or None if it is not a possible number.

    Extensions come in any form phonenumbers reads: "доб. 105", "ext. 12", "x12", "#12".
    The E.164 form is the main number alone, so lookup and duplicates match on it.
    """
    parsed = _possible_number(raw, region)
    if parsed is None:
        return None
    return ParsedPhone(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        parsed.extension or "",
    )


def to_e164(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of ``raw`` ("+79161234567"), or None if it is not a possible number.

    The number alone, without building ``parse``'s answer: caller ID asks on every call."""
    parsed = _possible_number(raw, region)
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    text = (text or "").strip()
    return bool(_PHONE_LIKE.match(text)) and sum(c.isdigit() for c in text) >= 5


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def pretty(e164: str, extension: str = "") -> str:
    """International display form ("+7 916 123-45-67", "+7 916 123-45-67 ext. 105")."""
    if not e164:
        return ""
    number = phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    if extension:
        return _("%(number)s ext. %(extension)s") % {"number": number, "extension": extension}
    return number


def tel_uri(e164: str, extension: str = "") -> str:
    """A ``tel:`` link (RFC 3966) that dials the extension too."""
    return f"tel:{e164};ext={extension}" if extension else f"tel:{e164}"
