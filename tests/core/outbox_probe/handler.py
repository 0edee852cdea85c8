import os
import time
from pathlib import Path

from django.db import connection

SEEN_TABLE = "outbox_probe_seen"
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
    entered, release = markers()
    if runs == 1 and not release.exists():
        entered.write_text(event.idempotency_key)
        deadline = time.monotonic() + WAIT_SECONDS
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
