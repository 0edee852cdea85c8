import os
import time
from pathlib import Path

from django.db import connection
from django_tasks import task

SEEN_TABLE = "outbox_probe_seen"
JOBS_TABLE = "outbox_probe_jobs"
FIRED_TABLE = "outbox_probe_fired"
# Longest a first run waits for the test to kill the worker: bounds a test gone wrong.
WAIT_SECONDS = 30


def markers() -> tuple[Path, Path]:
    folder = Path(os.environ["KONTOR_PROBE_DIR"])
    return folder / "entered", folder / "release"


def record(event) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEEN_TABLE} (idempotency_key, runs) VALUES (%s, 1) "
            f"ON CONFLICT (idempotency_key) DO UPDATE SET runs = {SEEN_TABLE}.runs + 1 "
            "RETURNING runs",
            [event.idempotency_key],
        )
        (runs,) = cursor.fetchone()
    if runs == 1:
        wait_to_be_killed(event.idempotency_key)


def fire(timer) -> None:
    """The probe's timer handler: an effect row in the firing's transaction (no unique
    key: a second firing would show as a second row), then, for a timer marked so, a
    wait to be killed on its first attempt, the firing still open."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FIRED_TABLE} (timer_id, occurrence) VALUES (%s, %s)",
            [timer.pk, timer.occurrence],
        )
    if timer.payload.get("block") and timer.attempts == 1:
        wait_to_be_killed(str(timer.pk))


@task()
def job(n: int) -> None:
    """The probe's background job: a row per run, then a wait to be killed (until the
    test releases it)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {JOBS_TABLE} (n) VALUES (%s)", [n])
    wait_to_be_killed(f"job {n}")


def wait_to_be_killed(name: str) -> None:
    entered, release = markers()
    if release.exists():
        return
    # Written aside and renamed: the test may kill us the moment the marker exists,
    # and must then read the whole name, never an empty file.
    partial = entered.with_suffix(".partial")
    partial.write_text(name)
    partial.rename(entered)
    deadline = time.monotonic() + WAIT_SECONDS
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
