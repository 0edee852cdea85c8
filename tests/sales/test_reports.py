"""Each sales figure equals an independent computation over the same deals (plain Python
over the rows), for a reader who sees everything and for a member who sees their
department's deals only."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from kontor.sales import reports, services
from kontor.sales.models import Deal, LostReason, Pipeline, Stage, StageChange, Target

pytestmark = pytest.mark.django_db

YEAR_START = datetime.date(2026, 1, 1)
YEAR_END = datetime.date(2027, 1, 1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def history(org):
    """60 deals of three owners over 2025-2026 with random walks through the stages."""
    rng = random.Random(14)
    pipeline = Pipeline.objects.get(name="Sales")
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    owners = [org.member_a, org.member_b, org.support_member]
    for i in range(60):
        owner = rng.choice(owners)
        created = datetime.date(2025, 11, 1) + datetime.timedelta(days=rng.randrange(400))
        deal = services.create_deal(
            {
                "title": f"Deal {i}",
                "amount": f"{rng.randrange(100, 100000)}.{rng.randrange(100):02d}",
                "currency": rng.choice(["EUR", "EUR", "USD"]),
                "expected_close": (
                    timezone.localdate() + datetime.timedelta(days=rng.randrange(-20, 100))
                ).isoformat(),
            },
            actor=owner,
        )
        moment = at(created)
        Deal.objects.filter(pk=deal.pk).update(created_at=moment, stage_entered_at=moment)
        StageChange.objects.filter(deal=deal).update(moved_at=moment)
        position = 0
        for _step in range(rng.randrange(0, 6)):
            moment += datetime.timedelta(days=rng.randrange(1, 30))
            choice = rng.random()
            if choice < 0.15:
                target = won
            elif choice < 0.3:
                target = lost
            else:
                position = max(0, min(len(open_stages) - 1, position + rng.choice([1, 1, -1])))
                target = open_stages[position]
            deal = Deal.objects.get(pk=deal.pk)
            if target.pk == deal.stage_id:
                continue
            data = {"stage_id": target.pk}
            if target == lost:
                data["lost_reason_id"] = LostReason.objects.first().pk
            deal = services.update_deal(deal, data, actor=owner, expected_version=deal.version)
            closed = moment if deal.closed_at else None
            Deal.objects.filter(pk=deal.pk).update(stage_entered_at=moment, closed_at=closed)
            StageChange.objects.filter(
                pk=StageChange.objects.filter(deal=deal).latest("id").pk
            ).update(moved_at=moment)
            if target in (won, lost) and rng.random() < 0.6:
                break
    return pipeline


def seen_by(user):
    return list(Deal.objects.visible_to(user).select_related("stage"))


def in_year(moment) -> bool:
    return moment is not None and at(YEAR_START, 0) <= moment < at(YEAR_END, 0)


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_the_funnel_counts_each_stage_reached(history, org, reader):
    user = getattr(org, reader)
    cohort = [d for d in seen_by(user) if in_year(d.created_at)]
    open_stages = list(history.stages.filter(kind=Stage.Kind.OPEN).order_by("position"))
    furthest = {}
    for deal in cohort:
        moves = StageChange.objects.filter(deal=deal).select_related("to_stage")
        far = None
        for move in moves:
            if move.to_stage.kind == Stage.Kind.WON:
                far = 10**9
            elif move.to_stage.kind == Stage.Kind.OPEN:
                far = max(far if far is not None else -1, move.to_stage.position)
        furthest[deal.pk] = far
    expected = [
        sum(1 for far in furthest.values() if far is not None and far >= stage.position)
        for stage in open_stages
    ]
    steps = reports.funnel(user, history, YEAR_START, YEAR_END)
    assert [s.reached for s in steps] == expected
    assert expected[0] == len(cohort) > 0
    for before, step in zip(steps, steps[1:], strict=False):
        if before.reached:
            assert step.conversion == (Decimal(100 * step.reached) / before.reached).quantize(
                Decimal("0.1")
            )


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_win_rate_cycle_time_and_revenue(history, org, reader):
    user = getattr(org, reader)
    closed = [d for d in seen_by(user) if in_year(d.closed_at)]
    won = [d for d in closed if d.stage.kind == Stage.Kind.WON]
    lost = [d for d in closed if d.stage.kind == Stage.Kind.LOST]
    rate = reports.win_rate(user, YEAR_START, YEAR_END)
    assert (rate.won, rate.lost) == (len(won), len(lost)) and won and lost
    days = sum((d.closed_at - d.created_at).total_seconds() for d in won) / len(won) / 86400
    assert reports.cycle_days(user, YEAR_START, YEAR_END) == Decimal(days).quantize(Decimal("0.1"))
    by_owner = defaultdict(lambda: [Decimal("0"), 0])
    for deal in won:
        by_owner[(deal.owner_id, deal.currency)][0] += deal.amount
        by_owner[(deal.owner_id, deal.currency)][1] += 1
    found = {
        (r.key, r.currency): [r.amount, r.count]
        for r in reports.revenue(user, YEAR_START, YEAR_END, "owner")
    }
    assert found == {key: value for key, value in by_owner.items()}
    by_month = defaultdict(Decimal)
    for deal in won:
        by_month[(timezone.localtime(deal.closed_at).date().replace(day=1), deal.currency)] += (
            deal.amount
        )
    months = {
        (r.key, r.currency): r.amount for r in reports.revenue(user, YEAR_START, YEAR_END, "month")
    }
    assert months == dict(by_month)


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_the_forecast_weighs_open_deals_by_month(history, org, reader):
    user = getattr(org, reader)
    today = timezone.localdate()
    first = reports.month_start(today)
    last = reports.month_start(today, 3)
    expected = defaultdict(lambda: [Decimal("0"), Decimal("0"), 0])
    for deal in seen_by(user):
        if deal.closed_at is None and deal.expected_close and first <= deal.expected_close < last:
            key = (deal.expected_close.replace(day=1), deal.currency)
            expected[key][0] += deal.amount
            expected[key][1] += deal.amount * deal.stage.probability / 100
            expected[key][2] += 1
    found = {
        (f.month, f.currency): [f.amount, f.weighted, f.count]
        for f in reports.forecast(user, 3, today)
    }
    assert found == {
        key: [amount, weighted.quantize(Decimal("0.01")), n]
        for key, (amount, weighted, n) in expected.items()
    }
    assert found


def test_plan_against_actual_for_a_user_and_a_department(history, org):
    won = [d for d in seen_by(org.admin) if d.stage.kind == Stage.Kind.WON and d.closed_at]
    deal = won[0]
    month = reports.month_start(timezone.localtime(deal.closed_at).date())
    quarter = month.replace(month=3 * ((month.month - 1) // 3) + 1)
    mine = Target.objects.create(
        user=deal.owner,
        period="month",
        starts_on=month,
        amount=Decimal("50000"),
        currency="EUR",
        won_count=4,
    )
    team = Target.objects.create(
        department=org.dept.sales,
        period="quarter",
        starts_on=quarter,
        amount=Decimal("1"),
        currency="USD",
    )
    lines = reports.plan_vs_actual(org.admin, [mine, team])
    month_end = reports.month_start(month, 1)
    theirs = [
        d
        for d in won
        if d.owner_id == deal.owner_id and at(month, 0) <= d.closed_at < at(month_end, 0)
    ]
    assert lines[0].won_count == len(theirs)
    assert lines[0].won_amount == sum(
        (d.amount for d in theirs if d.currency == "EUR"), Decimal("0")
    )
    sales_ids = set(org.dept.sales.subtree_ids())
    quarter_end = reports.month_start(quarter, 3)
    team_won = [
        d
        for d in won
        if d.department_id in sales_ids and at(quarter, 0) <= d.closed_at < at(quarter_end, 0)
    ]
    assert lines[1].won_count == len(team_won)
    assert lines[1].won_amount == sum(
        (d.amount for d in team_won if d.currency == "USD"), Decimal("0")
    )
    assert lines[1].count_percent is None
