"""The backups settings page: the last backup, the last verified one, recent runs, and a
button that asks the worker for a backup now. A user who may not see it gets 404, as on
the other settings pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.accounts.views import settings_page

from . import services
from .models import BackupRun


@login_required
def backup_list(request):
    if not services.may_view(request.user):
        raise Http404()
    context = {
        "last_backup": services.last_run(BackupRun.Kind.BACKUP),
        "last_verified": services.last_run(BackupRun.Kind.DRILL, verified=True),
        "last_drill": services.last_run(BackupRun.Kind.DRILL),
        "runs": services.recent_runs(),
        "folder": services.backup_folder(),
        "interval_hours": settings.KONTOR_BACKUP_INTERVAL_HOURS,
        "drill_hours": settings.KONTOR_BACKUP_DRILL_HOURS,
        "keep": settings.KONTOR_BACKUP_KEEP,
        "may_start": services.may_start(request.user),
    }
    return settings_page(request, "backups/backups.html", context)


@login_required
@require_POST
def backup_start(request):
    if not services.may_start(request.user):
        raise Http404()
    services.start_backup(request.user)
    messages.success(request, _("A backup was started; this page shows it when it is done."))
    return redirect("backups:backup_list")
