"""The deals with stage histories that the report tests share (tests/sales/test_reports.py)."""

from .test_reports import history  # noqa: F401 (a fixture)
