"""Exactly once at scale: 1,000 real task reminders due within seconds, fired by three
real ``kontor worker`` processes, one of them killed with SIGKILL mid-run, on both job
backends (database; rq on the Redis server scripts/test starts) and on the suite's
database (a SQLite file, or a fresh PostgreSQL database).

The run is bench/timers_load.py's, small: docs/benchmarks.md ("Issue 13: timers at
scale") has the 10,000-reminder figures and their lateness; here only the counts are
asserted, never a time.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REMINDERS = 1000


@pytest.fixture(params=["database", "rq"])
def backend(request) -> list[str]:
    if request.param == "rq":
        return ["--backend", "rq", "--redis-url", request.getfixturevalue("redis_url")]
    return ["--backend", "database"]


def test_a_thousand_reminders_each_notify_once_with_a_worker_killed(database, backend, tmp_path):
    url, _connect = database
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "timers_load.py"),
            "--database-url",
            url,
            "--reminders",
            str(REMINDERS),
            "--window",
            "5",
            "--workers",
            "3",
            "--kill",
            # The killed worker's batch is claimed again two seconds later.
            "--lease",
            "2",
            "--timeout",
            "240",
            "--json",
            *backend,
        ],
        env={
            **{k: v for k, v in os.environ.items() if k != "KONTOR_SECRET_KEY"},
            "KONTOR_VAR_DIR": str(tmp_path / "var"),
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])

    assert result["killed"]
    # One notification per task: none twice, none lost; one ledger row each.
    assert (result["delivered"], result["duplicates"], result["lost"]) == (REMINDERS, 0, 0)
    assert result["ledger_rows"] == REMINDERS
