"""/api/v1/plans: sales targets with their actuals, live. Read: the targets whose actuals
the reader sees (``plans.visible_targets``); written by who may set them (``plans.may_set``:
administrators, heads of department for their subtree) through the plans page's services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core.api import DbInt, IsoDate, Ref, StrictIn, ref
from kontor.core.errors import NotFound

from . import drilldown, plans, reports
from .models import Target
from .report_params import FIRST_YEAR, LAST_YEAR

router = Router(tags=["plans"])

ONE_OF = "A user or a department: exactly one of user_id and department_id"


class PlanIn(StrictIn):
    user_id: DbInt | None = Field(None, description=ONE_OF)
    department_id: DbInt | None = Field(None, description=ONE_OF)
    period: Literal["month", "quarter"]
    starts_on: IsoDate = Field(
        description="The period's first day: the 1st of a month, or of January, April, July "
        "or October for a quarter"
    )
    amount: Decimal | str | None = Field(
        None, description='Decimal string, 2 places at most, 0 or more ("50000.00")'
    )
    currency: str = Field("", description="With an amount: one of the install's currencies")
    won_count: int | None = Field(None, description="Won deals, 1 or more")


class PlanPatch(StrictIn):
    user_id: DbInt | None = None
    department_id: DbInt | None = None
    period: Literal["month", "quarter"] | None = None
    starts_on: IsoDate | None = None
    amount: Decimal | str | None = Field(None, description="Null removes the amount")
    currency: str | None = None
    won_count: int | None = Field(None, description="Null removes the count")


class Actual(Schema):
    won_amount: Decimal = Field(description="Won in the target's currency (0.00 without amount)")
    won_count: int = Field(description="Won deals, any currency")
    amount_percent: Decimal | None = Field(description="Of the amount, %; null without one")
    count_percent: Decimal | None = Field(description="Of the count, %; null without one")
    deals_query: str = Field(
        description="The /api/v1/deals query of the deals counted (add currency for the amount)"
    )


class PlanOut(Schema):
    id: int
    user: Ref | None
    department: Ref | None
    label: str
    period: Literal["month", "quarter"]
    starts_on: datetime.date
    ends_on: datetime.date = Field(description="The period's last day")
    amount: Decimal | None
    currency: str
    won_count: int | None
    actual: Actual
    may_edit: bool


class PlanFilters(Schema):
    year: int | None = Field(
        None, ge=FIRST_YEAR, le=LAST_YEAR, description="Targets whose period starts in this year"
    )


def plan_out(user, line: reports.PlanLine) -> dict:
    target = line.target
    return {
        "id": target.pk,
        "user": ref(target.user),
        "department": ref(target.department),
        "label": plans.target_label(target),
        "period": target.period,
        "starts_on": target.starts_on,
        "ends_on": reports.period_end(target) - datetime.timedelta(days=1),
        "amount": target.amount,
        "currency": target.currency,
        "won_count": target.won_count,
        "actual": {
            "won_amount": line.won_amount,
            "won_count": line.won_count,
            "amount_percent": line.amount_percent,
            "count_percent": line.count_percent,
            "deals_query": drilldown.query(drilldown.target(target)),
        },
        "may_edit": plans.may_set(user, user_id=target.user_id, department_id=target.department_id),
    }


def plans_out(user, targets) -> list[dict]:
    return [plan_out(user, line) for line in reports.plan_vs_actual(user, targets)]


def _target(user, target_id: int) -> Target:
    target = plans.visible_targets(user).filter(pk=target_id).first()
    if target is None:
        raise NotFound()
    return target


def _one(user, target: Target) -> dict:
    return plans_out(user, [_target(user, target.pk)])[0]


@router.get("/plans", response=list[PlanOut], operation_id="plans_list")
def list_plans(request, filters: Query[PlanFilters]):
    """The targets you see (those whose actuals you see), by period, with their actuals."""
    targets = plans.visible_targets(request.user)
    if filters.year is not None:
        targets = targets.filter(starts_on__year=filters.year)
    return plans_out(request.user, targets)


@router.get("/plans/{int:target_id}", response=PlanOut, operation_id="plans_get")
def get_plan(request, target_id: int):
    return _one(request.user, _target(request.user, target_id))


@router.post("/plans", response={201: PlanOut}, operation_id="plans_create")
def create_plan(request, payload: PlanIn):
    target = plans.create_target(payload.model_dump(), actor=request.user)
    return Status(201, _one(request.user, target))


@router.patch("/plans/{int:target_id}", response=PlanOut, operation_id="plans_update")
def update_plan(request, target_id: int, payload: PlanPatch):
    """The fields sent replace the target's; the rest stay."""
    target = _target(request.user, target_id)
    data = plans.as_input(target) | payload.model_dump(exclude_unset=True)
    plans.update_target(target, data, actor=request.user)
    return _one(request.user, target)


@router.delete("/plans/{int:target_id}", response={204: None}, operation_id="plans_delete")
def delete_plan(request, target_id: int):
    plans.delete_target(_target(request.user, target_id), actor=request.user)
    return Status(204, None)
