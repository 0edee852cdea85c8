"""The kanban board of a pipeline: its open stages as columns of deal cards.

A column says how many deals it holds and what they are worth, raw and weighted by the
stage's win probability, per currency (amounts in different currencies are never
added). Its cards come a page at a time, newest in the stage first, along the index
(stage, -stage_entered_at, -id), so a stage of thousands of deals costs one page. Won and
lost are no columns but drop zones: the board is about what is still to win.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kontor.activities.models import Task
from kontor.core.inputs import as_db_id
from kontor.core.models import TimelineLink
from kontor.core.types import mark_links_in_scope, select_names

from .models import Deal, Pipeline, Stage
from .types import DEAL

CARDS_PER_PAGE = 20
PERIODS = ("overdue", "this_month", "next_month", "this_quarter")


@dataclass(frozen=True)
class BoardFilters:
    owner_id: int | None = None
    department_id: int | None = None
    tag: str = ""
    period: str = ""  # expected close: one of PERIODS

    @classmethod
    def from_query(cls, query) -> BoardFilters:
        period = query.get("period", "")
        return cls(
            owner_id=as_db_id(query.get("owner", "")),
            department_id=as_db_id(query.get("department", "")),
            tag=query.get("tag", "").strip(),
            period=period if period in PERIODS else "",
        )

    def as_query(self) -> dict[str, str]:
        found = {
            "owner": self.owner_id,
            "department": self.department_id,
            "tag": self.tag,
            "period": self.period,
        }
        return {key: str(value) for key, value in found.items() if value}


@dataclass
class Total:
    currency: str
    amount: Decimal
    weighted: Decimal


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: list[Total] = field(default_factory=list)


@dataclass
class Card:
    deal: Deal
    days_in_stage: int
    rotting: bool
    next_task: Task | None


def _period_q(period: str) -> Q:
    today = timezone.localdate()
    month = today.replace(day=1)
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    if period == "overdue":
        return Q(expected_close__lt=today)
    if period == "this_month":
        return Q(expected_close__gte=month, expected_close__lt=next_month)
    if period == "next_month":
        after = (next_month + datetime.timedelta(days=32)).replace(day=1)
        return Q(expected_close__gte=next_month, expected_close__lt=after)
    quarter = month.replace(month=3 * ((month.month - 1) // 3) + 1)
    end = (quarter + datetime.timedelta(days=95)).replace(day=1)
    return Q(expected_close__gte=quarter, expected_close__lt=end)


def open_deals(user, pipeline: Pipeline, filters: BoardFilters, qs=None):
    """The open deals of ``pipeline`` that ``user`` may see (of ``qs``, a read of them),
    filtered as the board is."""
    qs = (DEAL.visible(user) if qs is None else qs).filter(
        pipeline=pipeline, closed_at__isnull=True
    )
    return _narrowed(qs, filters)


def _narrowed(qs, filters: BoardFilters):
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.department_id is not None:
        qs = qs.filter(department_id=filters.department_id)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.period:
        qs = qs.filter(_period_q(filters.period))
    return qs


def columns(user, pipeline: Pipeline, filters: BoardFilters) -> list[Column]:
    """Each open stage of ``pipeline`` with its count and totals (one grouped read)."""
    stages = [s for s in pipeline.stages.all() if s.kind == Stage.Kind.OPEN]
    by_stage = {s.pk: Column(s) for s in stages}
    grouped = (
        open_deals(user, pipeline, filters)
        .order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by("stage_id", "currency")
    )
    for row in grouped:
        column = by_stage.get(row["stage_id"])
        if column is None:
            continue
        amount = row["amount"] or Decimal("0")
        column.count += row["n"]
        weighted = (amount * column.stage.probability / 100).quantize(Decimal("0.01"))
        column.totals.append(Total(row["currency"], amount, weighted))
    return list(by_stage.values())


def cards(user, stage: Stage, filters: BoardFilters, after: str = "") -> tuple[list[Card], str]:
    """A page of ``stage``'s cards, newest in the stage first, and the next page's cursor
    ("" at the end)."""
    # The stage alone, not its pipeline too: PostgreSQL took the two for independent
    # conditions, expected a few rows, and sorted the whole column instead of walking
    # the stage's index to the page's end (a stage is in one pipeline, its deals too).
    qs = _narrowed(DEAL.visible(user).filter(stage=stage, closed_at__isnull=True), filters)
    # Read as every channel reads deals, names of the links, each marked visible or not
    # from its placement read with it: EXISTS per link made PostgreSQL hash every
    # company and person the reader may see, on each page.
    links = [name for name, _target in DEAL.links()]
    qs = select_names(qs, "owner", "department", *links).order_by("-stage_entered_at", "-id")
    moment, _sep, pk = after.partition("|")
    at, last = parse_datetime(moment) if moment else None, as_db_id(pk)
    if at is not None and last is not None:
        qs = qs.filter(Q(stage_entered_at__lt=at) | Q(stage_entered_at=at, pk__lt=last))
    deals = list(qs[: CARDS_PER_PAGE + 1])
    more = len(deals) > CARDS_PER_PAGE
    deals = deals[:CARDS_PER_PAGE]
    mark_links_in_scope(user, deals, links)
    found = _cards(user, stage, deals)
    cursor = ""
    if more:
        tail = deals[-1]
        cursor = f"{tail.stage_entered_at.isoformat()}|{tail.pk}"
    return found, cursor


def _cards(user, stage: Stage, deals: list[Deal]) -> list[Card]:
    """Cards with their days in stage, rotting mark and next task (two reads a page: the
    deals' timeline rows, then their open tasks)."""
    ids = [deal.pk for deal in deals]
    links = TimelineLink.objects.filter(subject_type=DEAL.object_type, subject_id__in=ids)
    last_activity: dict[int, datetime.datetime] = {}
    deal_of_task, task_of = {}, {}
    for deal_id, entry_type, entry_id, at in links.values_list(
        "subject_id", "entry_type", "entry_id", "occurred_at"
    ):
        last_activity[deal_id] = max(at, last_activity.get(deal_id, at))
        if entry_type == "activities.task":
            deal_of_task[entry_id] = deal_id
    if deal_of_task:
        open_tasks = (
            Task.objects.visible_to(user)
            .filter(pk__in=deal_of_task, status__in=Task.ACTIVE)
            .order_by("due_date", "due_time", "id")
        )
        for task in open_tasks:
            task_of.setdefault(deal_of_task[task.pk], task)
    now = timezone.now()
    found = []
    for deal in deals:
        active = max(filter(None, (deal.stage_entered_at, last_activity.get(deal.pk))))
        rotting = stage.rotting_days is not None and now - active > datetime.timedelta(
            days=stage.rotting_days
        )
        found.append(Card(deal, (now - deal.stage_entered_at).days, rotting, task_of.get(deal.pk)))
    return found
