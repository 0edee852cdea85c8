"""Recurrence rules (RFC 5545 RRULE) for any record that repeats: tasks, meetings.

The rule is kept as its text (``FREQ=WEEKLY;BYDAY=MO,WE``), so that a calendar feed
writes it unchanged; python-dateutil reads it. Occurrences follow the wall clock of the
start's time zone (a 9:00 meeting stays at 9:00 across a change to summer time).
"""

from __future__ import annotations

import datetime

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Work repeats at most daily: a rule every hour or minute would flood lists and timers.
ALLOWED_FREQUENCIES = (DAILY, WEEKLY, MONTHLY, YEARLY)
MAX_RULE_LENGTH = 500
# A window's occurrences are listed up to this count (a calendar month of a daily rule
# is 31); a rule is never expanded without bound.
MAX_OCCURRENCES = 1000


def normalise(text: str) -> str:
    """The rule as stored: no ``RRULE:`` prefix, upper case, no spaces."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text.replace(" ", "").upper()


def parse(text: str, start: datetime.datetime) -> rrule:
    """The rule starting at ``start``, or ValidationError saying what is wrong."""
    text = normalise(text)
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError(_("The repeat rule is too long."), code="too_long")
    if "\n" in text or "DTSTART" in text:
        raise ValidationError(_("Enter one repeat rule (RRULE) only."), code="invalid")
    try:
        rule = rrulestr(text, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValidationError(
            _("This is not a valid repeat rule (RFC 5545 RRULE): %(error)s"),
            code="invalid",
            params={"error": exc},
        ) from None
    if not isinstance(rule, rrule):
        raise ValidationError(_("Enter one repeat rule (RRULE) only."), code="invalid")
    if rule._freq not in ALLOWED_FREQUENCIES:
        raise ValidationError(_("Repeat daily, weekly, monthly or yearly."), code="frequency")
    return rule


def next_after(text: str, start: datetime.datetime, after: datetime.datetime):
    """The first occurrence strictly after ``after``, or None when the rule has ended."""
    return parse(text, start).after(after, inc=False)


def between(
    text: str, start: datetime.datetime, first: datetime.datetime, last: datetime.datetime
) -> list[datetime.datetime]:
    """Occurrences in [first, last), at most ``MAX_OCCURRENCES``."""
    found = []
    for moment in parse(text, start).xafter(first, count=MAX_OCCURRENCES, inc=True):
        if moment >= last:
            break
        found.append(moment)
    return found
