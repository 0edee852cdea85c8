"""Task reminders at scale: N real reminders due within a window, fired by real workers.

    .venv/bin/python bench/timers_load.py --database-url postgres://bench@127.0.0.1:PORT/timers \\
        [--reminders 10000] [--window 60] [--workers 3] [--kill] \\
        [--backend database|rq --redis-url redis://127.0.0.1:PORT/0] [--json]

On an empty database (migrated here): one user, ``--reminders`` open tasks assigned to
them, each with its ``activities.task_reminder`` timer (the rows the task services
write, bulk-inserted), due evenly over ``--window`` seconds from a few seconds after
the ``--workers`` ``kontor worker`` processes have started. With ``--kill`` the first
worker is killed with SIGKILL once a third of the reminders have fired; the others go
on. Then it counts, from the database: tasks with a reminder notification (once each:
duplicates 0, lost 0), the ledger rows, and each reminder's lateness (its
notification's time minus the reminder's due time): p50, p95, p99, max.

Loopback only, bounded: the run ends when every reminder fired or after ``--timeout``.
tests/core/test_timers_at_scale.py runs it small in CI; docs/benchmarks.md, "Issue 13:
timers at scale", has the full figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

KONTOR = Path(sys.executable).with_name("kontor")
BANNER = "Kontor worker delivering events"
# From the last row inserted to the first reminder due: the insert must not count as
# lateness.
LEAD_SECONDS = 2.0
INSERT_BATCH = 2000
KILL_AT = 1 / 3


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return 0.0
    rank = max(1, round(share * len(values) + 0.5))
    return values[min(rank, len(values)) - 1]


def start_workers(count: int, env: dict, logs: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        with (logs / f"worker{n}.log").open("w") as log:
            workers.append(
                subprocess.Popen([str(KONTOR), "worker"], env=env, stdout=log, stderr=log)
            )
    deadline = time.monotonic() + 120
    while not all(BANNER in (logs / f"worker{n}.log").read_text() for n in range(count)):
        if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
            stop(workers)
            raise SystemExit("a worker did not start:\n" + read_logs(logs))
        time.sleep(0.05)
    return workers


def read_logs(logs: Path) -> str:
    return "\n".join(f"{p.name}:\n{p.read_text()}" for p in sorted(logs.glob("*.log")))


def reap(worker: subprocess.Popen, deadline: float) -> float:
    """Wait for a worker that was told to end (killed at ``deadline``); returns the CPU
    seconds it used, user and system: a figure the machine's other load does not
    inflate, unlike wall time."""
    while True:
        pid, status, usage = os.wait4(worker.pid, os.WNOHANG)
        if pid:
            worker.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            worker.kill()
        time.sleep(0.05)


def stop(workers: list[subprocess.Popen]) -> float:
    """SIGTERM the workers still running; returns the CPU seconds they used."""
    running = [worker for worker in workers if worker.returncode is None]
    for worker in running:
        worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    return sum(reap(worker, deadline) for worker in running)


def create_reminders(count: int, window: float):
    """The tasks and their reminder timers, due evenly over ``window`` from a moment
    just after the insert; returns that first due moment."""
    from django.db import transaction
    from django.utils import timezone

    from kontor.accounts import services as accounts
    from kontor.activities.models import Task
    from kontor.activities.reminders import TASK_REMINDER
    from kontor.core.access import SYSTEM
    from kontor.core.models import Timer

    if Task.objects.exists():
        raise SystemExit("the database holds tasks already: give an empty one")
    owner = accounts.create_user(
        email="reminded@example.com", password="Bench-timers-1", actor=SYSTEM
    )
    # A first guess at the insert's length, checked below: reminders must not come due
    # while their rows are still being written.
    first_due = timezone.now() + timedelta(seconds=LEAD_SECONDS + count / 5000)
    step = timedelta(seconds=window / count)
    with transaction.atomic():
        tasks = Task.objects.bulk_create(
            (
                Task(title=f"Reminder {n}", owner=owner, remind_at=first_due + n * step)
                for n in range(count)
            ),
            batch_size=INSERT_BATCH,
        )
        Timer.objects.bulk_create(
            (
                Timer(
                    kind=TASK_REMINDER,
                    object_type=Task._meta.label_lower,
                    object_id=task.pk,
                    due_at=task.remind_at,
                )
                for task in tasks
            ),
            batch_size=INSERT_BATCH,
        )
    late_insert = (timezone.now() - first_due).total_seconds()
    return first_due, late_insert


def fired_count() -> int:
    from kontor.activities.models import Notification

    return Notification.objects.filter(kind="task.reminder").count()


def pending_reminders() -> int:
    from kontor.activities.reminders import TASK_REMINDER
    from kontor.core.models import Timer

    return Timer.objects.filter(kind=TASK_REMINDER).exclude(status=Timer.Status.FIRED).count()


def measure(count: int, first_due) -> dict:
    from django.db.models import Count

    from kontor.activities.models import Notification, Task
    from kontor.activities.reminders import TASK_REMINDER
    from kontor.core.models import Timer, TimerFiring

    due = dict(Task.objects.values_list("id", "remind_at"))
    per_task = dict(
        Notification.objects.filter(kind="task.reminder")
        .values_list("object_id")
        .annotate(n=Count("id"))
        .values_list("object_id", "n")
    )
    first_seen = dict(
        Notification.objects.filter(kind="task.reminder")
        .order_by("-id")
        .values_list("object_id", "created_at")
    )
    lateness = sorted((first_seen[pk] - due[pk]).total_seconds() for pk in first_seen)
    last = max(first_seen.values(), default=first_due)
    reminders = Timer.objects.filter(kind=TASK_REMINDER)
    return {
        "reminders": count,
        "delivered": sum(1 for pk in due if per_task.get(pk, 0) >= 1),
        "duplicates": sum(n - 1 for n in per_task.values() if n > 1),
        "lost": sum(1 for pk in due if pk not in per_task),
        "ledger_rows": TimerFiring.objects.filter(timer__kind=TASK_REMINDER).count(),
        "fired_again_after_a_kill": reminders.filter(attempts__gt=1).count(),
        "wall_seconds": round((last - first_due).total_seconds(), 2),
        "lateness_p50": round(percentile(lateness, 0.50), 3),
        "lateness_p95": round(percentile(lateness, 0.95), 3),
        "lateness_p99": round(percentile(lateness, 0.99), 3),
        "lateness_max": round(lateness[-1] if lateness else 0.0, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty database")
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds they come due in")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill", action="store_true", help="SIGKILL one worker mid-run")
    parser.add_argument("--backend", choices=["database", "rq"], default="database")
    parser.add_argument("--redis-url", default="", help="the rq backend's Redis (loopback)")
    parser.add_argument("--lease", type=float, default=30.0, help="KONTOR_TIMERS_LEASE_SECONDS")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds, at most")
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args(argv)
    if args.backend == "rq" and not args.redis_url:
        parser.error("--backend rq needs --redis-url")

    backend = {"KONTOR_TASKS_BACKEND": args.backend, "KONTOR_TIMERS_LEASE_SECONDS": str(args.lease)}
    if args.redis_url:
        backend["KONTOR_REDIS_URL"] = args.redis_url
    os.environ.update(backend)
    _setup.configure(args.database_url)
    from django.core.management import call_command
    from django.db import close_old_connections

    call_command("migrate", interactive=False, verbosity=0)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "PYTHONPATH": str(_setup.BENCH_DIR.parent),
    }
    with tempfile.TemporaryDirectory(prefix="kontor-timers-") as folder:
        logs = Path(folder)
        workers = start_workers(args.workers, env, logs)
        killed, cpu = False, 0.0
        try:
            first_due, late_insert = create_reminders(args.reminders, args.window)
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                close_old_connections()
                if args.kill and not killed and fired_count() >= args.reminders * KILL_AT:
                    workers[0].send_signal(signal.SIGKILL)
                    cpu += reap(workers[0], time.monotonic())
                    killed = True
                if fired_count() >= args.reminders and not pending_reminders():
                    break
                time.sleep(0.2)
        finally:
            cpu += stop(workers)
        if any(w.returncode not in (0, -signal.SIGKILL) for w in workers):
            print(read_logs(logs), file=sys.stderr)
        result = {
            "backend": args.backend,
            "database": args.database_url.split(":", 1)[0],
            "workers": args.workers,
            "window_seconds": args.window,
            "killed": killed,
            "insert_late_seconds": round(max(late_insert, 0.0), 3),
            **measure(args.reminders, first_due),
            # Whole runs, start-up and idle polls included: an upper bound.
            "worker_cpu_ms_per_reminder": round(cpu * 1000 / args.reminders, 2),
            "load_average_after": round(os.getloadavg()[0], 1),
        }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
