"""The home dashboard's pages: the grid the home page shows, and its changes.

Every change posts a form; with htmx the answer is the dashboard again (swapped in
place, no reload), without it a redirect to the home page. Buttons move a widget one
place earlier or later, selects resize it: all usable by keyboard and on a phone.
"""

from __future__ import annotations

import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from kontor.accounts.queries import placement_department_tree
from kontor.accounts.views import settings_page
from kontor.core import types
from kontor.core.access import Action, may
from kontor.core.errors import ValidationFailed
from kontor.web.charts import csv_download
from kontor.web.errors import service_errors

from . import services, widgets
from .models import DASHBOARD_TYPE, GRID_COLUMNS, Dashboard, Widget

WIDTHS = [(n, n) for n in range(1, GRID_COLUMNS + 1)]


def _shown(user, widget: Widget) -> dict:
    kind = widgets.get(widget.kind)
    data = kind.read(user, widget)
    return {
        "widget": widget,
        "kind": kind,
        "title": data.get("title") or kind.label,
        "data": data,
    }


def _add_form(user, dashboard: Dashboard | None, given: dict, errors: dict | None = None) -> dict:
    usable = widgets.usable_kinds(user)
    chosen = widgets.get(given.get("kind", "")) if given.get("kind") else None
    chosen = chosen if chosen in usable else (usable[0] if usable else None)
    return {
        "dashboard": dashboard,
        "kinds": [(kind.key, kind.label) for kind in usable],
        "chosen": chosen,
        "inputs": chosen.inputs(user, given) if chosen else [],
        "errors": errors or {},
    }


def dashboard_context(request, *, add_given: dict | None = None, add_errors=None) -> dict:
    """What the home page shows: the dashboard, its widgets read for the reader, and
    (on their own dashboard) the controls to arrange it."""
    user = request.user
    home = services.home(user)
    shown = [_shown(user, widget) for widget in home.widgets]
    publishable = home.own and services.may_publish(user)
    return {
        # The page's "New" links: each type with a home entry the reader may create.
        "creatable": [
            rt
            for rt in types.record_types()
            if rt.home_widget and may(user, rt.object_type, Action.CREATE)
        ],
        "home": home,
        "shown": shown,
        "charts": [s["data"]["chart"] for s in shown if s["data"].get("chart")],
        "widths": WIDTHS,
        "heights": Widget.Height.choices,
        "add_form": _add_form(user, home.dashboard, add_given or {}, add_errors)
        if home.own
        else None,
        "publish_departments": (
            placement_department_tree(user, DASHBOARD_TYPE, Action.EDIT) if publishable else []
        ),
    }


def _dashboard_answer(request):
    if request.htmx:
        return render(request, "dashboards/_dashboard.html", dashboard_context(request))
    return redirect("web:home")


def dashboard_page(request):
    """The home page with its dashboard (``web.views.home``), or the CSV of one of its
    charts."""
    context = dashboard_context(request)
    return csv_download(request, context["charts"]) or render(request, "web/home.html", context)


def _refused(request, exc: ValidationFailed) -> None:
    said = itertools.chain.from_iterable(exc.errors.values())
    messages.error(request, " ".join(map(str, said)) or str(exc.message))


@login_required
@require_POST
@service_errors
def copy(request):
    """Make the dashboard the reader sees (published, or the default) their own."""
    source_id = request.POST.get("dashboard_id")
    source = services.dashboard_for(request.user, source_id) if source_id else None
    services.copy_dashboard(source, actor=request.user)
    messages.success(request, _("The dashboard is yours now: add, move and resize its widgets."))
    return redirect("web:home")


@login_required
@require_POST
@service_errors
def change(request, pk: int):
    """Rename or publish (``action=save``), unpublish, or delete a dashboard."""
    dashboard = services.dashboard_for(request.user, pk)
    action = request.POST.get("action", "save")
    back = request.POST.get("next") == "admin" and services.may_manage_dashboards(request.user)
    try:
        if action == "delete":
            services.delete_dashboard(dashboard, actor=request.user)
            messages.success(request, _("Dashboard deleted: %(name)s.") % {"name": dashboard.name})
        elif action == "unpublish":
            services.update_dashboard(dashboard, {"department_id": None}, actor=request.user)
            messages.success(
                request, _("Dashboard unpublished: %(name)s.") % {"name": dashboard.name}
            )
        else:
            data = {"name": request.POST.get("name", dashboard.name)}
            if "department_id" in request.POST:
                data["department_id"] = request.POST.get("department_id") or None
            dashboard = services.update_dashboard(dashboard, data, actor=request.user)
            messages.success(request, _("Dashboard saved: %(name)s.") % {"name": dashboard.name})
    except ValidationFailed as exc:
        _refused(request, exc)
    return redirect("dashboards:dashboard_admin" if back else "web:home")


def _given(post) -> dict:
    return {key: post.get(key) for key in post if key != "csrfmiddlewaretoken"}


@login_required
@require_GET
@service_errors
def add_form(request, pk: int):
    """The add form again for the kind (and view) chosen so far: its inputs depend on them."""
    dashboard = services.dashboard_for(request.user, pk)
    if not services.may_change(request.user, dashboard):
        raise Http404()
    context = {"add_form": _add_form(request.user, dashboard, _given(request.GET))}
    return render(request, "dashboards/_add_form.html", context)


@login_required
@require_POST
@service_errors
def add(request, pk: int):
    dashboard = services.dashboard_for(request.user, pk)
    given = _given(request.POST)
    try:
        services.add_widget(dashboard, given.get("kind", ""), given, actor=request.user)
    except ValidationFailed as exc:
        form = _add_form(request.user, dashboard, given, exc.errors)
        if request.htmx:
            # The form again in its place, its problems said (htmx swaps 200 answers only).
            answer = render(request, "dashboards/_add_form.html", {"add_form": form})
            return reswap(retarget(answer, "#widget-add"), "outerHTML")
        context = dashboard_context(request, add_given=given, add_errors=exc.errors)
        return render(request, "web/home.html", context, status=422)
    return _dashboard_answer(request)


@login_required
@require_POST
@service_errors
def change_widget(request, pk: int):
    """Move (``action=earlier``/``later``), resize (``width``, ``height``) or remove."""
    widget = services.widget_for(request.user, pk, change=True)
    action = request.POST.get("action", "")
    try:
        if action == "remove":
            services.delete_widget(widget, actor=request.user)
        elif action in ("earlier", "later"):
            services.move_widget(widget, -1 if action == "earlier" else 1, actor=request.user)
        else:
            sizes = {k: request.POST[k] for k in ("width", "height") if k in request.POST}
            services.update_widget(widget, sizes, actor=request.user)
    except ValidationFailed as exc:
        _refused(request, exc)
    return _dashboard_answer(request)


@login_required
@require_GET
def dashboard_admin(request):
    """Settings → Dashboards: everyone's published dashboards, to unpublish or delete."""
    if not services.may_manage_dashboards(request.user):
        raise Http404()
    published = (
        Dashboard.objects.filter(department__isnull=False)
        .select_related("owner", "department")
        .annotate(widget_count=Count("widgets"))
        .order_by("department__path", "position", "id")
    )
    return settings_page(request, "dashboards/admin.html", {"published": published})
