"""/api/v1/dashboards: dashboards (list, create, get, patch, delete), their widgets (add,
patch, delete) and each widget's figures, with the rules of ``dashboards.services``:
yours and those published to your department; published as far as your grants allow;
a widget's data is read for you, whoever put it there."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Router, Schema, Status
from pydantic import Field

from kontor.core.api import DbInt, Ref, StrictIn, ref
from kontor.core.errors import NotFound
from kontor.web.charts import Chart

from . import services, widgets
from .models import Dashboard, Widget

router = Router(tags=["dashboards"])

Height = Literal["small", "medium", "large"]
SETTINGS = (
    "The kind's inputs by name (GET /dashboards/widget-kinds lists each kind's): view_id, "
    "rows, group_by, measure, chart, period, days"
)


class WidgetOut(Schema):
    id: int
    kind: str
    title: str
    settings: dict[str, Any]
    position: int
    width: int
    height: Height
    reads: str = Field(description="The record type the widget reads ('' for several)")


class DashboardOut(Schema):
    id: int
    name: str
    owner: Ref
    published_to: Ref | None
    position: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    may_change: bool
    widgets: list[WidgetOut]


class DashboardIn(StrictIn):
    name: str
    department_id: DbInt | None = Field(None, description="Publish to this department")


class DashboardPatch(StrictIn):
    name: str | None = None
    department_id: DbInt | None = Field(
        None, description="Publish to this department; null unpublishes"
    )


class WidgetIn(StrictIn):
    kind: str
    settings: dict[str, str | int] = Field({}, description=SETTINGS)
    width: int | None = Field(None, ge=1, le=4)
    height: Height | None = None


class WidgetPatch(StrictIn):
    settings: dict[str, str | int] | None = Field(None, description=SETTINGS)
    width: int | None = Field(None, ge=1, le=4)
    height: Height | None = None
    move: Literal["earlier", "later"] | None = Field(None, description="One place either way")


class InputOut(Schema):
    name: str
    label: str
    choices: list[list[str]]


class KindOut(Schema):
    kind: str
    label: str
    reads: str
    inputs: list[InputOut]


def _widget_out(widget: Widget, user) -> dict:
    kind = widgets.get(widget.kind)
    return {
        "id": widget.pk,
        "kind": widget.kind,
        "title": str(kind.label) if kind else widget.kind,
        "settings": widget.settings,
        "position": widget.position,
        "width": widget.width,
        "height": widget.height,
        "reads": kind.reads(widget.settings) if kind else "",
    }


def _out(dashboard: Dashboard, user) -> dict:
    return {
        "id": dashboard.pk,
        "name": dashboard.name,
        "owner": ref(dashboard.owner),
        "published_to": ref(dashboard.department),
        "position": dashboard.position,
        "created_at": dashboard.created_at,
        "updated_at": dashboard.updated_at,
        "may_change": services.may_change(user, dashboard),
        "widgets": [
            _widget_out(w, user) for w in dashboard.widgets.all() if widgets.shown(user, w)
        ],
    }


def _plain(value):
    """A widget's figures as JSON: a chart as what web/charts.js draws, money exact."""
    if isinstance(value, Chart):
        return value.data()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@router.get("/dashboards", response=list[DashboardOut], operation_id="dashboards_list")
def list_dashboards(request):
    """Yours, then the one your home page shows when you have none (published to your
    department or the nearest above it)."""
    found = list(services.own_dashboards(request.user).prefetch_related("widgets"))
    published = services.published_to(request.user)
    if published is not None:
        found.append(published)
    return [_out(dashboard, request.user) for dashboard in found]


@router.post("/dashboards", response={201: DashboardOut}, operation_id="dashboards_create")
def create_dashboard(request, body: DashboardIn):
    data = body.model_dump(exclude_none=True)
    dashboard = services.create_dashboard(data, actor=request.user)
    return Status(201, _out(dashboard, request.user))


@router.get("/dashboards/widget-kinds", response=list[KindOut], operation_id="dashboards_kinds")
def widget_kinds(request):
    """The kinds of widget you may add and their inputs (a view's kinds: the choices that
    depend on the view are listed when you name it in the widget's settings)."""
    return [
        {
            "kind": kind.key,
            "label": str(kind.label),
            "reads": kind.record_type,
            "inputs": [
                {
                    "name": i.name,
                    "label": str(i.label),
                    "choices": [[v, str(lb)] for v, lb in i.choices],
                }
                for i in kind.inputs(request.user, {})
            ],
        }
        for kind in widgets.usable_kinds(request.user)
    ]


@router.get("/dashboards/{int:dashboard_id}", response=DashboardOut, operation_id="dashboards_get")
def get_dashboard(request, dashboard_id: int):
    return _out(services.dashboard_for(request.user, dashboard_id), request.user)


@router.patch(
    "/dashboards/{int:dashboard_id}", response=DashboardOut, operation_id="dashboards_update"
)
def update_dashboard(request, dashboard_id: int, body: DashboardPatch):
    """Rename; publish to a department (``department_id``) or unpublish (null)."""
    dashboard = services.dashboard_for(request.user, dashboard_id)
    changes = body.model_dump(exclude_unset=True)
    return _out(services.update_dashboard(dashboard, changes, actor=request.user), request.user)


@router.delete(
    "/dashboards/{int:dashboard_id}", response={204: None}, operation_id="dashboards_delete"
)
def delete_dashboard(request, dashboard_id: int):
    services.delete_dashboard(
        services.dashboard_for(request.user, dashboard_id), actor=request.user
    )
    return Status(204, None)


@router.post(
    "/dashboards/{int:dashboard_id}/widgets",
    response={201: WidgetOut},
    operation_id="dashboards_widget_add",
)
def add_widget(request, dashboard_id: int, body: WidgetIn):
    dashboard = services.dashboard_for(request.user, dashboard_id)
    given = {key: str(value) for key, value in body.settings.items()}
    given |= {key: str(value) for key in ("width", "height") if (value := getattr(body, key))}
    widget = services.add_widget(dashboard, body.kind, given, actor=request.user)
    return Status(201, _widget_out(widget, request.user))


@router.patch(
    "/dashboards/widgets/{int:widget_id}",
    response=WidgetOut,
    operation_id="dashboards_widget_update",
)
def update_widget(request, widget_id: int, body: WidgetPatch):
    """Resize, re-set its inputs, or move it one place."""
    widget = services.widget_for(request.user, widget_id, change=True)
    given = {key: str(value) for key, value in (body.settings or {}).items()}
    given |= {key: str(value) for key in ("width", "height") if (value := getattr(body, key))}
    if given:
        widget = services.update_widget(widget, given, actor=request.user)
    if body.move:
        widget = services.move_widget(
            widget, -1 if body.move == "earlier" else 1, actor=request.user
        )
    return _widget_out(widget, request.user)


@router.delete(
    "/dashboards/widgets/{int:widget_id}",
    response={204: None},
    operation_id="dashboards_widget_delete",
)
def delete_widget(request, widget_id: int):
    services.delete_widget(
        services.widget_for(request.user, widget_id, change=True), actor=request.user
    )
    return Status(204, None)


@router.get(
    "/dashboards/widgets/{int:widget_id}/data",
    response=dict[str, Any],
    operation_id="dashboards_widget_data",
)
def widget_data(request, widget_id: int):
    """The widget's figures as you see them (rows, a chart's labels and series, a figure)."""
    widget = services.widget_for(request.user, widget_id)
    if not widgets.shown(request.user, widget):
        raise NotFound()
    return _plain(widgets.get(widget.kind).read(request.user, widget))
