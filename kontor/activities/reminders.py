"""Reminders: a timer per reminded record that fires a notification for its owner; and
the timer of a repeating task, which makes its next copy (``services.repeat_task``)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.core import timers

from . import notifications
from .models import Task

TASK_REMINDER = "activities.task_reminder"
TASK_RECURRENCE = "activities.task_recurrence"


def sync_task_reminder(task: Task, *, remind_changed: bool, status_changed: bool) -> None:
    """Keep the task's reminder timer in step with it, in its write's transaction: set
    or moved when ``remind_at`` changed, gone when the task is done or cancelled, set
    again when it is reopened with a reminder still ahead."""
    if task.remind_at is None or not task.is_active:
        if remind_changed or status_changed:
            timers.cancel(task, kind=TASK_REMINDER)
        return
    if remind_changed or (status_changed and task.remind_at > timezone.now()):
        timers.schedule(TASK_REMINDER, task, task.remind_at)


def remind_of_task(timer) -> None:
    """The reminder timer's handler: the assignee's notification, if still to do."""
    task = Task.objects.select_related("owner").filter(pk=timer.object_id).first()
    if task is None or not task.is_active or task.owner is None:
        return
    with translation.override(task.owner.language or settings.LANGUAGE_CODE):
        title = _("Reminder: %(task)s") % {"task": task.title}
    notifications.notify(task.owner, "task.reminder", title, about=task)


def sync_task_recurrence(task: Task) -> None:
    """Keep a repeating task's timer at its due moment, in its write's transaction: set
    or moved while it has a rule (done or not: the series goes on), gone when the rule
    is cleared or the task cancelled (cancelling the current copy ends the series)."""
    if task.repeat and task.due_date is not None and task.status != Task.Status.CANCELLED:
        timers.schedule(TASK_RECURRENCE, task, task.due_moment())
    else:
        timers.cancel(task, kind=TASK_RECURRENCE)
