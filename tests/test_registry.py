"""Every registered record type runs the standard tests and has sample data."""

import gc

from kontor.core import types
from kontor.core.types import RecordType

from .utils.samples import sample_for
from .utils.standard import standard_tests_for, types_without_standard_tests


def test_every_registered_record_type_runs_the_standard_tests():
    assert types_without_standard_tests(types.record_types()) == []


def test_every_registered_record_type_has_sample_data():
    for record_type in types.record_types():
        assert sample_for(record_type) is not None


class _Unregistered(RecordType):
    """A type no test module covers: the checks above must name it."""

    name = "standard_probe"

    @property
    def object_type(self) -> str:
        return "probes.standard_probe"


def test_a_type_without_standard_tests_is_named():
    probe = _Unregistered()
    assert types_without_standard_tests([*types.record_types(), probe]) == ["probes.standard_probe"]
    try:
        sample_for(probe)
    except LookupError as missing:
        assert "probes.standard_probe" in str(missing)
    else:
        raise AssertionError("sample_for found data for a type that has none")


def test_a_generated_class_covers_its_type():
    probe = _Unregistered()
    generated = standard_tests_for(probe)
    assert generated.__name__ == "TestStandardProbeStandard"
    assert types_without_standard_tests([probe]) == []
    # Forget the class again: the test above must still find the probe uncovered.
    del generated
    gc.collect()
    assert types_without_standard_tests([probe]) == ["probes.standard_probe"]
