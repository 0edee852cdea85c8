"""Every write of tasks: through the engine's one path (``kontor.core.services``).

Permission and placement first, then validation, write, audit, search document and event
in one transaction. Completing a task is an update of its status: ``completed_at`` follows
the status, whichever channel changed it.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kontor.core import bulk, timeline
from kontor.core import services as records

from . import reminders
from .models import Task

# Input fields taken as given (the model's validation parses and checks them).
TASK_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "due_time",
    "remind_at",
)
_TEXT_FIELDS = ("title", "description")


def _apply_fields(task: Task, data: dict, actor, errors: records.FieldErrors) -> None:
    for field in TASK_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in _TEXT_FIELDS:
            value = "" if value is None else str(value).strip()
        elif value == "":
            value = getattr(Task, field).field.get_default()
        elif field == "remind_at":
            value = _moment(value)
            if value is None:
                errors.add(field, _("Enter a date and time."))
                continue
        setattr(task, field, value)
    if not task.title:
        errors.add("title", _("This field is required."))
    if task.due_time is not None and task.due_date is None:
        errors.add("due_date", _("A due time needs a due date."))
    records.apply_custom_values(task, data, actor, errors)


def _moment(value) -> datetime.datetime | None:
    """A moment from input: a datetime or its ISO text, without an offset in the
    reader's time zone (a form's date and time)."""
    if isinstance(value, str):
        value = parse_datetime(value.strip())
    if not isinstance(value, datetime.datetime):
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _add_model_errors(task: Task, errors: records.FieldErrors) -> None:
    """The model's own messages (a status or priority out of its choices, a date that is
    none) beside the service's, so that a form shows every problem at once."""
    found = records.field_errors(task, exclude=["owner", "department"], validate_unique=False)
    for field, messages in found.items():
        if field not in errors.by_field:
            for message in messages:
                errors.add(field, message)


def _follow_status(task: Task) -> None:
    if task.status == Task.Status.DONE:
        task.completed_at = task.completed_at or timezone.now()
    else:
        task.completed_at = None


def create_task(data: dict, *, actor) -> Task:
    task = Task(created_by_id=getattr(actor, "pk", None))
    errors = records.FieldErrors()
    _apply_fields(task, data, actor, errors)
    links = timeline.read_links(data, actor, errors)
    records.place_new(task, data, actor, errors)
    _add_model_errors(task, errors)
    errors.raise_if_any()
    _follow_status(task)
    with transaction.atomic():
        task = records.create_record(task, actor=actor)
        timeline.set_links(task, links or [])
        reminders.sync_task_reminder(
            task, remind_changed=task.remind_at is not None, status_changed=False
        )
    return task


def update_task(task: Task, data: dict, *, actor, expected_version=None) -> Task:
    before = {}

    def apply(target):
        before.update(remind_at=target.remind_at, status=target.status)
        errors = records.FieldErrors()
        _apply_fields(target, data, actor, errors)
        before["links"] = timeline.read_links(data, actor, errors)
        records.place_edited(target, data, actor, errors)
        _add_model_errors(target, errors)
        errors.raise_if_any()
        _follow_status(target)

    with transaction.atomic():
        task = records.update_record(task, apply, actor=actor, expected_version=expected_version)
        if before["links"] is not None:
            timeline.set_links(task, before["links"])
        reminders.sync_task_reminder(
            task,
            remind_changed=task.remind_at != before["remind_at"],
            status_changed=task.status != before["status"],
        )
    return task


def set_status(task: Task, status: str, *, actor, expected_version=None) -> Task:
    """Complete, cancel, start or reopen a task (the one-click verbs of its pages)."""
    return update_task(task, {"status": status}, actor=actor, expected_version=expected_version)


def delete_task(task: Task, *, actor, expected_version=None) -> None:
    records.delete_record(task, actor=actor, expected_version=expected_version)


class TaskImporter(bulk.Importer):
    """A task's row in a bulk import: the cleaning of a single write. Without reminders:
    a reminder is a timer a single write sets, which the import's INSERTs do not."""

    fields = tuple(f for f in TASK_FIELDS if f != "remind_at")

    def clean(self, obj, data, errors):
        obj.created_by_id = getattr(self.actor, "pk", None)
        _apply_fields(obj, {k: v for k, v in data.items() if k != "remind_at"}, self.actor, errors)
        _follow_status(obj)
        return {}
