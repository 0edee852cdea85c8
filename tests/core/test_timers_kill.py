"""Timers fire exactly once with several real workers, also when a worker is killed with
SIGKILL in the middle of a firing (kontor.core.timers), on both job backends: fired by
the workers' dispatcher passes (database), or claimed there and fired in RQ jobs (rq,
on the Redis server scripts/test starts).

Real ``kontor worker`` processes run against a database of this test's own (SQLite file,
or a fresh PostgreSQL database on the suite's server; see test_outbox_kill). The probe's
timer handler (tests/core/outbox_probe) writes an effect row in the firing's transaction;
every tenth timer then waits, on its first attempt, to be killed with the firing open.
"""

import signal
from collections import Counter

import pytest

from tests.core.outbox_probe.handler import FIRED_TABLE
from tests.core.test_outbox_kill import prepare, probe_env, rows, stop, wait_until, worker

TIMERS = 300
KILLS = 5
WORKERS = 3
WORKER_BANNER = "Kontor worker delivering events"


def all_started(log) -> bool:
    return log.read_text().count(WORKER_BANNER) == KILLS + WORKERS


@pytest.fixture(params=["database", "rq"])
def backend(request) -> dict:
    """The environment that picks a job backend for the workers."""
    if request.param == "rq":
        return {
            "KONTOR_TASKS_BACKEND": "rq",
            "KONTOR_REDIS_URL": request.getfixturevalue("redis_url"),
        }
    return {"KONTOR_TASKS_BACKEND": "database"}


def test_each_timer_fires_once_with_three_workers_and_killed_ones(database, backend, tmp_path):
    url, connect = database
    # A killed worker's claim lapses in a second; an idle worker looks every 50 ms.
    env = {**probe_env(url, tmp_path), **backend, "KONTOR_TIMERS_LEASE_SECONDS": "1"}
    prepare(env, events=0, timers=TIMERS)
    entered, release = tmp_path / "entered", tmp_path / "release"
    log = tmp_path / "worker.log"

    killed = []
    for _round in range(KILLS):
        with worker(env, log) as process:
            wait_until(entered.exists, process, log, "a firing to kill")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        killed.append(int(entered.read_text()))
        entered.unlink()

    release.touch()
    # Standing timers (object_type '': the daily sweeps) are always pending.
    pending = "SELECT COUNT(*) FROM core_timer WHERE status <> 'fired' AND object_type <> ''"
    with worker(env, log) as first, worker(env, log) as second, worker(env, log) as third:
        wait_until(lambda: rows(connect, pending) == [(0,)], first, log, "every timer fired")
        # A worker stops on SIGTERM once it runs (its banner): one still starting would die.
        wait_until(lambda: all_started(log), first, log, "every worker started")
        stop([first, second, third], log)

    timers = dict(rows(connect, "SELECT id, attempts FROM core_timer WHERE object_type <> ''"))
    effects = Counter(rows(connect, f"SELECT timer_id, occurrence FROM {FIRED_TABLE}"))
    firings = Counter(rows(connect, "SELECT timer_id, occurrence FROM core_timerfiring"))
    assert len(timers) == TIMERS
    # Each timer's effect once, under its one ledger row: none lost, none twice.
    assert effects == firings == Counter({(pk, 1): 1 for pk in timers})
    # The killed firings left nothing; each was fired again by a later worker.
    assert len(set(killed)) == KILLS
    assert {timers[pk] for pk in killed} == {2}
