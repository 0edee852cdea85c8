"""Dashboards: which one a user's home page shows, and every write to one.

- A user's home page is their own first dashboard; else the one published to their
  department or the nearest above it; else the default (``default_widgets``).
- Anyone has dashboards of their own. Publishing one to a department is decided as
  sharing a saved view with one is (``savedviews.services.sharing_choices`` and
  ``access.placement_departments`` on the grant ``dashboards.dashboard``): "edit" at
  scope "department" or wider (a head), to a department that grant places in (their
  own; their subtree with "subtree"; any with "all"). Members see it read-only and may
  copy it to their own.
- Its owner changes a dashboard, and so does an administrator of dashboards ("edit"
  with scope "all", the admin role's "*"), who also lists and unpublishes everyone's.
- Each write is one transaction with its audit row (``dashboards.dashboard.*``,
  ``dashboards.widget.*``) through ``core.services.audit_write`` / ``delete_audited``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.accounts.models import Department
from kontor.core import services as records
from kontor.core.access import Action, Scope, placement_departments, scope_for
from kontor.core.errors import NotFound, PermissionDenied
from kontor.core.inputs import as_db_id
from kontor.savedviews.models import SavedView, department_chain
from kontor.savedviews.services import sharing_choices

from . import widgets
from .models import DASHBOARD_TYPE, GRID_COLUMNS, Dashboard, Widget

NAME_LIMIT = Dashboard._meta.get_field("name").max_length
WIDGETS_LIMIT = 30
DEFAULT_NAME = gettext_lazy("My dashboard")
# The default dashboard: what a user sees before they or their head arrange one.
DEFAULT_WIDGETS = (("overview", 4), ("my_tasks", 2), ("my_deals", 2), ("birthdays", 2))


def may_manage_dashboards(user) -> bool:
    """Administrators: everyone's dashboards, to unpublish or delete."""
    return scope_for(user, DASHBOARD_TYPE, Action.EDIT) == Scope.ALL


def may_publish(user) -> bool:
    return SavedView.Sharing.DEPARTMENT in sharing_choices(user, DASHBOARD_TYPE)


def publish_departments(user) -> list[int | None] | None:
    """The departments ``user`` may publish to (None: any)."""
    return placement_departments(user, DASHBOARD_TYPE, Action.EDIT)


def may_change(user, dashboard: Dashboard) -> bool:
    return dashboard.owner_id == getattr(user, "pk", None) or may_manage_dashboards(user)


def own_dashboards(user):
    return Dashboard.objects.filter(owner_id=user.pk).select_related("department")


def published_to(user) -> Dashboard | None:
    """Of the dashboards others published to the user's department or those above it,
    the nearest department's (its first)."""
    chain = department_chain(user)
    if not chain:
        return None
    found = (
        Dashboard.objects.filter(department_id__in=chain)
        .exclude(owner_id=user.pk)
        .select_related("owner", "department")
    )
    nearest = {pk: depth for depth, pk in enumerate(chain)}
    return min(found, key=lambda d: (-nearest[d.department_id], d.position, d.pk), default=None)


@dataclass
class Home:
    """What the home page shows: a dashboard (None: the default) and whether it is the
    reader's own to arrange."""

    dashboard: Dashboard | None
    widgets: list[Widget]
    own: bool


def default_widgets() -> list[Widget]:
    return [
        Widget(kind=kind, width=width, position=position, settings={})
        for position, (kind, width) in enumerate(DEFAULT_WIDGETS)
        if widgets.get(kind) is not None
    ]


def home(user) -> Home:
    dashboard = own_dashboards(user).first()
    own = dashboard is not None
    if dashboard is None:
        dashboard = published_to(user)
    if dashboard is None:
        return Home(None, [w for w in default_widgets() if widgets.shown(user, w)], False)
    shown = [w for w in dashboard.widgets.all() if widgets.shown(user, w)]
    return Home(dashboard, shown, own)


def dashboard_for(user, pk) -> Dashboard:
    """A dashboard ``user`` may open: theirs, one published to their department chain,
    any for an administrator of dashboards; else NotFound."""
    pk = as_db_id(pk)
    found = Dashboard.objects.select_related("owner", "department").filter(pk=pk).first()
    if found is None or not (
        found.owner_id == user.pk
        or found.department_id in department_chain(user)
        or may_manage_dashboards(user)
    ):
        raise NotFound()
    return found


def widget_for(user, pk, *, change: bool = False) -> Widget:
    pk = as_db_id(pk)
    found = Widget.objects.select_related("dashboard").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    dashboard_for(user, found.dashboard_id)
    if change and not may_change(user, found.dashboard):
        raise PermissionDenied()
    return found


# -- dashboards ---------------------------------------------------------------------------------


def create_dashboard(data: dict, *, actor) -> Dashboard:
    """A dashboard of ``actor``'s from ``{"name", "department_id"?}``, first among theirs."""
    dashboard = Dashboard(owner=actor)
    with transaction.atomic():
        _clean(dashboard, {"name": data.get("name", ""), **data}, actor)
        own_dashboards(actor).update(position=F("position") + 1)
        dashboard.save(force_insert=True)
        records.audit_write("created", dashboard, {}, actor=actor)
    return dashboard


def update_dashboard(dashboard: Dashboard, data: dict, *, actor) -> Dashboard:
    """Rename, publish (``department_id``) or unpublish (``department_id`` None)."""
    if not may_change(actor, dashboard):
        raise PermissionDenied()
    with transaction.atomic():
        dashboard = Dashboard.objects.select_for_update().get(pk=dashboard.pk)
        before = records.field_snapshot(dashboard)
        _clean(dashboard, data, actor)
        dashboard.save()
        records.audit_write("updated", dashboard, before, actor=actor)
    return dashboard


def delete_dashboard(dashboard: Dashboard, *, actor) -> None:
    if not may_change(actor, dashboard):
        raise PermissionDenied()
    records.delete_audited(dashboard, actor=actor)


def copy_dashboard(source: Dashboard | None, *, actor) -> Dashboard:
    """The dashboard ``actor`` sees (``source``; None: the default) as their own, first
    among theirs, with its widgets: then they arrange it."""
    shown = home_widgets_of(source, actor)
    name = source.name if source is not None else str(DEFAULT_NAME)
    mine = own_dashboards(actor)
    with transaction.atomic():
        taken = {n.lower() for n in mine.values_list("name", flat=True)}
        copy = create_dashboard({"name": _free_name(name, taken)}, actor=actor)
        for position, widget in enumerate(shown):
            _save_widget(
                Widget(
                    dashboard=copy,
                    kind=widget.kind,
                    settings=widget.settings,
                    position=position,
                    width=widget.width,
                    height=widget.height,
                ),
                actor,
            )
    return copy


def home_widgets_of(dashboard: Dashboard | None, user) -> list[Widget]:
    found = default_widgets() if dashboard is None else list(dashboard.widgets.all())
    return [w for w in found if widgets.shown(user, w)]


def _free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{name} ({number})"[:NAME_LIMIT]
    return candidate


def _clean(dashboard: Dashboard, data: dict, actor) -> None:
    errors = records.FieldErrors()
    if "name" in data:
        siblings = Dashboard.objects.filter(owner_id=dashboard.owner_id).exclude(pk=dashboard.pk)
        taken = _("You have a dashboard of this name already.")
        dashboard.name = records.unique_name(
            data["name"], siblings, errors, limit=NAME_LIMIT, taken=taken
        )
    if "department_id" in data:
        _publish(dashboard, as_db_id(data["department_id"]), actor, errors)
    errors.raise_if_any()


def _publish(dashboard: Dashboard, department_id: int | None, actor, errors) -> None:
    """Publish to a department as far as ``actor`` may (an administrator changing
    another's dashboard may unpublish it; publishing is checked as the actor's)."""
    if department_id is None or department_id == dashboard.department_id:
        dashboard.department_id = department_id
        return
    if not may_publish(actor):
        raise PermissionDenied(_("You may not publish dashboards."))
    allowed = publish_departments(actor)
    if allowed is not None and department_id not in allowed:
        raise PermissionDenied(_("You cannot publish dashboards to this department."))
    if not Department.objects.filter(pk=department_id).exists():
        errors.add("department_id", str(records.PLACEMENT_UNKNOWN["department_id"]))
        return
    dashboard.department_id = department_id


# -- widgets ------------------------------------------------------------------------------------

HEIGHTS = Widget.Height.values


def add_widget(dashboard: Dashboard, kind_key: str, given: dict, *, actor) -> Widget:
    """A widget of ``kind_key`` at the dashboard's end; ``given`` holds the kind's
    inputs (texts) and, optionally, ``width`` and ``height``."""
    if not may_change(actor, dashboard):
        raise PermissionDenied()
    errors = records.FieldErrors()
    kind = widgets.get(kind_key)
    if kind is None or kind not in widgets.usable_kinds(actor):
        errors.add("kind", _("Pick one of the options."))
        errors.raise_if_any()
    settings = kind.clean(actor, given, errors)
    widget = Widget(dashboard=dashboard, kind=kind.key, settings=settings, width=kind.default_width)
    _size(widget, given, errors)
    errors.raise_if_any()
    with transaction.atomic():
        Dashboard.objects.select_for_update().filter(pk=dashboard.pk).first()
        siblings = dashboard.widgets.all()
        if siblings.count() >= WIDGETS_LIMIT:
            errors.add(
                "kind", _("A dashboard holds at most %(limit)d widgets.") % {"limit": WIDGETS_LIMIT}
            )
            errors.raise_if_any()
        last = siblings.aggregate(last=Max("position"))["last"]
        widget.position = 0 if last is None else last + 1
        _save_widget(widget, actor)
    return widget


def _save_widget(widget: Widget, actor) -> None:
    widget.save(force_insert=True)
    records.audit_write("created", widget, {}, actor=actor)


def _size(widget: Widget, given: dict, errors) -> None:
    if given.get("width") not in (None, ""):
        width = as_db_id(given["width"])
        if width is None or not 1 <= width <= GRID_COLUMNS:
            errors.add("width", _("Pick one of the options."))
        else:
            widget.width = width
    if given.get("height") not in (None, ""):
        if given["height"] not in HEIGHTS:
            errors.add("height", _("Pick one of the options."))
        else:
            widget.height = given["height"]


def update_widget(widget: Widget, given: dict, *, actor) -> Widget:
    """Resize (``width``, ``height``) or re-set the kind's inputs (any of them sent:
    all of them, cleaned as when added)."""
    with transaction.atomic():
        widget = Widget.objects.select_for_update().select_related("dashboard").get(pk=widget.pk)
        if not may_change(actor, widget.dashboard):
            raise PermissionDenied()
        before = records.field_snapshot(widget)
        errors = records.FieldErrors()
        kind = widgets.get(widget.kind)
        names = (
            {i.name for i in kind.inputs(actor, {**widget.settings, **given})} if kind else set()
        )
        if kind is not None and names & set(given):
            widget.settings = kind.clean(actor, {**widget.settings, **given}, errors)
        _size(widget, given, errors)
        errors.raise_if_any()
        widget.save()
        records.audit_write("updated", widget, before, actor=actor)
    return widget


def move_widget(widget: Widget, step: int, *, actor) -> Widget:
    """One place earlier (``step`` -1) or later (+1) on the dashboard: swapped with its
    neighbour (the grid flows left to right, then down)."""
    with transaction.atomic():
        Dashboard.objects.select_for_update().filter(pk=widget.dashboard_id).first()
        order = list(
            Widget.objects.filter(dashboard_id=widget.dashboard_id).order_by("position", "id")
        )
        index = next(i for i, w in enumerate(order) if w.pk == widget.pk)
        if not may_change(actor, order[index].dashboard):
            raise PermissionDenied()
        target = index + (1 if step > 0 else -1)
        if 0 <= target < len(order):
            order[index], order[target] = order[target], order[index]
            _renumber(order, actor)
    return Widget.objects.get(pk=widget.pk)


def _renumber(order: list[Widget], actor) -> None:
    for position, widget in enumerate(order):
        if widget.position != position:
            before = records.field_snapshot(widget)
            widget.position = position
            widget.save(update_fields=["position"])
            records.audit_write("updated", widget, before, actor=actor)


def delete_widget(widget: Widget, *, actor) -> None:
    if not may_change(actor, widget.dashboard):
        raise PermissionDenied()
    with transaction.atomic():
        records.delete_audited(widget, actor=actor)
        rest = list(
            Widget.objects.filter(dashboard_id=widget.dashboard_id).order_by("position", "id")
        )
        _renumber(rest, actor)
