"""Input the databases cannot take: integers beyond 64 bits, NUL, unpaired surrogates.

SQLite's driver overflows on an integer beyond 64 bits; PostgreSQL refuses NUL in text
columns; neither database can encode a lone surrogate ("\\ud800", which JSON can carry)
as UTF-8. Input is checked at the edge (API input, UI parameters, services' validation)
so that it is a field error or an ignored filter, never a driver error (a 500).
"""

import datetime
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

DB_INT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def as_db_id(value) -> int | None:
    """``value`` (a form or query string) as a positive id the database can hold, else None."""
    if type(value) is int:  # as parsed JSON and an import's rows give it: no text to read
        return value if 0 < value <= DB_INT_MAX else None
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= DB_INT_MAX else None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None if it can."""
    if "\x00" in value:
        return _("Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Enter text without invalid characters.")
    return None


def as_moment(value) -> datetime.datetime | None:
    """A moment from input: a datetime or its ISO text; without an offset it is in the
    current time zone (a form's date and time). None if it is neither."""
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:  # well formed, but no such moment (a 31 February)
            return None
    if not isinstance(value, datetime.datetime):
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value
