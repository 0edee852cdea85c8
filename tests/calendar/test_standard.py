"""Meetings run the standard tests of every registered record type."""

from kontor.calendar.types import MEETING

from ..utils.standard import StandardObjectTests


class TestMeetingStandard(StandardObjectTests):
    record_type = MEETING
