"""Sales figures, each computed over the deals the reader may see.

Definitions (docs/architecture.md, "Sales reports"):
- Funnel: of the deals opened in a period in a pipeline, how many reached each open
  stage; a deal reached a stage when it ever moved into it or into a later one (by the
  stage's position), or was won. Moves into a lost stage reach nothing. Conversion from a
  stage to the next is the next one's count over this one's.
- Win rate: won over won and lost, of the deals closed in the period.
- Cycle time: the mean days from opening to winning, of the deals won in the period.
- Revenue: the amounts of the deals won in the period, per currency, by owner,
  department or month.
- Forecast: the open deals expected to close in each of the next months, per currency:
  their amounts, and weighted by their stage's win probability.
- Plan against actual: a target's amount (in its currency) and count of won deals
  against those won in its period by its user, or by its department and those below.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kontor.accounts.models import Department

from .models import Pipeline, Stage, Target
from .types import DEAL
from .types import day_start as moment

# Past every position: a won deal reached every open stage.
_WON = 1_000_000


def visible(user):
    return DEAL.visible(user)


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    conversion: Decimal | None  # % from the previous step; None for the first


def funnel(user, pipeline: Pipeline, start: datetime.date, end: datetime.date) -> list[FunnelStep]:
    """The open stages of ``pipeline`` with how many of the deals opened in [start, end)
    reached each (one read)."""
    stages = list(pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id"))
    kind = "stage_changes__to_stage__kind"
    # Each deal's furthest move from its moves joined and grouped, then counted per stage
    # in one pass: a subquery per deal took three times as long (docs/benchmarks.md).
    cohort = visible(user).filter(
        pipeline=pipeline, created_at__gte=moment(start), created_at__lt=moment(end)
    )
    furthest = cohort.annotate(
        far=Max(
            Case(
                When(**{kind: Stage.Kind.WON}, then=Value(_WON)),
                When(**{kind: Stage.Kind.OPEN}, then=F("stage_changes__to_stage__position")),
                output_field=IntegerField(),
            )
        )
    )
    reached = furthest.aggregate(
        **{f"reached_{i}": Count("pk", filter=Q(far__gte=s.position)) for i, s in enumerate(stages)}
    )
    steps: list[FunnelStep] = []
    for i, stage in enumerate(stages):
        count = reached[f"reached_{i}"]
        previous = steps[-1].reached if steps else None
        conversion = None
        if previous is not None:
            conversion = (
                (Decimal(100 * count) / previous).quantize(Decimal("0.1"))
                if previous
                else Decimal("0.0")
            )
        steps.append(FunnelStep(stage, count, conversion))
    return steps


def _closed_in(qs, start: datetime.date, end: datetime.date):
    return qs.filter(closed_at__gte=moment(start), closed_at__lt=moment(end))


@dataclass
class WinRate:
    won: int
    lost: int

    @property
    def rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(100 * self.won) / closed).quantize(Decimal("0.1")) if closed else None


def win_rate(user, start: datetime.date, end: datetime.date, pipeline=None) -> WinRate:
    qs = _closed_in(visible(user), start, end)
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    counts = qs.aggregate(
        won=Count("pk", filter=Q(stage__kind=Stage.Kind.WON)),
        lost=Count("pk", filter=Q(stage__kind=Stage.Kind.LOST)),
    )
    return WinRate(counts["won"], counts["lost"])


def cycle_days(user, start: datetime.date, end: datetime.date, pipeline=None) -> Decimal | None:
    """The mean days from opening to winning of the deals won in [start, end)."""
    qs = _closed_in(visible(user), start, end).filter(stage__kind=Stage.Kind.WON)
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    spans = [closed - created for created, closed in qs.values_list("created_at", "closed_at")]
    if not spans:
        return None
    seconds = sum(span.total_seconds() for span in spans) / len(spans)
    return (Decimal(seconds) / 86400).quantize(Decimal("0.1"))


def _cents(value) -> Decimal:
    """A sum to the cent (SQLite's sums lose the column's scale: 250 for 250.00)."""
    return Decimal(value).quantize(Decimal("0.01"))


@dataclass
class Amount:
    key: object  # an owner id, a department id or a month's first day
    currency: str
    amount: Decimal
    count: int


_GROUPS = {
    "owner": "owner_id",
    "department": "department_id",
    "month": "month",
}


def key_labels(by: str, keys) -> dict:
    """{key: its name}: the owners' or departments' names, or the months as a language
    writes them; a missing owner or department is None's."""
    keys = set(keys)
    if by == "month":
        return {key: date_format(key, "YEAR_MONTH_FORMAT") for key in keys}
    model = get_user_model() if by == "owner" else Department
    found = {pk: str(obj) for pk, obj in model.objects.in_bulk(keys - {None}).items()}
    if None in keys:
        found[None] = _("No owner") if by == "owner" else _("No department")
    return found


def revenue(user, start: datetime.date, end: datetime.date, by: str) -> list[Amount]:
    """The won deals of [start, end) summed per currency and ``by``: owner, department
    or month (of winning)."""
    qs = _closed_in(visible(user), start, end).filter(stage__kind=Stage.Kind.WON).order_by()
    if by == "month":
        qs = qs.annotate(month=TruncMonth("closed_at"))
    rows = (
        qs.values(_GROUPS[by], "currency")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by(_GROUPS[by], "currency")
    )
    found = []
    for row in rows:
        key = row[_GROUPS[by]]
        if by == "month" and isinstance(key, datetime.datetime):
            key = timezone.localtime(key).date() if timezone.is_aware(key) else key.date()
        found.append(Amount(key, row["currency"], _cents(row["total"]), row["n"]))
    return found


@dataclass
class ForecastMonth:
    month: datetime.date
    currency: str
    amount: Decimal
    weighted: Decimal
    count: int


def month_start(day: datetime.date, months_on: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months_on
    return datetime.date(index // 12, index % 12 + 1, 1)


def _open_by_close_month(user, months: int, today: datetime.date | None, *keys: str):
    """The open deals expected to close in each of the next ``months`` (this one first),
    summed per month, ``keys`` and currency: raw, weighted by probability, counted."""
    first = month_start(today or timezone.localdate())
    last = month_start(first, months)
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability") / 100,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    return (
        visible(user)
        .filter(closed_at__isnull=True, expected_close__gte=first, expected_close__lt=last)
        .annotate(month=TruncMonth("expected_close"))
        .order_by()
        .values("month", *keys, "currency")
        # Named apart from the columns: an aggregate named "amount" would stand for the
        # column in the weighted sum.
        .annotate(total=Sum("amount"), total_weighted=Sum(weighted), n=Count("pk"))
        .order_by("month", *keys, "currency")
    )


def forecast(user, months: int = 3, today: datetime.date | None = None) -> list[ForecastMonth]:
    """Open deals expected to close in each of the next ``months`` (this one first)."""
    return [
        ForecastMonth(
            row["month"],
            row["currency"],
            _cents(row["total"]),
            _cents(row["total_weighted"]),
            row["n"],
        )
        for row in _open_by_close_month(user, months, today)
    ]


@dataclass
class ForecastPart:
    """What a month's forecast is made of: one stage's open deals in one currency."""

    month: datetime.date
    stage: Stage
    currency: str
    amount: Decimal
    weighted: Decimal  # rounded to the cent on its own
    count: int


def forecast_parts(user, months: int = 3, today: datetime.date | None = None) -> list[ForecastPart]:
    """``forecast`` by stage: the parts of each month's figures."""
    rows = list(_open_by_close_month(user, months, today, "stage_id"))
    stages = Stage.objects.select_related("pipeline").in_bulk({row["stage_id"] for row in rows})
    return [
        ForecastPart(
            row["month"],
            stages[row["stage_id"]],
            row["currency"],
            _cents(row["total"]),
            _cents(row["total_weighted"]),
            row["n"],
        )
        for row in rows
    ]


def period_end(target: Target) -> datetime.date:
    return month_start(target.starts_on, 1 if target.period == Target.Period.MONTH else 3)


@dataclass
class PlanLine:
    target: Target
    won_amount: Decimal
    won_count: int

    @property
    def amount_percent(self) -> Decimal | None:
        if not self.target.amount:
            return None
        return (100 * self.won_amount / self.target.amount).quantize(Decimal("0.1"))

    @property
    def count_percent(self) -> Decimal | None:
        if not self.target.won_count:
            return None
        return (Decimal(100 * self.won_count) / self.target.won_count).quantize(Decimal("0.1"))


def won_for(user, target: Target):
    """The deals won in the target's period by its user or department (and those below)."""
    qs = _closed_in(visible(user), target.starts_on, period_end(target)).filter(
        stage__kind=Stage.Kind.WON
    )
    if target.user_id is not None:
        return qs.filter(owner_id=target.user_id)
    department = Department.objects.get(pk=target.department_id)
    return qs.filter(department_id__in=department.subtree_ids())


def plan_vs_actual(user, targets) -> list[PlanLine]:
    lines = []
    for target in targets:
        won = won_for(user, target)
        counted = won.aggregate(
            n=Count("pk"),
            total=Sum("amount", filter=Q(currency=target.currency or "")),
        )
        lines.append(PlanLine(target, _cents(counted["total"] or 0), counted["n"]))
    return lines
