"""Phone numbers: stored as E.164 beside what was typed; looked up by any written form."""

import functools
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


# Numbers understood, by (text, region): an import meets a switchboard's number on many
# rows and parses a matched phone twice (its duplicate key, its cleaning); parsing is
# most of what cleaning a phone costs.
PARSED_CACHE_SIZE = 20_000


def parse(raw: str, region: str | None = None) -> ParsedPhone | None:
    """``raw`` understood, or None if it is not a possible number.

    Extensions come in any form phonenumbers reads: "доб. 105", "ext. 12", "x12", "#12".
    The E.164 form is the main number alone, so lookup and duplicates match on it.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    return _understood(raw, region or settings.KONTOR_PHONE_REGION)


@functools.lru_cache(maxsize=PARSED_CACHE_SIZE)
def _understood(raw: str, region: str) -> ParsedPhone | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return ParsedPhone(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        parsed.extension or "",
    )


def to_e164(raw: str, region: str | None = None) -> str | None:
    """The E.164 form of ``raw`` ("+79161234567"), or None if it is not a possible number."""
    parsed = parse(raw, region)
    return parsed.e164 if parsed is not None else None


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
