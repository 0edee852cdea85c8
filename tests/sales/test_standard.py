"""Deals run the standard tests of every registered record type."""

from kontor.sales.types import DEAL

from ..utils.standard import StandardObjectTests


class TestDealStandard(StandardObjectTests):
    record_type = DEAL
