"""Tasks run the standard tests of every registered record type."""

from kontor.activities.types import TASK

from ..utils.standard import StandardObjectTests


class TestTaskStandard(StandardObjectTests):
    record_type = TASK
