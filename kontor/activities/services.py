"""Every write of tasks: through the engine's one path (``kontor.core.services``).

Permission and placement first, then validation, write, audit, search document and event
in one transaction. Completing a task is an update of its status: ``completed_at`` follows
the status, whichever channel changed it.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.core import audit, bulk, recurrence, timeline
from kontor.core import services as records
from kontor.core.access import SYSTEM, Action, require
from kontor.core.errors import NotFound
from kontor.core.inputs import as_db_id, as_moment, text_problem

from . import dependencies, notifications, reminders
from .models import ChecklistItem, Task, TaskComment

# Input fields taken as given (the model's validation parses and checks them).
TASK_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "due_time",
    "remind_at",
    "repeat",
)
_TEXT_FIELDS = ("title", "description", "repeat")


def _apply_fields(task: Task, data: dict, actor, errors: records.FieldErrors) -> None:
    for field in TASK_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in _TEXT_FIELDS:
            value = "" if value is None else str(value).strip()
            if field == "repeat" and recurrence.normalise(value) != task.repeat:
                task.repeat_start = None  # a new rule starts a new series
        elif value == "":
            value = getattr(Task, field).field.get_default()
        elif field == "due_time" and isinstance(value, datetime.time):
            # A due time is a wall-clock time: an offset sent with it is not kept.
            value = value.replace(tzinfo=None)
        elif field == "remind_at":
            value = as_moment(value)
            if value is None:
                errors.add(field, _("Enter a date and time."))
                continue
        setattr(task, field, value)
    if not task.title:
        errors.add("title", _("This field is required."))
    if task.due_time is not None and task.due_date is None:
        errors.add("due_date", _("A due time needs a due date."))
    _check_repeat(task, errors)
    records.apply_custom_values(task, data, actor, errors)


def _check_repeat(task: Task, errors: records.FieldErrors) -> None:
    """The rule as stored, read from the task's due moment (the recurrence module's
    message if it is not a rule); a new rule starts its series there."""
    task.repeat = recurrence.normalise(task.repeat)
    if not task.repeat:
        task.repeat_start = None
        return
    if task.due_date is None:
        errors.add("repeat", _("A repeating task needs a due date."))
        return
    start = task.repeat_start or task.due_moment()
    try:
        recurrence.parse(task.repeat, start)
    except DjangoValidationError as invalid:
        for message in invalid.messages:
            errors.add("repeat", message)
        return
    task.repeat_start = start


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


def _waits_on(task: Task, data: dict, actor, status_before, errors) -> set[int] | None:
    """The tasks it will wait on if the input changes them (else None), checked, and the
    rule that a task is not done while any of them is still to do."""
    waits_on = None
    if dependencies.FIELD in data:
        waits_on = dependencies.new_waits_on(task, data[dependencies.FIELD], actor, errors)
    if task.status == Task.Status.DONE and (waits_on is not None or task.status != status_before):
        current = waits_on if waits_on is not None else {t.pk for t in task.waits_on_list()}
        dependencies.check_done(task, current, actor, errors)
    return waits_on


def _save_waits_on(task: Task, waits_on: set[int] | None) -> None:
    if waits_on is not None:
        task.waits_on.set(waits_on)


def create_task(data: dict, *, actor) -> Task:
    task = Task(created_by_id=getattr(actor, "pk", None))
    errors = records.FieldErrors()
    _apply_fields(task, data, actor, errors)
    links = timeline.read_links(data, actor, errors)
    records.place_new(task, data, actor, errors)
    waits_on = _waits_on(task, data, actor, None, errors)
    _add_model_errors(task, errors)
    errors.raise_if_any()
    _follow_status(task)
    with transaction.atomic():
        task = records.create_record(
            task, actor=actor, save_related=lambda t: _save_waits_on(t, waits_on)
        )
        timeline.set_links(task, links or [])
        reminders.sync_task_reminder(
            task, remind_changed=task.remind_at is not None, status_changed=False
        )
        if task.repeat:
            reminders.sync_task_recurrence(task)
    return task


def update_task(task: Task, data: dict, *, actor, expected_version=None) -> Task:
    before = {}
    waits_on = None

    def apply(target):
        nonlocal waits_on
        before.update(
            remind_at=target.remind_at,
            status=target.status,
            repeat=(target.repeat, target.due_moment()),
        )
        errors = records.FieldErrors()
        _apply_fields(target, data, actor, errors)
        before["links"] = timeline.read_links(data, actor, errors)
        records.place_edited(target, data, actor, errors)
        waits_on = _waits_on(target, data, actor, before["status"], errors)
        _add_model_errors(target, errors)
        errors.raise_if_any()
        _follow_status(target)

    with transaction.atomic():
        task = records.update_record(
            task,
            apply,
            actor=actor,
            expected_version=expected_version,
            save_related=lambda t: _save_waits_on(t, waits_on),
        )
        status_changed = task.status != before["status"]
        if before["links"] is not None:
            timeline.set_links(task, before["links"])
        reminders.sync_task_reminder(
            task,
            remind_changed=task.remind_at != before["remind_at"],
            status_changed=status_changed,
        )
        if (task.repeat, task.due_moment()) != before["repeat"] or status_changed:
            reminders.sync_task_recurrence(task)
        if status_changed:
            who = str(actor)
            _notify_followers(
                task,
                actor,
                "task.status",
                lambda: (
                    _("%(user)s set “%(task)s” to %(status)s")
                    % {"user": who, "task": task.title, "status": task.status_label}
                ),
            )
    return task


def repeat_task(timer) -> None:
    """The recurrence timer's handler, at a repeating task's due moment: its next copy,
    due at the rule's next occurrence (same title, description, priority, assignee,
    department, custom values and watchers; the checklist unticked; the reminder as far
    ahead of the due moment), which carries the rule on; the rule leaves this one. No
    copy when the series has ended (UNTIL, COUNT). A copy is never due in the past: if
    the firing came late (workers were down), missed occurrences are skipped, not made.
    Each copy has its own timer, so this one fires once (it returns no next moment)."""
    task = Task.objects.filter(pk=timer.object_id).first()
    if task is None or not task.repeat or task.due_date is None:
        return
    due = task.due_moment()
    floor = timezone.now()
    if task.due_time is None:  # a day's task: today's occurrence is not missed yet
        floor = floor.astimezone(due.tzinfo).replace(hour=0, minute=0, second=0, microsecond=0)
        floor -= datetime.timedelta(microseconds=1)
    following = recurrence.next_after(task.repeat, task.repeat_start or due, max(due, floor))
    if following is not None:
        _copy_for(task, following.astimezone(due.tzinfo), following - due)
    records.update_record(task, _end_series, actor=SYSTEM, expected_version=None)


def _end_series(task: Task) -> None:
    task.repeat = ""
    task.repeat_start = None


def _copy_for(task: Task, due: datetime.datetime, shift: datetime.timedelta) -> Task:
    copy = Task(
        title=task.title,
        description=task.description,
        priority=task.priority,
        owner_id=task.owner_id,
        department_id=task.department_id,
        created_by_id=task.created_by_id,
        custom=dict(task.custom or {}),
        due_date=due.date(),
        due_time=due.time() if task.due_time is not None else None,
        remind_at=task.remind_at + shift if task.remind_at is not None else None,
        repeat=task.repeat,
        repeat_start=task.repeat_start,
    )

    def copy_parts(new: Task) -> None:
        ChecklistItem.objects.bulk_create(
            ChecklistItem(task=new, text=item.text, position=item.position)
            for item in task.checklist.all()
        )
        new.watchers.set(task.watchers.all())

    copy = records.create_record(copy, actor=SYSTEM, save_related=copy_parts)
    reminders.sync_task_reminder(
        copy, remind_changed=copy.remind_at is not None, status_changed=False
    )
    reminders.sync_task_recurrence(copy)
    return copy


def wait_on(task: Task, other_id, *, actor) -> Task:
    """The task page's "Waits on" box: one more task it waits on."""
    shown = dependencies.visible_waits_on(task, actor)
    return update_task(task, {dependencies.FIELD: [*shown, other_id]}, actor=actor)


def stop_waiting_on(task: Task, other_id: int, *, actor) -> Task:
    """The task page's remove button of one task it waits on (one the actor sees)."""
    shown = [pk for pk in dependencies.visible_waits_on(task, actor) if pk != other_id]
    return update_task(task, {dependencies.FIELD: shown}, actor=actor)


def set_status(task: Task, status: str, *, actor, expected_version=None) -> Task:
    """Complete, cancel, start or reopen a task (the one-click verbs of its pages)."""
    return update_task(task, {"status": status}, actor=actor, expected_version=expected_version)


# -- the task's parts: checklist, comments, watchers ----------------------------------------


@contextmanager
def _task_part(task: Task, *, actor, action: str = Action.EDIT):
    """The transaction of a write of a part of ``task`` that is not one of its fields:
    the permission on the task (``action``) first, the task's row locked (two writers
    of one checklist take their turns). The task's version stays: an open edit form of
    the task is not made stale by a ticked item or a comment."""
    with transaction.atomic():
        require(actor, action, task)
        list(Task.objects.select_for_update().filter(pk=task.pk).values_list("pk"))
        yield


def _write_part(task: Task, part: str, read, change, *, actor, action: str = Action.EDIT):
    """``change()`` the ``part`` of ``task``, audited in the task's entry as ``read()``
    before and after."""
    with _task_part(task, actor=actor, action=action):
        before = read()
        result = change()
        after = read()
        if before != after:
            audit.record(
                "activities.task.updated", task, actor=actor, changes={part: [before, after]}
            )
    return result


def _checklist_lines(task: Task) -> list[str]:
    return [
        f"[{'x' if done else ' '}] {text}"
        for text, done in task.checklist.order_by("position", "id").values_list("text", "done")
    ]


def checklist_item(task: Task, item_id) -> ChecklistItem:
    """An item of ``task`` (which the caller read through its visible door), or NotFound."""
    item = task.checklist.filter(pk=item_id).first() if item_id is not None else None
    if item is None:
        raise NotFound()
    return item


def add_checklist_item(task: Task, text, *, actor, done: bool = False) -> ChecklistItem:
    """A new item at the end of the checklist."""
    text = _plain_text(text, ChecklistItem.TEXT_LENGTH)

    def add():
        last = task.checklist.order_by("-position").values_list("position", flat=True).first()
        return ChecklistItem.objects.create(
            task=task, text=text, done=bool(done), position=0 if last is None else last + 1
        )

    return _write_part(task, "checklist", lambda: _checklist_lines(task), add, actor=actor)


def change_checklist_item(item: ChecklistItem, data: dict, *, actor) -> ChecklistItem:
    """Tick, rename or move an item: ``data`` holds any of ``text``, ``done`` and
    ``position`` (its place from 0; the others close up around it)."""
    task = item.task
    text = _plain_text(data["text"], ChecklistItem.TEXT_LENGTH) if "text" in data else None

    def change():
        if text is not None:
            item.text = text
        if "done" in data:
            item.done = bool(data["done"])
        item.save(update_fields=["text", "done"])
        if "position" in data:
            _move(task, item, data["position"])
        return item

    return _write_part(task, "checklist", lambda: _checklist_lines(task), change, actor=actor)


def _move(task: Task, item: ChecklistItem, position) -> None:
    order = [pk for pk in task.checklist.values_list("pk", flat=True) if pk != item.pk]
    order.insert(max(0, min(int(position), len(order))), item.pk)
    _number(task, order)
    item.position = order.index(item.pk)


def _number(task: Task, order: list[int]) -> None:
    """Positions 0, 1, 2... in ``order``: kept without gaps, so that "one up" is one less."""
    items = list(task.checklist.all())
    for item in items:
        item.position = order.index(item.pk)
    ChecklistItem.objects.bulk_update(items, ["position"])


def remove_checklist_item(item: ChecklistItem, *, actor) -> None:
    task = item.task

    def remove():
        item.delete()
        _number(task, list(task.checklist.values_list("pk", flat=True)))

    _write_part(task, "checklist", lambda: _checklist_lines(task), remove, actor=actor)


def _plain_text(value, limit: int) -> str:
    """Input text stripped and checked: required, at most ``limit`` characters, storable."""
    text = "" if value is None else str(value).strip()
    errors = records.FieldErrors()
    if not text:
        errors.add("text", _("This field is required."))
    elif len(text) > limit:
        errors.add("text", _("Enter at most %(limit)d characters.") % {"limit": limit})
    elif problem := text_problem(text):
        errors.add("text", problem)
    errors.raise_if_any()
    return text


def add_comment(task: Task, text, *, actor) -> TaskComment:
    """A comment from anyone who may see the task; its followers (``followers``) but the
    author are notified, in the comment's transaction."""
    text = _plain_text(text, TaskComment.TEXT_LENGTH)
    with _task_part(task, actor=actor, action=Action.VIEW):
        comment = TaskComment.objects.create(task=task, author=actor, text=text)
        audit.record(
            "activities.task.updated", task, actor=actor, changes={"comments": [None, text]}
        )
        author = str(actor)
        _notify_followers(
            task,
            actor,
            "task.comment",
            lambda: (
                _("%(author)s on “%(task)s”: %(text)s")
                % {"author": author, "task": task.title, "text": text}
            ),
        )
    return comment


def followers(task: Task) -> set:
    """Who hears of a task's comments and changes of status: its assignee, who set it and
    its watchers."""
    found = {user for user in (task.owner, task.created_by) if user is not None}
    return found | set(task.watchers.all())


def _watcher_names(task: Task) -> list[str]:
    return sorted(str(user) for user in task.watchers.all())


def watch(task: Task, user_id, *, actor) -> None:
    """Make a user a watcher: oneself if one sees the task; someone else if one may edit
    it and they may see it (a user the actor cannot see, or none, is unknown)."""
    pk = as_db_id(user_id)

    def add():
        user = get_user_model().objects.visible_to(actor).filter(pk=pk, is_active=True).first()
        errors = records.FieldErrors()
        if user is None:
            errors.add("user_id", str(records.PLACEMENT_UNKNOWN["owner_id"]))
        elif not Task.objects.visible_to(user).filter(pk=task.pk).exists():
            errors.add("user_id", _("%(user)s cannot see this task.") % {"user": user})
        errors.raise_if_any()
        task.watchers.add(user)

    _write_part(
        task, "watchers", lambda: _watcher_names(task), add, actor=actor, action=_on(pk, actor)
    )


def unwatch(task: Task, user_id, *, actor) -> None:
    """Stop a user watching: oneself (while one sees the task), another if one may edit
    the task."""
    pk = as_db_id(user_id)
    _write_part(
        task,
        "watchers",
        lambda: _watcher_names(task),
        lambda: task.watchers.remove(*task.watchers.filter(pk=pk)),
        actor=actor,
        action=_on(pk, actor),
    )


def _on(user_id, actor) -> str:
    """The permission on the task a change of ``user_id``'s watching takes: one's own,
    seeing it; another's, editing it."""
    return (
        Action.VIEW
        if user_id is not None and user_id == getattr(actor, "pk", None)
        else Action.EDIT
    )


def _notify_followers(task: Task, actor, kind: str, title) -> None:
    """A notification to each follower but ``actor``, only to those who may still see the
    task (a follower moved out of its reach hears nothing of it): ``title()`` in each
    one's language."""
    for user in followers(task):
        if user.pk == getattr(actor, "pk", None):
            continue
        if not Task.objects.visible_to(user).filter(pk=task.pk).exists():
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            notifications.notify(user, kind, title(), about=task)


def delete_task(task: Task, *, actor, expected_version=None) -> None:
    records.delete_record(task, actor=actor, expected_version=expected_version)


# Timers a single write sets, which the import's INSERTs do not.
_TIMED_FIELDS = ("remind_at", "repeat")


class TaskImporter(bulk.Importer):
    """A task's row in a bulk import: the cleaning of a single write. Without reminders
    and repeat rules: each is a timer a single write sets."""

    fields = tuple(f for f in TASK_FIELDS if f not in _TIMED_FIELDS)
    # Nothing to wait on yet: an empty list, primed so that the audit reads no rows.
    related = ("waits_on",)

    def clean(self, obj, data, errors):
        obj.created_by_id = getattr(self.actor, "pk", None)
        timeless = {k: v for k, v in data.items() if k not in _TIMED_FIELDS}
        _apply_fields(obj, timeless, self.actor, errors)
        _follow_status(obj)
        return {"waits_on": []}
