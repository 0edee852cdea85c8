"""``python -m tests.core.outbox_probe EVENTS [TIMERS [JOBS]]``: migrate, make the probe's
tables, write events and timers due now (every tenth marked to wait to be killed), and
enqueue background jobs (each waits to be killed until released).

The events are written in several committed transactions, before any worker runs.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.core.outbox_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from kontor.core import events  # noqa: E402
from kontor.core.models import Timer  # noqa: E402
from tests.core.outbox_probe.handler import FIRED_TABLE, JOBS_TABLE, SEEN_TABLE, job  # noqa: E402

count = int(sys.argv[1])
timer_count = int(sys.argv[2]) if len(sys.argv) > 2 else 0
job_count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
call_command("migrate", interactive=False, verbosity=0)
with connection.cursor() as cursor:
    cursor.execute(
        f"CREATE TABLE {SEEN_TABLE} (idempotency_key VARCHAR(300) PRIMARY KEY, runs INTEGER)"
    )
    cursor.execute(f"CREATE TABLE {FIRED_TABLE} (timer_id BIGINT, occurrence INTEGER)")
    cursor.execute(f"CREATE TABLE {JOBS_TABLE} (n INTEGER)")
now = timezone.now()
Timer.objects.bulk_create(
    Timer(
        kind="probe.timer",
        object_type="probe.thing",
        object_id=n,
        due_at=now,
        payload={"block": n % 10 == 0},
    )
    for n in range(timer_count)
)
for start in range(0, count, 5):
    with transaction.atomic():
        for n in range(start, min(start + 5, count)):
            events.emit("probe.thing.happened", n=n)
for n in range(job_count):
    job.enqueue(n)
