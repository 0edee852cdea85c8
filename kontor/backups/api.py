"""/api/v1/backups: the last backup and the last verified one (for monitoring), and
starting a backup now. Administrators only (the ``backups.backup`` area)."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from kontor.core.api import ErrorOut
from kontor.core.errors import PermissionDenied

from . import services
from .models import BackupRun

router = Router(tags=["backups"])


class RunOut(Schema):
    id: int
    kind: str = Field(description="backup, or drill (the newest backup restored and checked)")
    status: str = Field(description="running, ok or failed")
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    archive: str
    size: int | None = Field(description="The archive's bytes")
    tables: int
    rows: int
    files: int
    message: str


class BackupsOut(Schema):
    last_backup: RunOut | None
    last_verified: RunOut | None = Field(description="The last drill that succeeded")
    runs: list[RunOut] = Field(description="The recent backups and drills, newest first")


@router.get("/backups", response={200: BackupsOut, 403: ErrorOut}, operation_id="backups_get")
def backups(request):
    if not services.may_view(request.user):
        raise PermissionDenied(_("Only an administrator can see the backups."))
    return {
        "last_backup": services.last_run(BackupRun.Kind.BACKUP),
        "last_verified": services.last_run(BackupRun.Kind.DRILL, verified=True),
        "runs": list(services.recent_runs()),
    }


@router.post("/backups", response={202: None}, operation_id="backups_start")
def start_backup(request):
    """Ask the worker for a backup now; ``GET /backups`` shows it when it is done."""
    services.start_backup(request.user)
    return Status(202, None)
