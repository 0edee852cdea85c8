"""The task page's panels beside its fields: what it waits on, its checklist, its
comments, its watchers.

The profile tab includes each panel (``TaskType.profile_context`` reads them); a panel's
forms post here with htmx and get the panel back, its errors inline; without htmx they
get the task's page again, the errors as messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kontor.accounts.queries import UserFilters, users
from kontor.core.access import Action, record_in_scope
from kontor.core.errors import ValidationFailed
from kontor.web.errors import service_errors

from . import dependencies, services
from .models import Task
from .types import TASK


def panels(user, task: Task) -> dict:
    """What the task page's panels show ``user``."""
    checklist = list(task.checklist.all())
    may_edit = record_in_scope(user, task, Action.EDIT)
    return {
        "may_edit": may_edit,
        "dependencies": dependencies.both_ways(task, user),
        "checklist": checklist,
        "checklist_done": sum(item.done for item in checklist),
        "comments": _last_comments(task),
        "watchers": list(task.watchers.order_by("last_name", "first_name", "id")),
        "watcher_choices": _watcher_choices(user, task) if may_edit else [],
    }


WATCHER_CHOICES = 500


def _watcher_choices(user, task: Task) -> list:
    """Whom an editor may add: active users they see (the service asks whether each sees
    the task), not yet watching."""
    choices = users(user, UserFilters(active=True)).exclude(watched_tasks=task)
    return list(choices.order_by("last_name", "first_name", "id")[:WATCHER_CHOICES])


COMMENTS_SHOWN = 200


def _last_comments(task: Task) -> list:
    """The newest comments, the newest last."""
    newest = task.comments.select_related("author").order_by("-created_at", "-id")
    return list(reversed(newest[:COMMENTS_SHOWN]))


def _task(request, pk: int) -> Task:
    return TASK.one(request.user, pk)


def _answer(request, task: Task, template: str, write) -> object:
    """Run ``write()``; the panel again (htmx) or the task's page, errors said."""
    errors = []
    try:
        write()
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


CHECKLIST_PANEL = "activities/_task_checklist.html"


@require_POST
@login_required
@service_errors
def add_checklist_item(request, pk: int):
    task = _task(request, pk)
    return _answer(
        request,
        task,
        CHECKLIST_PANEL,
        lambda: services.add_checklist_item(task, request.POST.get("text"), actor=request.user),
    )


@require_POST
@login_required
@service_errors
def change_checklist_item(request, pk: int, item: int):
    """One item's form: its box and text saved, or moved a place up or down, or removed."""
    task = _task(request, pk)
    found = services.checklist_item(task, item)
    if "remove" in request.POST:
        return _answer(
            request,
            task,
            CHECKLIST_PANEL,
            lambda: services.remove_checklist_item(found, actor=request.user),
        )
    data = {"text": request.POST.get("text", ""), "done": request.POST.get("done") == "1"}
    step = {"up": -1, "down": 1}.get(request.POST.get("move", ""))
    if step is not None:
        data["position"] = max(found.position + step, 0)
    return _answer(
        request,
        task,
        CHECKLIST_PANEL,
        lambda: services.change_checklist_item(found, data, actor=request.user),
    )


@require_POST
@login_required
@service_errors
def add_comment(request, pk: int):
    task = _task(request, pk)
    return _answer(
        request,
        task,
        "activities/_task_comments.html",
        lambda: services.add_comment(task, request.POST.get("text"), actor=request.user),
    )


WATCHERS_PANEL = "activities/_task_watchers.html"


@require_POST
@login_required
@service_errors
def add_watcher(request, pk: int):
    task = _task(request, pk)
    return _answer(
        request,
        task,
        WATCHERS_PANEL,
        lambda: services.watch(task, request.POST.get("user_id"), actor=request.user),
    )


@require_POST
@login_required
@service_errors
def remove_watcher(request, pk: int, user: int):
    task = _task(request, pk)
    return _answer(
        request, task, WATCHERS_PANEL, lambda: services.unwatch(task, user, actor=request.user)
    )
