"""B. Company's sales: three pipelines, three years of deals, this year's plans.

The pipelines ("Retail", "Wholesale", "Tenders") and the lost reasons they need are
written through the settings services by the demo admin, as an administrator would set
them up; the install's own pipelines (the default "Sales" among them) are kept as they
are and come after the demo's. The deals go through the bulk import (``sales.bulk``:
create_deal's checks, audit, search, events, the clients' timelines) with the stage
history each went through, owned by the sales teams; the import stamps them with the
moment it runs, so they are then dated back to their first move. Plans are the sales
people's and departments' targets for each month and quarter of this year, around what
each won in the last twelve months.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Min, OuterRef, Subquery
from django.utils import timezone

from kontor.accounts.models import User
from kontor.core import money
from kontor.core.access import SYSTEM
from kontor.core.bulk import import_rows
from kontor.core.models import AuditEntry, TimelineLink

from . import setup
from .models import Deal, LostReason, Pipeline, Stage, StageChange, Target
from .types import DEAL

YEARS = 3
# (name, kind, probability %, rotting days, required fields, mean days spent in it).
PIPELINES = {
    "Retail": [
        ("Inquiry", "open", 10, 3, [], 3),
        ("Quote sent", "open", 40, 7, ["amount"], 5),
        ("Order confirmed", "open", 80, None, ["amount", "expected_close"], 4),
        ("Won", "won", 100, None, ["amount"], 0),
        ("Lost", "lost", 0, None, [], 0),
    ],
    "Wholesale": [
        ("Lead", "open", 10, 14, [], 10),
        ("Qualified", "open", 25, 14, ["company"], 12),
        ("Price offer", "open", 50, 14, ["amount", "company"], 14),
        ("Negotiation", "open", 70, 21, ["amount", "expected_close", "company"], 18),
        ("Contract signed", "open", 90, None, ["amount", "expected_close", "company"], 10),
        ("Won", "won", 100, None, ["amount", "company"], 0),
        ("Lost", "lost", 0, None, [], 0),
    ],
    "Tenders": [
        ("Announced", "open", 5, 30, ["company"], 20),
        ("Documents prepared", "open", 20, 30, ["company"], 25),
        ("Bid submitted", "open", 40, None, ["amount", "expected_close", "company"], 35),
        ("Shortlisted", "open", 60, 30, ["amount", "expected_close", "company"], 25),
        ("Awarded", "won", 100, None, ["amount", "company"], 0),
        ("Not awarded", "lost", 0, None, [], 0),
    ],
}


@dataclass(frozen=True)
class Flow:
    """How a pipeline's deals come and go."""

    share: float  # of all deals
    median_amount: float  # in euros; a lognormal amount around it
    spread: float
    lost_per_stage: float  # the chance to be lost on leaving an open stage
    horizon_days: int  # how far ahead an open deal is expected to close, at most
    sources: dict[str, int]
    reasons: dict[str, int]  # lost reasons by name, weighted
    titles: tuple[str, ...]


REASONS = (
    "Price",
    "Competitor",
    "No budget",
    "No decision",
    "Delivery time",
    "Out of stock",
    "Project postponed",
    "Other",
)
FLOWS = {
    "Retail": Flow(
        0.55,
        2400,
        0.9,
        0.22,
        30,
        {"website": 35, "call": 30, "referral": 15, "email": 10, "other": 10},
        {
            "Price": 35,
            "Competitor": 20,
            "Out of stock": 15,
            "No decision": 15,
            "Delivery time": 10,
            "Other": 5,
        },
        ("{product} for a private house", "{product}, pick-up order", "{product} to the site"),
    ),
    "Wholesale": Flow(
        0.33,
        26000,
        0.8,
        0.16,
        90,
        {"referral": 25, "partner": 20, "email": 20, "call": 15, "event": 15, "website": 5},
        {
            "Price": 30,
            "Competitor": 30,
            "No budget": 10,
            "No decision": 10,
            "Delivery time": 15,
            "Other": 5,
        },
        ("{product}: supply contract", "Quarterly {product} order", "{product} for the new site"),
    ),
    "Tenders": Flow(
        0.12,
        220000,
        0.7,
        0.2,
        150,
        {"tender": 85, "referral": 10, "partner": 5},
        {"Price": 45, "Competitor": 30, "Project postponed": 20, "Other": 5},
        ("Tender: {project}, {product}",),
    ),
}
PRODUCTS = (
    "Cement",
    "Rebar",
    "Roof tiles",
    "Plasterboard",
    "Mineral wool",
    "Facing bricks",
    "Ready-mix concrete",
    "Sawn timber",
    "Waterproofing",
    "Tile adhesive",
    "Aerated blocks",
    "Paving stones",
)
PROJECTS = (
    "school renovation",
    "hospital wing",
    "residential block",
    "bridge repair",
    "logistics centre",
    "office building",
    "kindergarten",
    "sports hall",
)
TAGS = ("key account", "urgent", "repeat order", "VIP")
NOTES = (
    "Delivery by crane truck; the site has no forklift.",
    "Wants to pay in two parts: on order and on delivery.",
    "Compare with last year's price before the offer.",
    "Samples were handed over at the site visit.",
    "Pick-up from our warehouse, no delivery.",
)
# Roughly what a euro is worth in each currency (the amounts above are in euros), so
# that a deal in roubles is not a hundredth of its neighbours; another currency: 1.
RATES = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "CHF": 0.95, "RUB": 100.0}
# Industries that bid in tenders (kontor.demo.INDUSTRIES).
TENDERING = ("Real estate development", "Civil engineering", "Construction")
SALES_TEAMS = ("Sales Team North", "Sales Team South")


@dataclass(frozen=True)
class Client:
    """A demo client a deal may be for: a company, or a person (at a company or not)."""

    pk: int
    owner_id: int
    company_id: int | None = None  # a person's employer
    industry: str = ""  # a company's


def load(
    *,
    admin: User,
    staff: dict[str, list[User]],
    companies: list[Client],
    people: list[Client],
    rng: random.Random,
    deals: int,
    free_name: Callable[[type, str], str],
) -> None:
    """The pipelines and reasons, ``deals`` deals over the last three years and this
    year's targets of the sales people and departments."""
    pipelines = _pipelines(admin, free_name)
    reasons = _reasons(admin)
    now = timezone.localtime()
    rows = _deal_rows(deals, pipelines, reasons, staff, companies, people, rng, now)
    result = import_rows(DEAL, rows, actor=SYSTEM)
    if result.errors:
        raise RuntimeError(f"demo data rejected: {result.errors[:5]}")
    if result.ids:
        _date_back(min(result.ids), max(result.ids))
    _targets(staff, rng, now.date())


def _pipelines(admin: User, free_name) -> dict[str, list[Stage]]:
    """The demo's pipelines, first in the order: each one's stages in order, by its
    name in ``PIPELINES``."""
    made = {}
    for name, stages in PIPELINES.items():
        pipeline = setup.create_pipeline(
            {
                "name": free_name(Pipeline, name),
                "stages": [
                    {
                        "name": stage,
                        "kind": kind,
                        "probability": probability,
                        "rotting_days": rotting,
                        "required_fields": required,
                    }
                    for stage, kind, probability, rotting, required, _days in stages
                ],
            },
            actor=admin,
        )
        made[name] = list(pipeline.stages.order_by("position", "id"))
    ours = [stages[0].pipeline_id for stages in made.values()]
    others = Pipeline.objects.exclude(pk__in=ours).values_list("pk", flat=True)
    setup.reorder_pipelines([*ours, *others], actor=admin)
    return made


def _reasons(admin: User) -> dict[str, int]:
    """The reasons the demo's deals are lost for, the install's own where it has them."""
    found = {}
    for name in REASONS:
        reason = LostReason.objects.filter(name__iexact=name).first()
        if reason is None:
            reason = setup.create_lost_reason({"name": name}, actor=admin)
        elif not reason.is_active:
            reason = setup.update_lost_reason(reason, {"is_active": True}, actor=admin)
        found[name] = reason.pk
    return found


def _opened(rng: random.Random, now: datetime.datetime) -> datetime.datetime:
    """A working-hours moment of the last three years: the business grows (twice the
    deals now as three years ago) and building is busier from spring to autumn."""
    days = YEARS * 365
    while True:
        back = rng.uniform(0, days)
        day = now - datetime.timedelta(days=back)
        growth = 1 + (days - back) / days
        season = 1 + 0.3 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
        if rng.uniform(0, 2 * 1.3) < growth * season:
            break
    # Today's working hours may not have come yet.
    return min(_working_hours(rng, day), now - datetime.timedelta(minutes=rng.randrange(1, 60)))


def _working_hours(rng: random.Random, day: datetime.datetime) -> datetime.datetime:
    return day.replace(hour=rng.randrange(8, 18), minute=rng.randrange(60), second=0, microsecond=0)


def _journey(
    rng: random.Random, stages: list[Stage], days: list[int], flow: Flow, start, now
) -> list[tuple[Stage, datetime.datetime]]:
    """The stages a deal went through until now: forward mostly, sometimes skipping one
    or going back one, lost on the way or won at the end; open while time ran out."""
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    path, index, moment = [(open_stages[0], start)], 0, start
    while True:
        stay = rng.expovariate(1 / days[stages.index(open_stages[index])])
        moment = _working_hours(rng, moment + datetime.timedelta(days=stay))
        if moment <= path[-1][1]:
            moment = path[-1][1] + datetime.timedelta(minutes=rng.randrange(5, 120))
        if moment >= now:
            return path
        chance = rng.random()
        if chance < flow.lost_per_stage:
            return [*path, (lost, moment)]
        if index and chance < flow.lost_per_stage + 0.04:
            index -= 1
        elif chance < flow.lost_per_stage + 0.12 and index + 2 < len(open_stages):
            index += 2
        else:
            index += 1
        if index == len(open_stages):
            return [*path, (won, moment)]
        path.append((open_stages[index], moment))


def _deal_rows(deals, pipelines, reasons, staff, companies, people, rng, now):
    sellers = {team: staff[team] for team in SALES_TEAMS}
    sales_people = {u.pk: u for team in SALES_TEAMS for u in staff[team]}
    head_of_sales = staff["Sales"][0]
    employees: dict[int, list[Client]] = {}
    for person in people:
        if person.company_id is not None:
            employees.setdefault(person.company_id, []).append(person)
    private = [p for p in people if p.company_id is None]
    tendering = [c for c in companies if c.industry in TENDERING] or companies
    names = list(FLOWS)
    shares = [FLOWS[name].share for name in names]
    others = [code for code in money.currencies() if code != money.default_currency()]
    days = {name: [row[5] for row in PIPELINES[name]] for name in names}
    currency = money.default_currency()
    for _n in range(deals):
        name = rng.choices(names, shares)[0]
        flow, stages = FLOWS[name], pipelines[name]
        company, person = _client(rng, name, companies, tendering, employees, private)
        holder = company.owner_id if company else person.owner_id
        owner = sales_people.get(holder)
        if owner is None:  # a client of Support's: a sales team takes the deal
            owner = rng.choice(sellers[rng.choice(SALES_TEAMS)])
        if name == "Tenders" and rng.random() < 0.25:
            owner = head_of_sales
        path = _journey(rng, stages, days[name], flow, _opened(rng, now), now)
        last, closed_at = path[-1][0], path[-1][1]
        deal_currency = rng.choice(others) if others and rng.random() < 0.04 else currency
        median = flow.median_amount * RATES.get(deal_currency, 1.0)
        amount = round(rng.lognormvariate(math.log(median), flow.spread), -1)
        if last.kind == Stage.Kind.OPEN and not last.required_fields and rng.random() < 0.3:
            amount = 0  # an inquiry not priced yet
        if last.kind == Stage.Kind.OPEN:
            ahead = rng.randint(-10, flow.horizon_days)
            expected = now.date() + datetime.timedelta(days=ahead)
            if not last.required_fields and rng.random() < 0.4:
                expected = None
        else:
            expected = closed_at.date() + datetime.timedelta(days=rng.randint(-14, 21))
        product = rng.choice(PRODUCTS)
        title = rng.choice(flow.titles).format(product=product, project=rng.choice(PROJECTS))
        yield {
            "title": title,
            "amount": Decimal(amount).quantize(Decimal("0.01")),
            "currency": deal_currency,
            "notes": rng.choice(NOTES) if rng.random() < 0.1 else "",
            "expected_close": expected,
            "company_id": company.pk if company else None,
            "person_id": person.pk if person else None,
            "source": rng.choices(list(flow.sources), list(flow.sources.values()))[0],
            "tags": [rng.choice(TAGS)] if rng.random() < 0.2 else [],
            "lost_reason_id": (
                reasons[rng.choices(list(flow.reasons), list(flow.reasons.values()))[0]]
                if last.kind == Stage.Kind.LOST
                else None
            ),
            "history": [(stage.pk, moment) for stage, moment in path],
            "owner_id": owner.pk,
            "department_id": owner.department_id,
        }


def _client(rng, pipeline: str, companies, tendering, employees, private):
    """(company, person) of a deal: a person works at the company; a retail buyer may be
    a private client."""
    if pipeline == "Retail" and private and (not companies or rng.random() < 0.5):
        return None, rng.choice(private)
    if not companies:
        return None, rng.choice(private)
    company = rng.choice(tendering if pipeline == "Tenders" else companies)
    staff = employees.get(company.pk)
    person = rng.choice(staff) if staff and rng.random() < 0.8 else None
    return company, person


def _date_back(first_id: int, last_id: int) -> None:
    """Each deal opened at its first move and last changed at its latest; its timeline
    rows and its creation's audit entry dated alike."""
    deals = Deal.objects.filter(pk__gte=first_id, pk__lte=last_id)
    opened = (
        StageChange.objects.filter(deal=OuterRef("pk"))
        .order_by()
        .values("deal")
        .annotate(first=Min("moved_at"))
        .values("first")
    )
    deals.update(created_at=Subquery(opened), updated_at=F("stage_entered_at"))
    created = Deal.objects.filter(pk=OuterRef("entry_id")).values("created_at")[:1]
    TimelineLink.objects.filter(
        entry_type="sales.deal", entry_id__gte=first_id, entry_id__lte=last_id
    ).update(occurred_at=Subquery(created))
    AuditEntry.objects.filter(
        object_type="sales.deal",
        action="sales.deal.created",
        object_id__gte=first_id,
        object_id__lte=last_id,
    ).update(at=Subquery(Deal.objects.filter(pk=OuterRef("object_id")).values("created_at")[:1]))


def _targets(staff: dict[str, list[User]], rng: random.Random, today: datetime.date) -> None:
    """Each sales person's and department's plan for every month and quarter of this
    year: about what they won a month over the last twelve, a little more, with ups and
    downs, so some are met and some are not."""
    currency = money.default_currency()
    year_ago = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=365), datetime.time())
    )
    people = [u for team in SALES_TEAMS for u in staff[team]] + staff["Sales"][:1]
    won = Deal.objects.filter(
        stage__kind=Stage.Kind.WON, closed_at__gte=year_ago, currency=currency
    )
    monthly: dict[int, list[tuple[Decimal, int]]] = {}
    for user in people:
        mine = list(won.filter(owner=user).values_list("amount", flat=True))
        base_amount, base_count = sum(mine, Decimal(0)) / 12, len(mine) / 12
        plans = []
        for _month in range(12):
            factor = Decimal(str(round(rng.uniform(0.9, 1.35), 2)))
            amount = (base_amount * factor / 500).quantize(Decimal("1")) * 500
            plans.append((amount, max(1, round(base_count * float(factor)))))
        monthly[user.pk] = plans
    rows = []
    for user in people:
        rows += _plan_rows(monthly[user.pk], today.year, currency, user=user)
    # A department's plan is its people's, those of the departments below included.
    teams = [(staff[team][0].department_id, staff[team]) for team in SALES_TEAMS]
    teams.append((staff["Sales"][0].department_id, people))
    for department_id, members in teams:
        summed = [
            (
                sum((monthly[u.pk][m][0] for u in members), Decimal(0)),
                sum(monthly[u.pk][m][1] for u in members),
            )
            for m in range(12)
        ]
        rows += _plan_rows(summed, today.year, currency, department_id=department_id)
    Target.objects.bulk_create(rows)


def _plan_rows(plans, year: int, currency: str, **whose) -> list[Target]:
    rows = [
        Target(
            period=Target.Period.MONTH,
            starts_on=datetime.date(year, month + 1, 1),
            amount=amount,
            currency=currency,
            won_count=count,
            **whose,
        )
        for month, (amount, count) in enumerate(plans)
    ]
    for quarter in range(4):
        three = plans[quarter * 3 : quarter * 3 + 3]
        rows.append(
            Target(
                period=Target.Period.QUARTER,
                starts_on=datetime.date(year, quarter * 3 + 1, 1),
                amount=sum((amount for amount, _count in three), Decimal(0)),
                currency=currency,
                won_count=sum(count for _amount, count in three),
                **whose,
            )
        )
    return rows
