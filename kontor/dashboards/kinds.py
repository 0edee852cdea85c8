"""The kinds of widget: my tasks, my deals, a saved view, a chart of a saved view, a
metric over one, plan vs actual, birthdays, and the records overview (the home page's
counts and latest changes, the default dashboard's first widget)."""

from __future__ import annotations

import datetime

from django.db.models import F, Q
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.activities import dates
from kontor.activities.models import Task
from kontor.activities.types import TASK
from kontor.contacts.types import PERSON
from kontor.core import types
from kontor.core.access import Action, may
from kontor.core.pagination import capped_count
from kontor.core.services import FieldErrors
from kontor.sales import plans, reports
from kontor.sales.models import Stage, Target
from kontor.sales.report_views import plan_rows
from kontor.sales.types import DEAL
from kontor.web.charts import Chart, Format, Kind, Series

from . import figures
from .widgets import (
    ROWS,
    Option,
    WidgetKind,
    chosen_view,
    record_rows,
    register,
    type_allowed,
    unavailable,
    view_input,
    view_records,
)

RECENT_LIMIT = 8


class Rows(WidgetKind):
    """A list of the first records of something, with a link to the whole list."""

    template = "dashboards/widgets/_rows.html"
    options = (ROWS,)


@register
class MyTasks(Rows):
    key = "my_tasks"
    label = gettext_lazy("My tasks")
    record_type = TASK.object_type

    def read(self, user, widget):
        mine = TASK.visible(user).filter(owner_id=user.pk, status__in=Task.ACTIVE)
        due_first = (F("due_date").asc(nulls_last=True), F("due_time").asc(nulls_last=True), "id")
        found = mine.order_by(*due_first)[: widget.settings.get("rows", 5)]
        return {
            "rows": record_rows(TASK, found),
            "more_url": TASK.url("list") + "?" + urlencode({"mine": "true", "status": "active"}),
            "empty": _("Nothing to do: no open tasks are assigned to you."),
        }


@register
class MyDeals(Rows):
    key = "my_deals"
    label = gettext_lazy("My deals")
    record_type = DEAL.object_type

    def read(self, user, widget):
        mine = DEAL.visible(user).filter(owner_id=user.pk, stage__kind=Stage.Kind.OPEN)
        closing_first = (F("expected_close").asc(nulls_last=True), "id")
        found = mine.order_by(*closing_first)[: widget.settings.get("rows", 5)]
        return {
            "rows": record_rows(DEAL, found),
            "more_url": DEAL.url("list") + "?" + urlencode({"mine": "true", "status": "open"}),
            "empty": _("No open deals of yours."),
        }


class OfView(WidgetKind):
    """A kind reading a saved view's records."""

    uses_view = True

    def view_options(self, user, rt: types.RecordType) -> list[Option]:
        """Its inputs whose choices depend on the view's record type (its fields)."""
        return []

    def inputs(self, user, given):
        found = [view_input(user, given), *super().inputs(user, given)]
        rt = _view_type(user, given)
        return found + ([o.input(given) for o in self.view_options(user, rt)] if rt else [])

    def clean(self, user, given, errors):
        found = chosen_view(user, given, errors)
        own = super().clean(user, given, errors)
        if found is None:
            return own
        view, rt = found
        own |= {o.name: o.clean(given, errors) for o in self.view_options(user, rt)}
        return {"view_id": view.pk, "type": rt.object_type, **own}


def _measure(user, rt) -> Option:
    measures = figures.measures(user, rt)
    return Option("measure", _("Figure"), {k: m.label for k, m in measures.items()}, "count")


@register
class ViewRows(OfView):
    key = "saved_view"
    label = gettext_lazy("A saved view")
    template = "dashboards/widgets/_rows.html"
    options = (ROWS,)

    def read(self, user, widget):
        found = view_records(user, widget.settings)
        if found is None:
            return unavailable()
        first = found.records[: widget.settings.get("rows", 5)]
        return {
            "title": found.view.name,
            "rows": record_rows(found.rt, first),
            "more_url": found.list_url(),
            "empty": str(found.rt.empty_title),
            "dropped": found.dropped,
        }


CHART = Option(
    "chart",
    gettext_lazy("Chart"),
    {
        str(Kind.BAR): gettext_lazy("Bars"),
        str(Kind.HORIZONTAL_BAR): gettext_lazy("Horizontal bars"),
        str(Kind.DOUGHNUT): gettext_lazy("Doughnut"),
    },
    str(Kind.BAR),
)


def _view_type(user, given) -> types.RecordType | None:
    """The record type of the view chosen so far (inputs depending on it wait for it)."""
    found = chosen_view(user, given, FieldErrors())
    return found[1] if found else None


@register
class ViewChart(OfView):
    key = "view_chart"
    label = gettext_lazy("A chart of a saved view")
    template = "dashboards/widgets/_chart.html"
    options = (CHART,)

    def view_options(self, user, rt):
        by = rt.groupings(user)
        group_by = Option("group_by", _("Group by"), {k: g.label for k, g in by.items()}, "")
        return [group_by, _measure(user, rt)]

    def read(self, user, widget):
        settings = widget.settings
        found = view_records(user, settings)
        if found is None:
            return unavailable()
        grouping = found.rt.groupings(user).get(settings.get("group_by", ""))
        measure = figures.measures(user, found.rt).get(settings.get("measure", ""))
        if grouping is None or measure is None:
            return {"unavailable": _("The field this chart groups or adds up is gone.")}
        groups = figures.largest(figures.groups(found, grouping, measure))
        currencies = sorted({c for group in groups for c in group.values}) or [""]
        chart = Chart(
            slug=f"widget-{widget.pk or 0}",
            title=f"{found.view.name}: {grouping.label}",
            kind=Kind(settings.get("chart", "bar")),
            labels=[group.label for group in groups],
            series=[
                Series(
                    f"{measure.label} ({currency})" if currency else str(measure.label),
                    [group.values.get(currency, 0) for group in groups],
                    [group.url for group in groups],
                )
                for currency in currencies
            ],
            label_header=grouping.label,
            value_format=measure.value_format,
            currency=measure.currency,
        )
        return {
            "title": chart.title,
            "chart": chart,
            "empty": not groups,
            "more_url": found.list_url(),
        }


@register
class Metric(OfView):
    key = "metric"
    label = gettext_lazy("A figure of a saved view")
    template = "dashboards/widgets/_metric.html"
    default_width = 1

    def view_options(self, user, rt):
        return [_measure(user, rt)]

    def read(self, user, widget):
        found = view_records(user, widget.settings)
        if found is None:
            return unavailable()
        measure = figures.measures(user, found.rt).get(widget.settings.get("measure", ""))
        if measure is None:
            return {"unavailable": _("The field this figure adds up is gone.")}
        totals = figures.totals(found.records, measure)
        return {
            "title": found.view.name,
            "label": str(measure.label),
            "figures": [
                {
                    "currency": currency,
                    "value": value,
                    "text": _figure_text(value, measure, currency),
                }
                for currency, value in sorted(totals.items())
            ],
            "more_url": found.list_url(),
            "empty": not any(totals.values()),
        }


def _figure_text(value, measure: figures.Measure, currency: str) -> str:
    """The figure as a chart's table writes it (grouped, rounded, its currency)."""
    money = bool(measure.currency or currency)
    chart = Chart(
        slug="figure",
        title="",
        kind=Kind.BAR,
        labels=[""],
        series=[Series("", [value])],
        label_header="",
        value_format=Format.MONEY if money else measure.value_format,
        currency=measure.currency or currency,
    )
    return chart.display(value)


PERIOD = Option(
    "period",
    gettext_lazy("Period"),
    {
        str(Target.Period.MONTH): gettext_lazy("This month"),
        str(Target.Period.QUARTER): gettext_lazy("This quarter"),
    },
    str(Target.Period.MONTH),
)


@register
class PlanVsActual(WidgetKind):
    key = "plan_vs_actual"
    label = gettext_lazy("Plan vs actual")
    template = "dashboards/widgets/_plans.html"
    record_type = DEAL.object_type
    options = (PERIOD,)

    def read(self, user, widget):
        period = widget.settings.get("period", "month")
        today = timezone.localdate()
        if period == Target.Period.QUARTER:
            start = reports.month_start(today.replace(month=(today.month - 1) // 3 * 3 + 1))
            end = reports.month_start(start, 3)
        else:
            start = reports.month_start(today)
            end = reports.month_start(start, 1)
        # The reader's own target and their department's, among those they may see: a
        # home page's plan, where the plans page lists everyone's.
        targets = plans.narrowed(plans.targets_starting(user, start, end), period=period)
        mine = Q(user_id=user.pk) | Q(department_id=user.department_id, user__isnull=True)
        lines = reports.plan_vs_actual(user, targets.filter(mine).order_by("department_id", "id"))
        return {"rows": plan_rows(user, lines), "period": str(PERIOD.choices.get(period, ""))}


DAYS = Option(
    "days", gettext_lazy("Days ahead"), {"7": "7", "14": "14", "30": "30"}, "7", number=True
)


@register
class Birthdays(WidgetKind):
    key = "birthdays"
    label = gettext_lazy("Birthdays and dates")
    template = "dashboards/widgets/_dates.html"
    record_type = PERSON.object_type
    options = (DAYS,)

    def read(self, user, widget):
        """The important dates of the reader's own clients, today and the days ahead."""
        today = timezone.localdate()
        last = today + datetime.timedelta(days=widget.settings.get("days", 7) - 1)
        found = dates.dates_between(today, last, PERSON.visible(user), owner=user)
        return {
            "dates": [
                {"day": due.day, "what": due.describe(), "url": PERSON.url_of(due.person)}
                for due in found
            ]
        }


@register
class Overview(WidgetKind):
    """Each record type's total and latest changes (the first home page's content)."""

    key = "overview"
    label = gettext_lazy("Records at a glance")
    template = "dashboards/widgets/_overview.html"
    default_width = 4

    def read(self, user, widget):
        shown = []
        for rt in types.record_types():
            if not rt.home_widget or not type_allowed(user, rt.object_type):
                continue
            records = rt.list_query(user)
            recent = list(records.order_by("-updated_at", "-id")[:RECENT_LIMIT])
            total = capped_count(records)
            shown.append(
                {
                    "path": rt.path,
                    "label": str(rt.plural),
                    "list_url": rt.url("list"),
                    "create_url": rt.url("create")
                    if may(user, rt.object_type, Action.CREATE)
                    else "",
                    "new_label": str(rt.new_label),
                    "total": total.count,
                    "capped": total.capped,
                    "recent": [
                        {**row, "updated_at": obj.updated_at}
                        for row, obj in zip(record_rows(rt, recent), recent, strict=True)
                    ],
                    "title": str(format_lazy(_("Recently updated: {types}"), types=rt.plural)),
                    "empty": str(rt.empty_title),
                }
            )
        return {"types": shown, "any_records": any(t["total"] for t in shown)}
