import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from kontor.core import recurrence

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(*parts):
    return datetime.datetime(*parts, tzinfo=BERLIN)


def test_weekly_rule_keeps_the_wall_clock_across_summer_time():
    start = at(2026, 10, 20, 9, 0)
    found = recurrence.between("RRULE:FREQ=WEEKLY;COUNT=3", start, start, at(2027, 1, 1))
    assert [m.hour for m in found] == [9, 9, 9]
    assert [m.utcoffset().total_seconds() / 3600 for m in found] == [2, 1, 1]


def test_next_after_ends_with_the_rule():
    start = at(2026, 1, 5, 8, 0)
    assert recurrence.next_after("FREQ=DAILY;COUNT=2", start, start) == at(2026, 1, 6, 8, 0)
    assert recurrence.next_after("FREQ=DAILY;COUNT=2", start, at(2026, 1, 6, 8, 0)) is None


def test_between_is_bounded():
    start = at(2026, 1, 1, 0, 0)
    found = recurrence.between("FREQ=DAILY", start, start, at(2100, 1, 1))
    assert len(found) == recurrence.MAX_OCCURRENCES


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=1",
        "FREQ=SOMETIMES",
        "BYDAY=XX",
        "",
        "x" * 600,
        "FREQ=DAILY\nRRULE:FREQ=WEEKLY",
        "DTSTART:20260101T000000\nRRULE:FREQ=DAILY",
    ],
)
def test_bad_rules_are_refused_with_a_message(rule):
    with pytest.raises(ValidationError) as caught:
        recurrence.parse(rule, at(2026, 1, 1, 0, 0))
    assert caught.value.messages[0]


def test_normalise():
    assert recurrence.normalise(" rrule:freq=weekly; byday=MO ") == "FREQ=WEEKLY;BYDAY=MO"
