"""Custom object types run the standard tests of every registered record type."""

import pytest

from tests.utils.samples import CUSTOM_OBJECT
from tests.utils.standard import StandardObjectTests


class TestCustomObjectStandard(StandardObjectTests):
    sample = CUSTOM_OBJECT

    @pytest.fixture(autouse=True)
    def site_type(self, define_type):
        self.record_type = define_type("construction_site", "construction site", "sites")
