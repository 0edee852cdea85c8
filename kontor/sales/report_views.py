"""The sales reports page (/deals/reports/): funnel, win rate and cycle time of a pipeline,
revenue by owner, department and month, the weighted forecast with its parts, and plans
against what was won, as charts with their tables and CSV.

Every figure comes from ``reports`` (counted over the deals the reader sees) and links to
the deals list with the filters that select exactly its deals (``types.DealType.filters``),
so the list a figure opens holds as many deals as the figure counts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from functools import wraps
from itertools import pairwise

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kontor.core.access import Action, may
from kontor.core.errors import ValidationFailed
from kontor.web.charts import Chart, Format, Kind, Series, csv_download

from . import drilldown, plans, reports
from .models import Pipeline
from .report_params import (
    FORECAST_MONTHS,
    ReportParams,
    default_params,
    offered_years,
    read_params,
)
from .types import DEAL

# Revenue by owner or department: the ones that won most (the rest are in the list).
LEADERS_SHOWN = 15


# -- the pipeline's figures -------------------------------------------------------------------


def funnel_charts(user, params: ReportParams) -> list[Chart]:
    steps = reports.funnel(user, params.pipeline, params.start, params.end)
    if not steps or not steps[0].reached:
        return []
    urls = [drilldown.url(drilldown.funnel_step(params, step.stage.pk)) for step in steps]
    charts = [
        Chart(
            slug="funnel",
            title=_("Funnel: the deals opened in the period, by the stage they reached"),
            kind=Kind.FUNNEL,
            labels=[step.stage.name for step in steps],
            series=[Series(_("Deals"), [step.reached for step in steps], urls)],
            label_header=_("Stage"),
        )
    ]
    if len(steps) > 1:
        charts.append(
            Chart(
                slug="conversion",
                title=_("Conversion from stage to stage"),
                kind=Kind.BAR,
                labels=[f"{a.stage.name} → {b.stage.name}" for a, b in pairwise(steps)],
                series=[Series(_("Conversion"), [step.conversion for step in steps[1:]], urls[1:])],
                label_header=_("Step"),
                value_format=Format.PERCENT,
            )
        )
    return charts


def closed_figures(user, params: ReportParams) -> dict:
    """Win rate and cycle time of the deals closed in the period in the pipeline."""
    rate = reports.win_rate(user, params.start, params.end, params.pipeline)
    won_url = drilldown.url(drilldown.closed(params, "won"))
    chart = None
    if rate.won + rate.lost:
        chart = Chart(
            slug="win-rate",
            title=_("Won and lost in the period"),
            kind=Kind.DOUGHNUT,
            labels=[_("Won"), _("Lost")],
            series=[
                Series(
                    _("Deals"),
                    [rate.won, rate.lost],
                    [won_url, drilldown.url(drilldown.closed(params, "lost"))],
                )
            ],
            label_header=_("Outcome"),
        )
    return {
        "rate": rate,
        "closed_url": drilldown.url(drilldown.closed(params, "closed")),
        "won_url": won_url,
        "cycle_days": reports.cycle_days(user, params.start, params.end, params.pipeline),
        "chart": chart,
    }


# -- revenue ---------------------------------------------------------------------------------


def _by_currency(rows) -> dict[str, list]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.currency].append(row)
    return dict(sorted(grouped.items()))


def revenue_charts(user, params: ReportParams, by: str) -> list[Chart]:
    """Won amounts per owner or department, one chart per currency, largest first."""
    rows = reports.revenue(user, params.start, params.end, by)
    labels = reports.key_labels(by, [row.key for row in rows])
    titles = {
        "owner": _("Revenue by owner, %(currency)s"),
        "department": _("Revenue by department, %(currency)s"),
    }
    charts = []
    for currency, found in _by_currency(rows).items():
        found = sorted(found, key=lambda r: (-r.amount, labels[r.key]))[:LEADERS_SHOWN]
        charts.append(
            Chart(
                slug=f"revenue-{by}-{currency.lower()}",
                title=titles[by] % {"currency": currency},
                kind=Kind.HORIZONTAL_BAR,
                labels=[labels[r.key] for r in found],
                series=[
                    Series(
                        _("Won"),
                        [r.amount for r in found],
                        [
                            drilldown.url(drilldown.revenue(params, by, r.key, currency))
                            for r in found
                        ],
                    )
                ],
                label_header=_("Owner") if by == "owner" else _("Department"),
                value_format=Format.MONEY,
                currency=currency,
            )
        )
    return charts


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months, month = [], reports.month_start(start)
    while month < end:
        months.append(month)
        month = reports.month_start(month, 1)
    return months


def revenue_by_month_charts(user, params: ReportParams) -> list[Chart]:
    rows = reports.revenue(user, params.start, params.end, "month")
    months = _months(params.start, params.end)
    charts = []
    for currency, found in _by_currency(rows).items():
        amounts = {row.key: row.amount for row in found}
        charts.append(
            Chart(
                slug=f"revenue-month-{currency.lower()}",
                title=_("Revenue by month, %(currency)s") % {"currency": currency},
                kind=Kind.BAR,
                labels=[date_format(m, "YEAR_MONTH_FORMAT") for m in months],
                series=[
                    Series(
                        _("Won"),
                        [amounts.get(m, Decimal("0.00")) for m in months],
                        [
                            drilldown.url(drilldown.revenue(params, "month", m, currency))
                            for m in months
                        ],
                    )
                ],
                label_header=_("Month"),
                value_format=Format.MONEY,
                currency=currency,
            )
        )
    return charts


# -- forecast --------------------------------------------------------------------------------


def forecast_view(user, today: datetime.date | None = None) -> tuple[list[Chart], list[dict]]:
    """Per currency, the next months' open deals raw and weighted; and per month and
    currency what the figures are made of: each stage's deals."""
    first = reports.month_start(today or timezone.localdate())
    months = [reports.month_start(first, n) for n in range(FORECAST_MONTHS)]
    totals = reports.forecast(user, FORECAST_MONTHS, today)
    parts = reports.forecast_parts(user, FORECAST_MONTHS, today)
    charts = []
    for currency, found in _by_currency(totals).items():
        by_month = {row.month: row for row in found}
        zero = Decimal("0.00")
        urls = [drilldown.url(drilldown.forecast(m, currency)) for m in months]
        charts.append(
            Chart(
                slug=f"forecast-{currency.lower()}",
                title=_("Forecast for the next %(count)d months, %(currency)s")
                % {"count": FORECAST_MONTHS, "currency": currency},
                kind=Kind.BAR,
                labels=[date_format(m, "YEAR_MONTH_FORMAT") for m in months],
                series=[
                    Series(
                        _("Weighted by probability"),
                        [by_month[m].weighted if m in by_month else zero for m in months],
                        urls,
                    ),
                    Series(
                        _("Amount"),
                        [by_month[m].amount if m in by_month else zero for m in months],
                        urls,
                    ),
                ],
                label_header=_("Expected close"),
                value_format=Format.MONEY,
                currency=currency,
            )
        )
    breakdown = []
    for total in totals:
        breakdown.append(
            {
                "total": total,
                "url": drilldown.url(drilldown.forecast(total.month, total.currency)),
                "parts": [
                    {
                        "part": part,
                        "url": drilldown.url(
                            drilldown.forecast(part.month, part.currency, part.stage.pk)
                        ),
                    }
                    for part in parts
                    if part.month == total.month and part.currency == total.currency
                ],
            }
        )
    return charts, breakdown


# -- plans -----------------------------------------------------------------------------------


def plan_rows(user, lines) -> list[dict]:
    """The plan table's rows: each target with what was won and the lists behind it."""
    rows = []
    for line in lines:
        won = drilldown.target(line.target)
        rows.append(
            {
                "line": line,
                "label": plans.target_label(line.target),
                "count_url": drilldown.url(won),
                "amount_url": drilldown.url(won | {"currency": line.target.currency}),
                "may_edit": plans.may_set(
                    user, user_id=line.target.user_id, department_id=line.target.department_id
                ),
            }
        )
    return rows


def _plan_chart(slug: str, title: str, rows: list[dict], kind: str, currency: str = "") -> Chart:
    """Plan and won of ``rows`` as amounts (``kind`` "amount") or counts ("count")."""
    plan_field = "amount" if kind == "amount" else "won_count"
    return Chart(
        slug=slug,
        title=title,
        kind=Kind.BAR,
        labels=[row["label"] for row in rows],
        series=[
            Series(_("Plan"), [getattr(row["line"].target, plan_field) for row in rows]),
            Series(
                _("Won"),
                [getattr(row["line"], f"won_{kind}") for row in rows],
                [row[f"{kind}_url"] for row in rows],
            ),
        ],
        label_header=_("Target"),
        value_format=Format.MONEY if currency else Format.COUNT,
        currency=currency,
    )


def plan_charts(rows: list[dict]) -> list[Chart]:
    """Plan against won, per currency for the amounts and for the counts."""
    amounts = defaultdict(list)
    for row in rows:
        if row["line"].target.amount is not None:
            amounts[row["line"].target.currency].append(row)
    charts = [
        _plan_chart(
            f"plan-amount-{currency.lower()}",
            _("Plan and won, %(currency)s") % {"currency": currency},
            found,
            "amount",
            currency,
        )
        for currency, found in sorted(amounts.items())
    ]
    counted = [row for row in rows if row["line"].target.won_count]
    if counted:
        charts.append(_plan_chart("plan-count", _("Plan and won, deals"), counted, "count"))
    return charts


# -- the page --------------------------------------------------------------------------------


def _quarters():
    return [(q, _("Q%(quarter)d") % {"quarter": q}) for q in (1, 2, 3, 4)]


def deals_reader_page(view):
    """A page for those who may view deals (404 for anyone else), read with GET."""

    @login_required
    @require_GET
    @wraps(view)
    def page(request, *args, **kwargs):
        if not may(request.user, DEAL.object_type, Action.VIEW):
            raise Http404()
        return view(request, *args, **kwargs)

    return page


@deals_reader_page
def report_page(request):
    user = request.user
    errors = {}
    try:
        params = read_params(request.GET)
    except ValidationFailed as exc:
        errors = exc.errors
        params = default_params()
    sections = {}
    if params.pipeline is not None:
        sections["funnel"] = funnel_charts(user, params)
        sections["closed"] = closed_figures(user, params)
    sections["owner"] = revenue_charts(user, params, "owner")
    sections["department"] = revenue_charts(user, params, "department")
    sections["month"] = revenue_by_month_charts(user, params)
    sections["forecast"], breakdown = forecast_view(user)
    rows = plan_rows(
        user, reports.plan_vs_actual(user, plans.for_report(user, params.start, params.end))
    )
    sections["plans"] = plan_charts(rows)
    charts = [c for key, found in sections.items() if key != "closed" for c in found]
    if sections.get("closed", {}).get("chart"):
        charts.append(sections["closed"]["chart"])
    return csv_download(request, charts) or render(
        request,
        "sales/reports.html",
        {
            "rt": DEAL,
            "params": params,
            "errors": errors,
            "form": request.GET if errors else params.query(),
            "pipelines": Pipeline.objects.filter(is_active=True),
            "years": offered_years(params.year),
            "quarters": _quarters(),
            "sections": sections,
            "breakdown": breakdown,
            "plan_rows": rows,
            "may_set_targets": plans.may_set_any(user),
        },
    )
