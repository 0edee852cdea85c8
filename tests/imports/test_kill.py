"""The importer killed with SIGKILL at random moments, twenty times (issue 15): after
each kill the import is either absent (killed before it was recorded) or there in whole
batches only (every row up to the last line it recorded, each once, nothing after it);
then a real ``kontor worker`` resumes every cut import after its last line, and each
ends with every row of its file once: no duplicate, no lost row.

Real ``kontor import`` processes run against a database of this test's own (a SQLite
file, or a fresh PostgreSQL database on the suite's server; tests/core/conftest.py).
"""

import random
import signal
import subprocess
import time

from tests.core.test_outbox_kill import KONTOR, REPO, probe_env, rows, wait_until, worker

RUNS = 20
ROWS = 300
BATCH = 20
USER = "importer@kill.example"
# Fixed, so that every run of the test draws the same kill points.
SEED = 15


def kontor(env: dict, *args: str) -> None:
    done = subprocess.run(
        [str(KONTOR), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr


def write_file(path, run: int) -> list[str]:
    emails = [f"r{run}-p{n}@kill.example" for n in range(ROWS)]
    lines = ["First name,Email,Company"] + [
        f"Person {n},{email},Firm {n % 7}" for n, email in enumerate(emails)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return emails


def people_of(connect, run: int) -> list[str]:
    return [
        address
        for (address,) in rows(
            connect,
            "SELECT address FROM contacts_email WHERE person_id IS NOT NULL"
            f" AND address LIKE 'r{run}-%'",
        )
    ]


def job_of(connect, run: int):
    found = rows(
        connect,
        "SELECT id, state, last_line, created FROM imports_importjob"
        f" WHERE file_name = 'run-{run}.csv'",
    )
    return found[0] if found else None


def recorded_people(connect, job_id: int) -> int:
    return rows(
        connect,
        "SELECT COUNT(*) FROM imports_importedrecord"
        f" WHERE job_id = {job_id} AND object_type = 'contacts.person' AND created",
    )[0][0]


def test_a_killed_import_is_whole_absent_or_resumed_without_duplicates(database, tmp_path):
    url, connect = database
    env = {
        **probe_env(url, tmp_path),
        "DJANGO_SETTINGS_MODULE": "kontor.settings",
        # A killed run's claim lapses in a second.
        "KONTOR_IMPORT_LEASE_SECONDS": "1",
    }
    kontor(env, "migrate")
    kontor(env, "createuser", "--email", USER, "--password", "Kontor-kill-pass-1",
           "--department", "Company", "--role", "admin")  # fmt: skip
    rng = random.Random(SEED)
    log = tmp_path / "import.log"
    files, outcomes = {}, {"absent": 0, "whole": 0, "cut": 0}

    for run in range(RUNS):
        path = tmp_path / f"run-{run}.csv"
        files[run] = write_file(path, run)
        command = ("import", str(path), "--type", "people", "--user", USER, "--match", "email",
                   "--batch-size", str(BATCH))  # fmt: skip
        with worker(env, log, command) as process:
            if run % 5 == 0:  # any moment from its start: often before the job exists
                time.sleep(rng.uniform(0, 2.5))
            else:  # somewhere in the rows, between or within batches
                target = rng.randrange(ROWS)

                def reached(run=run, target=target, process=process):
                    job = job_of(connect, run)
                    return (job is not None and job[3] >= target) or process.poll() is not None

                wait_until(reached, process, log, f"row {target} of run {run}")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

        job = job_of(connect, run)
        found = people_of(connect, run)
        assert len(found) == len(set(found)), f"run {run}: a row written twice"
        if job is None:
            assert found == [], f"run {run}: rows without a recorded import"
            outcomes["absent"] += 1
            continue
        job_id, state, last_line, created = job
        # Whole batches only: exactly the rows up to the last line recorded (the header
        # is line 1), each one recorded by the job for its undo.
        assert sorted(found) == sorted(files[run][: last_line - 1 if last_line else 0])
        assert created == len(found) == recorded_people(connect, job_id)
        outcomes["whole" if state == "done" else "cut"] += 1

    # A worker resumes every cut import (and runs those killed before their first batch).
    unfinished = "SELECT COUNT(*) FROM imports_importjob WHERE state <> 'done'"
    with worker(env, log) as process:
        wait_until(lambda: rows(connect, unfinished) == [(0,)], process, log, "every import done")

    for run, emails in files.items():
        job = job_of(connect, run)
        if job is None:
            assert people_of(connect, run) == []
            continue
        job_id, state, last_line, created = job
        assert (state, last_line, created) == ("done", ROWS + 1, ROWS)
        found = people_of(connect, run)
        assert sorted(found) == sorted(emails), f"run {run}: a row lost or doubled"
        assert recorded_people(connect, job_id) == ROWS
    # Most kills fell within a run; say what each run came to.
    print(f"kills: {outcomes}")
    assert sum(outcomes.values()) == RUNS and outcomes["cut"] >= RUNS // 2, outcomes
    assert rows(connect, "SELECT COUNT(*) FROM imports_importkey") == [(0,)]
