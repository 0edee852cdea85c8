"""The deals list's filters that select exactly the deals behind a report's figure
(``types.DealType.filters``): the pages link to the list with them, the API answers them
as a query for /api/v1/deals. Each mirrors the figure's definition in ``reports``."""

from __future__ import annotations

import datetime

from django.utils.http import urlencode

from . import reports
from .models import Target
from .report_params import ReportParams
from .types import DEAL, period_value


def query(filters: dict | None) -> str:
    """``filters`` as a query string ("" for none)."""
    if filters is None:
        return ""
    return urlencode({key: value for key, value in filters.items() if value not in (None, "")})


def url(filters: dict | None) -> str:
    """The deals list narrowed by ``filters``; "" when no list selects the figure's deals."""
    return f"{DEAL.url('list')}?{query(filters)}" if filters is not None else ""


def funnel_step(params: ReportParams, stage_id: int) -> dict:
    """The deals opened in the period in the pipeline that reached the stage."""
    return {
        "pipeline_id": params.pipeline.pk,
        "created": period_value(params.start, params.end),
        "reached_stage_id": stage_id,
    }


def closed(params: ReportParams, status: str) -> dict:
    """The deals of the pipeline won, lost, or either ("closed") in the period."""
    return {
        "status": status,
        "closed": period_value(params.start, params.end),
        "pipeline_id": params.pipeline.pk,
    }


def won(start: datetime.date, end: datetime.date, currency: str, **narrowed) -> dict:
    """The deals won in [start, end) in ``currency`` (any pipeline), further ``narrowed``
    (owner_id, department_id)."""
    return {"status": "won", "closed": period_value(start, end), "currency": currency} | narrowed


def revenue(params: ReportParams, by: str, key, currency: str) -> dict | None:
    """A revenue figure's deals; None for those without an owner or department (no list
    filter selects them)."""
    if by == "month":
        return won(max(key, params.start), min(reports.month_start(key, 1), params.end), currency)
    if key is None:
        return None
    return won(params.start, params.end, currency, **{f"{by}_id": key})


def forecast(month: datetime.date, currency: str, stage_id: int | None = None) -> dict:
    """The open deals expected to close in ``month`` in ``currency`` (in one stage)."""
    return {
        "status": "open",
        "close": period_value(month, reports.month_start(month, 1)),
        "currency": currency,
        "stage_id": stage_id,
    }


def target(target: Target) -> dict:
    """The deals a target's actual counts: won in its period by its user, or in its
    department and the departments below it (add the currency for its amount)."""
    found = {"status": "won", "closed": period_value(target.starts_on, reports.period_end(target))}
    if target.user_id is not None:
        return found | {"owner_id": target.user_id}
    return found | {"department_tree_id": target.department_id}
