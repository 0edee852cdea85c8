"""Custom object types run the standard tests of every registered record type."""

import pytest

from tests.utils.samples import Sample
from tests.utils.standard import StandardObjectTests

SITE = Sample(
    data=lambda mark: {"name": mark, "notes": "Fenced"},
    form=lambda mark: {"name": mark, "notes": "Fenced"},
    marker_field="name",
    change=("notes", "Changed by the standard tests"),
    invalid=({"name": ""}, "name"),
    invalid_form=({"name": "  "}, "name"),
)


class TestCustomObjectStandard(StandardObjectTests):
    sample = SITE

    @pytest.fixture(autouse=True)
    def site_type(self, define_type):
        self.record_type = define_type("construction_site", "construction site", "sites")
