"""People and companies run the standard tests of every registered record type."""

from kontor.contacts.types import COMPANY, PERSON

from ..utils.standard import StandardObjectTests


class TestPersonStandard(StandardObjectTests):
    record_type = PERSON


class TestCompanyStandard(StandardObjectTests):
    record_type = COMPANY
