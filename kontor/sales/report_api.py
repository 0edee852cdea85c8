"""/api/v1/reports/sales/...: the figures of the sales reports page, counted over the deals
the caller sees, each with the /api/v1/deals query that lists exactly its deals.

The period: ``year`` (default this year) and optionally ``quarter`` (1-4), or ``from`` and
``to`` (both days included); ``pipeline_id`` (default the first active pipeline) for the
funnel, win rate and cycle time. A bad value is a 422 naming it."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from kontor.core.api import Ref, ref
from kontor.core.errors import NotFound

from . import drilldown, reports
from .plan_api import PlanOut, plans_out
from .plans import targets_starting
from .report_params import FORECAST_MONTHS, ReportParams, read_params

router = Router(tags=["sales reports"])


class PeriodQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    year: str = Field("", description="Default: this year")
    quarter: str = Field("", description="1-4: that quarter of the year")
    start: str = Field("", alias="from", description="YYYY-MM-DD, with to: instead of a year")
    end: str = Field("", alias="to", description="YYYY-MM-DD, the last day included")
    pipeline_id: str = Field("", description="Default: the first active pipeline")


class Period(Schema):
    first_day: datetime.date
    last_day: datetime.date


class FunnelStep(Schema):
    stage: Ref
    reached: int
    conversion: Decimal | None = Field(description="% of the previous stage; null for the first")
    deals_query: str


class FunnelOut(Schema):
    period: Period
    pipeline: Ref
    steps: list[FunnelStep]


class PipelineFigure(Schema):
    period: Period
    pipeline: Ref
    won: int


class WinRateOut(PipelineFigure):
    lost: int
    rate: Decimal | None = Field(description="Won of won and lost, %; null when none closed")
    deals_query: str = Field(description="The deals won or lost in the period")


class CycleTimeOut(PipelineFigure):
    days: Decimal | None = Field(description="Mean days from opening to winning")
    deals_query: str = Field(description="The deals won in the period")


class RevenueRow(Schema):
    key: int | datetime.date | None = Field(
        description="The owner's or department's id (null: none), or the month's first day"
    )
    label: str
    currency: str
    amount: Decimal
    count: int
    deals_query: str = Field(description='"" for deals without an owner or department')


class RevenueOut(Schema):
    period: Period
    by: Literal["owner", "department", "month"]
    rows: list[RevenueRow]


class StageWeight(Ref):
    probability: int
    pipeline: Ref


class ForecastPartOut(Schema):
    stage: StageWeight
    amount: Decimal
    weighted: Decimal = Field(description="Rounded to the cent on its own")
    count: int
    deals_query: str


class ForecastMonthOut(Schema):
    month: datetime.date
    currency: str
    amount: Decimal
    weighted: Decimal
    count: int
    deals_query: str
    parts: list[ForecastPartOut] = Field(description="By stage: what the month is made of")


class ForecastOut(Schema):
    months: list[ForecastMonthOut]


class PlansOut(Schema):
    period: Period
    targets: list[PlanOut] = Field(description="The targets you see starting in the period")


class RevenueQuery(PeriodQuery):
    by: Literal["owner", "department", "month"] = "month"


class ForecastQuery(Schema):
    months: int = Field(FORECAST_MONTHS, ge=1, le=12, description="This month and the next")


def _params(query: PeriodQuery, *, pipeline: bool = False) -> ReportParams:
    params = read_params(
        {
            "year": query.year,
            "quarter": query.quarter,
            "from": query.start,
            "to": query.end,
            "pipeline_id": query.pipeline_id,
        }
    )
    if pipeline and params.pipeline is None:
        raise NotFound()
    return params


def _period(params: ReportParams) -> dict:
    return {"first_day": params.start, "last_day": params.last_day}


def _of_pipeline(query: PeriodQuery) -> tuple[ReportParams, dict]:
    """The report's parameters, and what heads a pipeline's figures: period and pipeline."""
    params = _params(query, pipeline=True)
    return params, {"period": _period(params), "pipeline": ref(params.pipeline)}


@router.get("/reports/sales/funnel", response=FunnelOut, operation_id="sales_report_funnel")
def funnel(request, query: Query[PeriodQuery]):
    """Of the deals opened in the period in the pipeline, how many reached each open stage."""
    params, head = _of_pipeline(query)
    steps = reports.funnel(request.user, params.pipeline, params.start, params.end)
    return head | {
        "steps": [
            {
                "stage": ref(step.stage),
                "reached": step.reached,
                "conversion": step.conversion,
                "deals_query": drilldown.query(drilldown.funnel_step(params, step.stage.pk)),
            }
            for step in steps
        ],
    }


@router.get("/reports/sales/win-rate", response=WinRateOut, operation_id="sales_report_win_rate")
def win_rate(request, query: Query[PeriodQuery]):
    """Won over won and lost, of the pipeline's deals closed in the period."""
    params, head = _of_pipeline(query)
    rate = reports.win_rate(request.user, params.start, params.end, params.pipeline)
    return head | {
        "won": rate.won,
        "lost": rate.lost,
        "rate": rate.rate,
        "deals_query": drilldown.query(drilldown.closed(params, "closed")),
    }


@router.get(
    "/reports/sales/cycle-time", response=CycleTimeOut, operation_id="sales_report_cycle_time"
)
def cycle_time(request, query: Query[PeriodQuery]):
    """The mean days from opening to winning of the pipeline's deals won in the period."""
    params, head = _of_pipeline(query)
    rate = reports.win_rate(request.user, params.start, params.end, params.pipeline)
    return head | {
        "won": rate.won,
        "days": reports.cycle_days(request.user, params.start, params.end, params.pipeline),
        "deals_query": drilldown.query(drilldown.closed(params, "won")),
    }


@router.get("/reports/sales/revenue", response=RevenueOut, operation_id="sales_report_revenue")
def revenue(request, query: Query[RevenueQuery]):
    """The amounts won in the period (every pipeline), per currency and owner, department
    or month of winning."""
    params = _params(query)
    rows = reports.revenue(request.user, params.start, params.end, query.by)
    labels = reports.key_labels(query.by, [row.key for row in rows])
    return {
        "period": _period(params),
        "by": query.by,
        "rows": [
            {
                "key": row.key,
                "label": labels[row.key],
                "currency": row.currency,
                "amount": row.amount,
                "count": row.count,
                "deals_query": drilldown.query(
                    drilldown.revenue(params, query.by, row.key, row.currency)
                ),
            }
            for row in rows
        ],
    }


@router.get("/reports/sales/forecast", response=ForecastOut, operation_id="sales_report_forecast")
def forecast(request, query: Query[ForecastQuery]):
    """The open deals expected to close in each of the next months (this one first), per
    currency: their amounts, and weighted by their stage's win probability, by stage."""
    parts = reports.forecast_parts(request.user, query.months)
    return {
        "months": [
            {
                "month": total.month,
                "currency": total.currency,
                "amount": total.amount,
                "weighted": total.weighted,
                "count": total.count,
                "deals_query": drilldown.query(drilldown.forecast(total.month, total.currency)),
                "parts": [
                    {
                        "stage": {
                            **ref(part.stage),
                            "probability": part.stage.probability,
                            "pipeline": ref(part.stage.pipeline),
                        },
                        "amount": part.amount,
                        "weighted": part.weighted,
                        "count": part.count,
                        "deals_query": drilldown.query(
                            drilldown.forecast(part.month, part.currency, part.stage.pk)
                        ),
                    }
                    for part in parts
                    if (part.month, part.currency) == (total.month, total.currency)
                ],
            }
            for total in reports.forecast(request.user, query.months)
        ]
    }


@router.get("/reports/sales/plans", response=PlansOut, operation_id="sales_report_plans")
def plan_report(request, query: Query[PeriodQuery]):
    """The targets you see whose period starts in the period, against what was won."""
    params = _params(query)
    targets = targets_starting(request.user, params.start, params.end)
    return {"period": _period(params), "targets": plans_out(request.user, targets)}
