"""Custom object types run the standard tests of every registered record type: the
issue's "Construction site" with a relation to companies, a money and a choice field."""

import pytest

from kontor.core.customfields import services as field_services
from tests.utils.samples import CONSTRUCTION_SITE, CONSTRUCTION_SITE_FIELDS
from tests.utils.standard import StandardObjectTests


class TestConstructionSiteStandard(StandardObjectTests):
    sample = CONSTRUCTION_SITE

    @pytest.fixture(autouse=True)
    def site_type(self, define_type, org):
        self.record_type = define_type(
            "construction_site", "Construction site", "Construction sites"
        )
        for name, label, kind, options in CONSTRUCTION_SITE_FIELDS:
            field_services.create_field(
                actor=org.admin,
                object_type=self.record_type.object_type,
                name=name,
                label=label,
                kind=kind,
                **options,
            )
