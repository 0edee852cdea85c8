"""The demo company's sales: pipelines, three years of deals with consistent stage
histories, written as create_deal writes a deal, seen by department, and plans."""

import datetime
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from kontor import demo
from kontor.accounts.models import Department, User
from kontor.core.access import SYSTEM
from kontor.sales import reports, services, setup
from kontor.sales.demo import PIPELINES, REASONS, SALES_TEAMS
from kontor.sales.models import Deal, LostReason, Pipeline, Stage, StageChange, Target
from kontor.sales.types import DEAL

from .test_bulk import written

pytestmark = pytest.mark.django_db

DEALS = 400


@pytest.fixture
def loaded():
    demo.load_demo(companies=60, people=150, deals=DEALS)
    return User.objects.get(email=demo.ADMIN_EMAIL)


def test_the_demo_pipelines_come_first_and_the_default_one_is_kept(loaded):
    names = list(Pipeline.objects.values_list("name", flat=True))
    assert names == ["Retail", "Wholesale", "Tenders", "Sales"]
    for name, stages in PIPELINES.items():
        written_stages = list(
            Stage.objects.filter(pipeline__name=name).values_list(
                "name", "kind", "probability", "rotting_days", "required_fields"
            )
        )
        assert written_stages == [tuple(stage[:5]) for stage in stages]
    assert set(REASONS) <= set(
        LostReason.objects.filter(is_active=True).values_list("name", flat=True)
    )
    assert not Deal.objects.filter(pipeline__name="Sales").exists()


def test_every_deal_has_a_consistent_history(loaded):
    deals = Deal.objects.select_related("stage")
    assert deals.count() == DEALS
    moves: dict[int, list] = {}
    for move in StageChange.objects.order_by("moved_at", "id"):
        moves.setdefault(move.deal_id, []).append(move)
    skipped = back = 0
    for deal in deals:
        chain = moves[deal.pk]
        assert chain[0].from_stage_id is None
        for before, after in pairwise(chain):
            assert after.from_stage_id == before.to_stage_id
            assert after.moved_at > before.moved_at
        assert {m.moved_by_id for m in chain} == {deal.owner_id}
        assert chain[-1].to_stage_id == deal.stage_id
        assert deal.created_at == chain[0].moved_at
        assert deal.stage_entered_at == deal.updated_at == chain[-1].moved_at
        closed = deal.stage.kind != Stage.Kind.OPEN
        assert (deal.closed_at is not None) == closed
        if closed:
            assert deal.closed_at == deal.stage_entered_at
        assert (deal.lost_reason_id is not None) == (deal.stage.kind == Stage.Kind.LOST)
        positions = [m.to_stage.position for m in chain if m.to_stage.kind == Stage.Kind.OPEN]
        skipped += any(b - a > 1 for a, b in pairwise(positions))
        back += any(b < a for a, b in pairwise(positions))
        assert deal.amount > 0 or not deal.stage.required_fields
    assert skipped and back
    now = timezone.now()
    old = deals.filter(created_at__lt=now - datetime.timedelta(days=365))
    assert old.filter(closed_at__isnull=False).count() > 0.95 * old.count() > 0
    recent = deals.filter(created_at__gte=now - datetime.timedelta(days=30))
    assert recent.filter(closed_at__isnull=True).count() > 0.25 * recent.count() > 0
    assert deals.filter(created_at__lt=now - datetime.timedelta(days=2 * 365)).exists()
    rotting = [
        d
        for d in deals.filter(closed_at__isnull=True, stage__rotting_days__isnull=False)
        if d.stage_entered_at < now - datetime.timedelta(days=d.stage.rotting_days)
    ]
    assert rotting
    assert set(deals.values_list("currency", flat=True)) > {"EUR"}
    assert deals.filter(currency="EUR").count() > 0.9 * DEALS


def test_a_demo_deal_is_written_as_create_deal_writes_it(loaded):
    deal = (
        Deal.objects.filter(company__isnull=False, person__isnull=False, stage__kind="lost")
        .exclude(tags=None)
        .first()
    ) or Deal.objects.filter(company__isnull=False, person__isnull=False).first()
    assert deal.person.company_id == deal.company_id
    data = {
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close": deal.expected_close,
        "company_id": deal.company_id,
        "person_id": deal.person_id,
        "source": deal.source,
        "notes": deal.notes,
        "tags": list(deal.tags.values_list("name", flat=True)),
        "stage_id": deal.stage_id,
        "lost_reason_id": deal.lost_reason_id,
        "owner_id": deal.owner_id,
        "department_id": deal.department_id,
    }

    single = services.create_deal(data, actor=SYSTEM)

    ours, theirs = written(deal), written(single)
    # The demo's deal went through several stages, by its owner; a new one entered one.
    assert [m[2] for m in ours.pop("moves")][-1] == theirs.pop("moves")[0][2]
    assert ours == theirs
    assert ours["moment_is_opening"] and len(ours["timeline"]) >= 2


def test_a_member_sees_their_departments_deals(loaded):
    north = Department.objects.get(name="Sales Team North")
    member = User.objects.filter(department=north, roles__name="member").first()

    visible = DEAL.visible(member)

    assert visible.count() == Deal.objects.filter(department=north).count() > 0
    head = User.objects.get(department__name="Sales", roles__name="head")
    assert DEAL.visible(head).count() == DEALS
    owners = set(Deal.objects.values_list("owner__department__name", flat=True))
    assert owners <= {*SALES_TEAMS, "Sales"}


def test_the_reports_have_plausible_figures(loaded):
    today = timezone.localdate()
    start, end = today - datetime.timedelta(days=3 * 365 + 1), today + datetime.timedelta(days=1)
    for pipeline in Pipeline.objects.filter(name__in=PIPELINES):
        steps = reports.funnel(loaded, pipeline, start, end)
        counts = [step.reached for step in steps]
        assert counts[0] > 0 and counts == sorted(counts, reverse=True)
        assert all(0 < step.conversion <= 100 for step in steps[1:] if step.reached)
    rate = reports.win_rate(loaded, start, end).rate
    assert Decimal(25) < rate < Decimal(75)
    assert reports.cycle_days(loaded, start, end) > 1
    assert any(f.currency == "EUR" and f.weighted > 0 for f in reports.forecast(loaded))
    months = {a.key for a in reports.revenue(loaded, start, end, "month")}
    assert len(months) > 24


def test_plans_are_set_for_the_year_around_what_each_won(loaded):
    today = timezone.localdate()
    sellers = User.objects.filter(department__name__in=[*SALES_TEAMS, "Sales"])
    departments = Department.objects.filter(name__in=[*SALES_TEAMS, "Sales"])
    targets = Target.objects.filter(starts_on__year=today.year)
    assert targets.count() == (sellers.count() + departments.count()) * 16
    # The plans' base: what each won from the day a year before the load.
    year_ago = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=365), datetime.time())
    )
    for user in sellers:
        months = targets.filter(user=user, period="month")
        planned = sum(t.amount for t in months)
        won = sum(
            Deal.objects.filter(
                owner=user, stage__kind="won", currency="EUR", closed_at__gte=year_ago
            ).values_list("amount", flat=True),
            Decimal(0),
        )
        assert Decimal("0.9") * won - 3000 <= planned <= Decimal("1.35") * won + 3000
        quarter = targets.get(
            user=user, period="quarter", starts_on=datetime.date(today.year, 4, 1)
        )
        assert quarter.amount == sum(t.amount for t in months[3:6])
    north = departments.get(name="Sales Team North")
    january = targets.filter(period="month", starts_on=datetime.date(today.year, 1, 1))
    assert january.get(department=north).amount == sum(
        t.amount for t in january.filter(user__department=north)
    )
    # Against the plans: the year's won deals of each seller, quarter by quarter.
    lines = reports.plan_vs_actual(loaded, targets.filter(period="quarter", user__isnull=False))
    won_this_year = Deal.objects.filter(
        owner__in=sellers,
        stage__kind="won",
        currency="EUR",
        closed_at__gte=reports.moment(datetime.date(today.year, 1, 1)),
    ).values_list("amount", flat=True)
    assert sum(line.won_amount for line in lines) == sum(won_this_year, Decimal(0))
    assert any(line.target.amount > 0 for line in lines)


def test_the_demo_loads_beside_an_installs_own_retail_pipeline(org):
    own = setup.create_pipeline({"name": "retail", "stages": [{"name": "New"}]}, actor=org.admin)

    demo.load_demo(companies=20, people=40, deals=50)

    assert Pipeline.objects.get(pk=own.pk).stages.count() == 1
    theirs = Pipeline.objects.get(name="Retail (B. Company)")
    assert Deal.objects.filter(pipeline=theirs).exists()
    assert not Deal.objects.filter(pipeline=own).exists()
