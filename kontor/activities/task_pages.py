"""The task page's panels beside its fields: what it waits on (and next its checklist,
comments, watchers).

The profile tab includes each panel (``TaskType.profile_context`` reads them); a panel's
forms post here with htmx and get the panel back, its errors inline; without htmx they
get the task's page again, the errors as messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kontor.core.access import Action, record_in_scope
from kontor.core.errors import ValidationFailed
from kontor.web.errors import service_errors

from . import dependencies, services
from .models import Task
from .types import TASK


def panels(user, task: Task) -> dict:
    """What the task page's panels show ``user``."""
    return {
        "may_edit": record_in_scope(user, task, Action.EDIT),
        "dependencies": dependencies.both_ways(task, user),
    }


def _task(request, pk: int) -> Task:
    return TASK.one(request.user, pk)


def _answer(request, task: Task, template: str, write) -> object:
    """Run ``write()``; the panel again (htmx) or the task's page, errors said."""
    errors = []
    try:
        task = write() or task
    except ValidationFailed as failed:
        errors = [m for msgs in failed.errors.values() for m in msgs]
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        return redirect("activities:task_detail", task.pk)
    task.refresh_from_db()
    context = {"obj": task, "panel_errors": errors, **panels(request.user, task)}
    return render(request, template, context)


@require_POST
@login_required
@service_errors
def add_waits_on(request, pk: int):
    task = _task(request, pk)
    return _answer(
        request,
        task,
        "activities/_task_dependencies.html",
        lambda: services.wait_on(task, request.POST.get("waits_on", ""), actor=request.user),
    )


@require_POST
@login_required
@service_errors
def remove_waits_on(request, pk: int, other: int):
    task = _task(request, pk)
    return _answer(
        request,
        task,
        "activities/_task_dependencies.html",
        lambda: services.stop_waiting_on(task, other, actor=request.user),
    )
