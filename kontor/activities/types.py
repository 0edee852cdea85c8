"""Tasks on the engine: list, detail, forms, API, export, search, audit come from it."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core import grouping
from kontor.core.inputs import as_db_id
from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    Filter,
    FilterKind,
    MenuEntry,
    RecordType,
    Timeline,
    Verbs,
)

from . import schemas, services
from .models import ChecklistItem, Task


def overdue_q() -> Q:
    """Tasks still to do whose day has passed, or whose moment today has."""
    now = timezone.localtime()
    return Q(status__in=Task.ACTIVE) & (
        Q(due_date__lt=now.date()) | Q(due_date=now.date(), due_time__lt=now.time())
    )


def _status_options(user):
    return [
        ("active", _("To do")),
        ("overdue", _("Overdue")),
        *((value, label.capitalize()) for value, label in Task.Status.choices),
    ]


def _by_status(qs, user, value):
    if value == "active":
        return qs.filter(status__in=Task.ACTIVE)
    if value == "overdue":
        return qs.filter(overdue_q())
    return qs.filter(status=value)


def _priority_options(user):
    return [(str(value), label.capitalize()) for value, label in Task.Priority.choices]


def _by_priority(qs, user, value):
    priority = as_db_id(value)
    return qs.filter(priority=priority) if priority else qs.none()


def _set_by_options(user):
    return [("me", _("Set by me")), ("others", _("Set by me for others"))]


def _by_setter(qs, user, value):
    mine = qs.filter(created_by_id=user.pk)
    return mine.exclude(owner_id=user.pk) if value == "others" else mine


def _due(task: Task):
    return task.due_date


def _checklist_count(**done):
    """Items of the row's checklist (those ``done`` if given), in the row's own query: a
    list shows "3/5" without a query per row."""
    items = (
        ChecklistItem.objects.filter(task=OuterRef("pk"), **done)
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(items, output_field=IntegerField()), 0)


def _checklist_cell(task: Task) -> str:
    return f"{task.checklist_done}/{task.checklist_total}" if task.checklist_total else ""


def _status_cell(task: Task) -> str:
    status = task.status_label.capitalize()
    return format_lazy("{} · {}", status, _("overdue")) if task.is_overdue else status


class TaskType(RecordType):
    model = Task
    verbs = Verbs(services.create_task, services.update_task, services.delete_task)
    name = "task"
    path = "tasks"
    namespace = "activities"
    singular = _("task")
    plural = _("tasks")
    menu = MenuEntry(_("Tasks"), order=30)
    # A task shows on the timelines of the records it is about from when it was set.
    timeline = Timeline(
        "created_at",
        "activities/_task_entry.html",
        quick_template="activities/_task_quick.html",
        label=_("Tasks"),
    )
    home_widget = True
    sorts = {
        "due": ("due_date", "due_time", "id"),
        "-due": ("-due_date", "-due_time", "-id"),
        "name": ("title", "id"),
        "-name": ("-title", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    default_sort = "due"
    groups = (
        grouping.by_choice("status", _("Status"), "status", Task.Status.choices),
        grouping.by_choice(
            "priority", _("Priority"), "priority", Task.Priority.choices, order=("-priority",)
        ),
    )
    filters = (
        Filter(
            "status",
            _("Status"),
            FilterKind.CHOICE,
            _by_status,
            options=_status_options,
            description="active (open or in progress), overdue, open, in_progress, done, cancelled",
        ),
        Filter(
            "priority",
            _("Priority"),
            FilterKind.CHOICE,
            _by_priority,
            options=_priority_options,
            description="1 (low), 2 (normal), 3 (high)",
        ),
        Filter(
            "set_by",
            _("Set by"),
            FilterKind.CHOICE,
            _by_setter,
            options=_set_by_options,
            description="me: tasks you set; others: tasks you set for someone else",
        ),
    )
    profile_template = "activities/_task_profile.html"
    subtitle_template = "activities/_task_subtitle.html"
    form_template = "activities/_task_fields.html"
    owner_label = _("Assignee")
    mine_label = _("Assigned to me")
    hidden_name = _("a task you cannot see")
    unknown_text = _("Unknown task.")
    new_label = _("New task")
    search_placeholder = _("Search tasks…")
    empty_title = _("No tasks yet")
    first_label = _("Add the first task")
    empty_text = _("Set yourself or a colleague something to do, with a due date.")
    search = {"label": _("Tasks"), "ordering": ("title", "id"), "code": 3}
    search_description = "Title, description"
    out_schema = schemas.TaskOut
    create_schema = schemas.TaskIn
    patch_schema = schemas.TaskPatch

    @property
    def form_class(self):
        from .forms import TaskForm

        return TaskForm

    @property
    def columns(self):
        return (
            Column("title", pgettext_lazy("task", "Title"), CellKind.TITLE, str, sort="name"),
            Column("status", _("Status"), CellKind.TEXT, _status_cell),
            Column(
                "priority",
                _("Priority"),
                CellKind.TEXT,
                lambda t: t.priority_label.capitalize(),
            ),
            Column("due", _("Due"), CellKind.DATE, _due, sort="due"),
            Column("checklist", _("Checklist"), CellKind.TEXT, _checklist_cell),
            Column("owner", _("Assignee"), CellKind.TEXT, lambda t: t.owner or ""),
            Column("updated", _("Updated"), CellKind.DATE, lambda t: t.updated_at, "updated"),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda t, extra: t.pk),
        ExportColumn(pgettext_lazy("task", "Title"), lambda t, extra: t.title),
        ExportColumn(_("Description"), lambda t, extra: t.description),
        ExportColumn(_("Status"), lambda t, extra: t.status_label),
        ExportColumn(_("Priority"), lambda t, extra: t.priority_label),
        ExportColumn(_("Due date"), lambda t, extra: t.due_date),
        ExportColumn(_("Due time"), lambda t, extra: t.due_time),
        ExportColumn(_("Completed"), lambda t, extra: t.completed_at),
        ExportColumn(_("Assignee"), lambda t, extra: str(t.owner or "")),
        ExportColumn(_("Set by"), lambda t, extra: str(t.created_by or "")),
        ExportColumn(_("Department"), lambda t, extra: str(t.department or "")),
        ExportColumn(_("Created"), lambda t, extra: t.created_at),
    )

    def base_queryset(self, user, action, *, sorted_page=False):
        qs = super().base_queryset(user, action, sorted_page=sorted_page)
        return qs.select_related("created_by").annotate(
            checklist_total=_checklist_count(), checklist_done=_checklist_count(done=True)
        )

    def row_subtitle(self, obj):
        if obj.is_overdue:
            return _("Overdue")
        return obj.status_label if not obj.is_active else ""

    def row_class(self, obj) -> str:
        return "row-overdue" if obj.is_overdue else ""

    def quick_filters(self, user):
        return [
            (_("Assigned to me"), {"mine": "true"}),
            (_("Delegated"), {"set_by": "others"}),
            (_("Overdue"), {"status": "overdue"}),
        ]

    def list_links(self, user):
        return [(_("Report"), reverse("activities:task_report"))]

    def to_out(self, obj) -> dict:
        return schemas.task_out(obj)

    def profile_context(self, request, obj) -> dict:
        from .task_pages import panels  # its views read this type

        return panels(request.user, obj)

    def importer(self, actor):
        return services.TaskImporter(self, actor)


TASK = TaskType()
