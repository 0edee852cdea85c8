"""Kontor's settings plus the outbox probe's handler (tests/core/test_outbox_kill.py)."""

from kontor.settings import *  # noqa: F403
from kontor.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.core.outbox_probe"]
