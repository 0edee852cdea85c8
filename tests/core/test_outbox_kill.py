"""A dispatcher killed with SIGKILL between commit and delivery loses no event.

A real ``kontor worker`` runs against a database of this test's own: a SQLite file, or
on PostgreSQL (when the suite runs there) a fresh database on the suite's server. The
probe's handler (tests/core/outbox_probe) records each idempotency key it sees in a
table keyed by it, counting repeats, and blocks on its first sight of a key; the test
then kills the worker, after the handler's effect and before the delivery is marked
done, and starts another. Twenty times; then a last worker delivers the rest.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.core.outbox_probe.handler import JOBS_TABLE, SEEN_TABLE

KONTOR = Path(sys.executable).with_name("kontor")
REPO = Path(__file__).resolve().parents[2]
EVENTS = 30
KILLS = 20
ROUND_SECONDS = 20
STOP_SECONDS = 10
JOBS = 3
JOBS_DONE = "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"


def rows(connect, sql: str) -> list[tuple]:
    with closing(connect()) as connection:
        cursor = connection.cursor()
        cursor.execute(sql)
        return cursor.fetchall()


def wait_until(condition, worker: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + ROUND_SECONDS
    while not condition():
        if worker.poll() is not None:
            pytest.fail(
                f"the worker exited ({worker.returncode}) before {what}:\n{log.read_text()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {ROUND_SECONDS} s:\n{log.read_text()}")
        time.sleep(0.02)


@contextmanager
def worker(env: dict, log: Path, command: tuple[str, ...] = ("worker",)):
    with log.open("a") as output:
        process = subprocess.Popen(
            [str(KONTOR), *command], env=env, cwd=REPO, stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def stop(processes: list[subprocess.Popen], log: Path) -> None:
    """SIGTERM the workers; each must stop, not crash, within STOP_SECONDS. One that does
    not is aborted, so that the log shows where each of its threads was (faulthandler:
    PYTHONFAULTHANDLER in probe_env), not only that it was late."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            returncode = process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=STOP_SECONDS)
            pytest.fail(f"a worker still ran {STOP_SECONDS} s after SIGTERM:\n{log.read_text()}")
        assert returncode == 0, log.read_text()  # a stop, not a crash


def probe_env(url: str, tmp_path: Path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k != "KONTOR_SECRET_KEY"},
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.core.outbox_settings",
        "PYTHONPATH": str(REPO),
        "KONTOR_VAR_DIR": str(tmp_path / "var"),
        "KONTOR_PROBE_DIR": str(tmp_path),
        "PYTHONFAULTHANDLER": "1",
        # A killed worker's claim lapses in a second; an idle worker looks every 50 ms.
        "KONTOR_EVENTS_LEASE_SECONDS": "1",
        "KONTOR_EVENTS_POLL_SECONDS": "0.05",
        "KONTOR_TASKS_BACKEND": "database",
    }


def prepare(env: dict, events: int = EVENTS, timers: int = 0, jobs: int = 0) -> None:
    """Migrate the database, make the probe's tables and commit the events, timers and
    background jobs."""
    prepared = subprocess.run(
        [sys.executable, "-m", "tests.core.outbox_probe", str(events), str(timers), str(jobs)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prepared.returncode == 0, prepared.stderr


OPEN_WORK = (
    "SELECT (SELECT COUNT(*) FROM core_outboxevent WHERE NOT fanned_out)"
    " + (SELECT COUNT(*) FROM core_outboxdelivery WHERE status <> 'done')"
)


def test_no_event_is_lost_when_the_worker_is_killed_between_commit_and_delivery(database, tmp_path):
    url, connect = database
    env = probe_env(url, tmp_path)
    prepare(env)
    entered, release = tmp_path / "entered", tmp_path / "release"
    log = tmp_path / "worker.log"

    killed_keys = []
    for _round in range(KILLS):
        with worker(env, log) as process:
            wait_until(entered.exists, process, log, "handler run")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        killed_keys.append(entered.read_text())
        entered.unlink()

    release.touch()
    with worker(env, log) as process:
        wait_until(lambda: rows(connect, OPEN_WORK) == [(0,)], process, log, "empty outbox")
        stop([process], log)

    event_ids = [pk for (pk,) in rows(connect, "SELECT id FROM core_outboxevent")]
    deliveries = rows(
        connect, "SELECT event_id, handler, status, attempts FROM core_outboxdelivery"
    )
    seen = dict(rows(connect, f"SELECT idempotency_key, runs FROM {SEEN_TABLE}"))
    assert len(event_ids) == EVENTS
    assert sorted((e, h, s) for e, h, s, _a in deliveries) == [
        (pk, "probe.record", "done") for pk in sorted(event_ids)
    ]
    # Every event reached the handler, under the key of its one delivery.
    assert set(seen) == {f"{pk}:probe.record" for pk in event_ids}
    # Each kill interrupted a different delivery after its effect: that one ran twice and
    # the handler recognised the repeat by its key; the rest ran once.
    assert len(set(killed_keys)) == KILLS
    assert {key for key, runs in seen.items() if runs > 1} == set(killed_keys)
    assert {seen[key] for key in killed_keys} == {2}
    attempts = {f"{e}:{h}": a for e, h, _s, a in deliveries}
    assert {key: attempts[key] for key in seen} == {key: seen[key] for key in seen}


def test_kontor_serve_delivers_events_and_runs_jobs_in_process(database, tmp_path):
    url, connect = database
    env = {**probe_env(url, tmp_path), "KONTOR_EVENTS_POLL_SECONDS": "1"}
    (tmp_path / "release").touch()  # the probe's handler and job return at once
    prepare(env, jobs=JOBS)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    log = tmp_path / "serve.log"
    with worker(env, log, ("serve", "--port", str(port))) as process:
        wait_until(lambda: rows(connect, OPEN_WORK) == [(0,)], process, log, "empty outbox")

        wait_until(lambda: rows(connect, JOBS_DONE) == [(JOBS,)], process, log, "jobs run")

    runs = rows(connect, f"SELECT runs FROM {SEEN_TABLE}")
    assert runs == [(1,)] * EVENTS
    assert sorted(rows(connect, f"SELECT n FROM {JOBS_TABLE}")) == [(n,) for n in range(JOBS)]


def test_the_database_backend_never_runs_again_a_job_whose_worker_was_killed(database, tmp_path):
    """Why timers and outbox deliveries are not django-tasks jobs (kontor.core.jobs): the
    database backend claims a job by marking it running, with no lease, so a job whose
    worker died stays "running" and no later worker takes it."""
    url, connect = database
    env = probe_env(url, tmp_path)
    prepare(env, events=0, jobs=1)
    log = tmp_path / "worker.log"
    with worker(env, log) as process:
        wait_until((tmp_path / "entered").exists, process, log, "the job to start")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    (tmp_path / "release").touch()
    with worker(env, log, ("worker", "--once")) as process:
        assert process.wait(timeout=ROUND_SECONDS) == 0, log.read_text()

    assert rows(connect, "SELECT status FROM django_tasks_database_dbtaskresult") == [("RUNNING",)]
    assert rows(connect, f"SELECT n FROM {JOBS_TABLE}") == [(0,)]  # the killed run only
