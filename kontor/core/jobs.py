"""Background jobs: work that leaves the request for a worker, through django-tasks.

A job is a module-level function decorated with ``django_tasks.task`` and enqueued with
``.enqueue(...)``. One setting, ``KONTOR_TASKS_BACKEND``, chooses where jobs wait:

- ``database`` (the default): rows in Kontor's own database (django-tasks-db), enqueued
  inside the caller's transaction (a rolled-back write leaves no job), run by every
  dispatcher pass (``run_ready``): ``kontor worker`` and the thread in ``kontor serve``,
  so one machine needs nothing else. That backend claims a job by marking it running,
  with no lease: a worker killed in the middle of a job leaves it "running" for ever.
  Jobs therefore carry only work whose loss is tolerable (a reset link: the person asks
  again); what must happen exactly once (timers) or at least once (outbox deliveries)
  stays on Kontor's own leased rows.
- ``rq``: Redis queues (django-tasks-rq), shared by the RQ workers of every
  ``kontor worker`` process on any machine. An RQ job is enqueued at once, whatever the
  caller's transaction: enqueue after commit (``transaction.on_commit``). Due timers
  are still claimed from the database with a lease, a batch at a time, and each claimed
  batch is fired inside an RQ job (``fire_timer_batch``): the workers share the
  firing, and a killed one loses nothing (its lease lapses, the batch is claimed and
  queued again, the ledger keeps each firing once).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from . import events, timers

QUEUE = "default"


def uses_rq() -> bool:
    return settings.KONTOR_TASKS_BACKEND == "rq"


# -- the database backend: run by the dispatcher's pass ---------------------------------

_worker_lock = threading.Lock()
_db_worker = None


def _database_worker():
    """django-tasks-db's worker, for its ``run_task`` (result, signals, errors)."""
    global _db_worker
    with _worker_lock:
        if _db_worker is None:
            _db_worker = Worker(
                queue_names=[QUEUE],
                interval=0,
                batch=True,
                backend_name=DEFAULT_TASK_BACKEND_ALIAS,
                startup_delay=False,
                max_tasks=None,
                worker_id=get_random_string(32),
                excluded_queue_names=[],
            )
    return _db_worker


def run_ready(*, stop: threading.Event | None = None) -> int:
    """Run the database backend's jobs ready now, one claim at a time; returns how many.

    A dispatcher pass (``events.add_pass``); nothing under another backend."""
    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return 0
    ready = DBTaskResult.objects.ready().filter(
        backend_name=DEFAULT_TASK_BACKEND_ALIAS, queue_name=QUEUE
    )
    worker = _database_worker()
    ran = 0
    # A plain read first: an idle worker never takes SQLite's write lock.
    while (stop is None or not stop.is_set()) and ready.exists():
        with exclusive_transaction(ready.db):
            job = ready.get_locked()
            if job is None:
                break
            job.claim(worker.worker_id)
        worker.run_task(job)
        ran += 1
    return ran


def _wake_dispatcher(sender, task_result, **kwargs) -> None:
    # A job enqueued in this process runs at once after commit, not at the next poll.
    if not uses_rq():
        transaction.on_commit(events.nudge)


def _fresh_connection(sender, **kwargs) -> None:
    # A long-lived worker: a job must not inherit a connection the server dropped. Not
    # inside a transaction (a test's), which a close would end.
    if not connection.in_atomic_block:
        close_old_connections()


task_enqueued.connect(_wake_dispatcher, dispatch_uid="kontor.jobs.wake")
task_started.connect(_fresh_connection, dispatch_uid="kontor.jobs.started")
task_finished.connect(_fresh_connection, dispatch_uid="kontor.jobs.finished")


# -- timers: fired in the pass, or in RQ jobs --------------------------------------------


@task(queue_name=QUEUE)
def fire_timer_batch(timer_ids: list[int], claim_token: str) -> int:
    """Fire the timers a dispatcher claimed under ``claim_token`` (RQ backend)."""
    return timers.fire_claimed(timer_ids, claim_token)


def _queue_room() -> int:
    import django_rq

    return settings.KONTOR_TIMERS_QUEUED_BATCHES - django_rq.get_queue(QUEUE).count


def _queue_batch(timer_ids: list[int], claim_token: str) -> None:
    fire_timer_batch.enqueue(timer_ids, claim_token)


def run_timers(*, stop: threading.Event | None = None) -> int:
    """The dispatcher pass's timers: fired here (database backend), or claimed here and
    handed to RQ workers a batch per job, no more batches waiting than
    ``KONTOR_TIMERS_QUEUED_BATCHES`` (a lease must not lapse while its batch waits)."""
    if not uses_rq():
        return timers.fire_due(stop=stop)
    return timers.hand_over_due(_queue_batch, room=_queue_room, stop=stop)


def next_timer_due():
    """When the dispatcher should look at the timers again (``events.add_pass``): none
    while the RQ queue has no room for another batch."""
    if uses_rq() and _queue_room() <= 0:
        return None
    return timers.next_due()


# -- RQ workers ----------------------------------------------------------------------------


def rq_worker(stop_asked=None):
    """An RQ worker on Kontor's queue, reading jobs as django-tasks-rq writes them. It
    runs each job in this process (``SimpleWorker``): RQ's default forks a child per
    job, unsafe beside the dispatcher's thread and its database connection.

    ``stop_asked`` (a ``threading.Event``): set by the process's own SIGTERM handler
    until RQ installs its handlers while starting; a stop asked in between is honoured
    then, instead of being lost (or, without a handler, killing the process)."""
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    class InProcessWorker(SimpleWorker):
        def _install_signal_handlers(self):
            super()._install_signal_handlers()
            if stop_asked is not None and stop_asked.is_set():
                # What RQ's own handler does to a worker not yet in its loop: the loop
                # stops before its first job.
                self._stop_requested = True

    return django_rq.get_worker(QUEUE, job_class=Job, worker_class=InProcessWorker)
