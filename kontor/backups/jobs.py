"""Background jobs of backups (kontor.core.jobs): a backup and a restore drill, each run
outside any transaction (a backup reads its own snapshot; a drill builds a database)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def run_backup() -> None:
    services.backup_now()


@task()
def run_drill() -> None:
    services.drill_now()
