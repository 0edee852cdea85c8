"""Products run the standard tests of every registered record type."""

from kontor.catalog.types import PRODUCT

from ..utils.standard import StandardObjectTests


class TestProductStandard(StandardObjectTests):
    record_type = PRODUCT
