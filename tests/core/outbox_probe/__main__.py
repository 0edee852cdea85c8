"""``python -m tests.core.outbox_probe COUNT``: migrate, make the probe's table, write events.

The events are written in several committed transactions, before any worker runs.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.core.outbox_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kontor.core import events  # noqa: E402
from tests.core.outbox_probe.handler import SEEN_TABLE  # noqa: E402

count = int(sys.argv[1])
call_command("migrate", interactive=False, verbosity=0)
with connection.cursor() as cursor:
    cursor.execute(
        f"CREATE TABLE {SEEN_TABLE} (idempotency_key VARCHAR(300) PRIMARY KEY, runs INTEGER)"
    )
for start in range(0, count, 5):
    with transaction.atomic():
        for n in range(start, min(start + 5, count)):
            events.emit("probe.thing.happened", n=n)
