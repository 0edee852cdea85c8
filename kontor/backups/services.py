"""Backups on a schedule, kept to a number, and the restore drill that proves them.

The worker's standing timers (``core.timers``) come due every interval and hand the work
to a background job (``jobs``): a timer fires inside a transaction, and a backup must
not (it reads its own snapshot; on SQLite a transaction would hold every writer back).
Each run is a ``BackupRun`` row: the settings page shows the last backup and the last
verified one from them.
"""

from __future__ import annotations

import datetime
import tempfile
import traceback
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import NotFound, PermissionDenied

from . import archive, jobs
from .models import BackupRun

AREA = "backups.backup"
BACKUP_TIMER = "backups.scheduled_backup"
DRILL_TIMER = "backups.restore_drill"
ARCHIVE_PREFIX = "kontor-"
ARCHIVE_SUFFIX = ".zip"
# While a schedule is off its timer still wakes this often, to notice it was turned on.
IDLE_CHECK = datetime.timedelta(hours=1)
_MESSAGE_CHARS = 4000


def may_view(user) -> bool:
    # Backups hold every record of every department: only an "everything" scope sees them.
    return scope_for(user, AREA, Action.VIEW) == Scope.ALL


def may_start(user) -> bool:
    return scope_for(user, AREA, Action.EDIT) == Scope.ALL


def backup_folder() -> Path:
    return Path(settings.KONTOR_BACKUP_DIR)


def archives() -> list[Path]:
    """The scheduled archives in the backup folder, oldest first (names sort by time)."""
    folder = backup_folder()
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}"))


def _finish(run: BackupRun, **fields) -> BackupRun:
    for name, value in fields.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.save()
    return run


def _failed(run: BackupRun, exc: Exception) -> BackupRun:
    detail = getattr(exc, "message", None) or "".join(traceback.format_exception_only(exc))
    return _finish(run, status=BackupRun.Status.FAILED, message=str(detail)[:_MESSAGE_CHARS])


def backup_now() -> BackupRun:
    """Write a backup into the backup folder, keep the newest ``KONTOR_BACKUP_KEEP``."""
    started = timezone.now()
    folder = backup_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ARCHIVE_PREFIX}{started:%Y%m%d-%H%M%S-%f}{ARCHIVE_SUFFIX}"
    run = BackupRun.objects.create(
        kind=BackupRun.Kind.BACKUP, started_at=started, archive=str(path)
    )
    try:
        manifest = archive.write_backup(path)
    except Exception as exc:  # the run's record says what failed; the worker goes on
        return _failed(run, exc)
    _finish(
        run,
        status=BackupRun.Status.OK,
        size=path.stat().st_size,
        tables=len(manifest["tables"]),
        rows=sum(t["rows"] for t in manifest["tables"]),
        files=len(manifest["files"]),
    )
    prune(settings.KONTOR_BACKUP_KEEP)
    return run


def prune(keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` archives; returns the removed ones."""
    removed = archives()[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def drill_now() -> BackupRun:
    """Restore the newest backup into a scratch SQLite database and storage in a temporary
    folder, and record what the restored database holds (counts and digests, each checked
    against the archive's manifest)."""
    found = archives()
    run = BackupRun.objects.create(
        kind=BackupRun.Kind.DRILL,
        started_at=timezone.now(),
        archive=str(found[-1]) if found else "",
    )
    if not found:
        return _failed(run, NotFound(_("There is no backup to restore yet.")))
    try:
        with tempfile.TemporaryDirectory(prefix="kontor-drill-") as folder:
            storage = FileSystemStorage(location=Path(folder) / "files")
            with archive.database(f"sqlite:///{Path(folder) / 'drill.sqlite3'}") as alias:
                report = archive.restore_backup(found[-1], alias=alias, storage=storage)
    except Exception as exc:  # recorded: a failed drill is the finding itself
        return _failed(run, exc)
    return _finish(
        run,
        status=BackupRun.Status.OK,
        size=found[-1].stat().st_size,
        tables=len(report.tables),
        rows=report.rows,
        files=report.files,
        checks={t.table: {"rows": t.rows, "sha256": t.sha256} for t in report.tables},
    )


def start_backup(actor) -> None:
    """Ask the worker for a backup now (the settings page's button)."""
    if not may_start(actor):
        raise PermissionDenied(_("Only an administrator can start a backup."))
    transaction.on_commit(jobs.run_backup.enqueue)


def last_run(kind: str, *, verified: bool = False) -> BackupRun | None:
    runs = BackupRun.objects.filter(kind=kind).exclude(status=BackupRun.Status.RUNNING)
    if verified:
        runs = runs.filter(status=BackupRun.Status.OK)
    return runs.order_by("-started_at").first()


def recent_runs(limit: int = 20):
    return BackupRun.objects.order_by("-started_at")[:limit]


# -- the schedule: standing timers that hand the work to jobs ---------------------------


def _interval(hours: float) -> datetime.timedelta | None:
    return datetime.timedelta(hours=hours) if hours > 0 else None


def next_backup() -> datetime.datetime:
    return timezone.now() + (_interval(settings.KONTOR_BACKUP_INTERVAL_HOURS) or IDLE_CHECK)


def next_drill() -> datetime.datetime:
    return timezone.now() + (_interval(settings.KONTOR_BACKUP_DRILL_HOURS) or IDLE_CHECK)


def scheduled_backup(timer) -> datetime.datetime:
    if _interval(settings.KONTOR_BACKUP_INTERVAL_HOURS):
        transaction.on_commit(jobs.run_backup.enqueue)
    return next_backup()


def scheduled_drill(timer) -> datetime.datetime:
    if _interval(settings.KONTOR_BACKUP_DRILL_HOURS):
        transaction.on_commit(jobs.run_drill.enqueue)
    return next_drill()
