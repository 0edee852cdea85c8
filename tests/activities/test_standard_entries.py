"""Notes, calls and emails run the standard tests of every registered record type."""

from kontor.activities.entry_types import CALL, EMAIL, NOTE

from ..utils.standard import StandardObjectTests


class TestNoteStandard(StandardObjectTests):
    record_type = NOTE


class TestCallStandard(StandardObjectTests):
    record_type = CALL


class TestEmailStandard(StandardObjectTests):
    record_type = EMAIL
