"""What a calendar shows in a window: meetings (recurring ones expanded) and dated tasks.

One definition for the day, week and month pages, the API's /calendar and My day. Every
record is read through its type's visible door (``list_query`` / ``visible_to``) as the
reader; whose calendar it is (the reader's, a colleague's, a department's) only narrows
that further. Windows and items are bounded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from kontor.activities.models import Task
from kontor.activities.types import TASK
from kontor.core import recurrence

from .models import Meeting
from .types import MEETING

MAX_WINDOW_DAYS = 92
MAX_ITEMS = 2000
# A task due at a time of day shows as this long.
TASK_SLOT = datetime.timedelta(minutes=30)


@dataclass(frozen=True)
class Whose:
    """Whose calendar: a user's (meetings they organise or attend, tasks they are to do)
    or a department's (its records)."""

    user_id: int | None = None
    department_id: int | None = None


@dataclass
class Item:
    type: str  # "meeting" or "task"
    id: int
    title: str
    start: datetime.datetime  # aware, in the current time zone
    end: datetime.datetime
    all_day: bool
    url: str
    version: int
    occurrence: datetime.datetime | None = None  # a recurring meeting's occurrence
    place: str = ""

    @property
    def movable(self) -> bool:
        """Dragged to another day or time: a single meeting or a task, not one
        occurrence of a series."""
        return self.occurrence is None

    @property
    def day(self) -> datetime.date:
        return self.start.date()

    def days(self) -> list[datetime.date]:
        """The days it covers (an all-day meeting over several days shows on each)."""
        last = (self.end - datetime.timedelta(microseconds=1)).date() if self.all_day else self.day
        count = max((last - self.day).days, 0) + 1
        return [self.day + datetime.timedelta(days=n) for n in range(min(count, MAX_WINDOW_DAYS))]


def midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(0)))


def _meeting_items(meeting: Meeting, first, last) -> list[Item]:
    def item(start, occurrence=None):
        return Item(
            "meeting",
            meeting.pk,
            meeting.title,
            timezone.localtime(start),
            timezone.localtime(start + meeting.duration),
            meeting.all_day,
            MEETING.url_of(meeting),
            meeting.version,
            occurrence,
            meeting.place,
        )

    if not meeting.recurrence:
        return [item(meeting.start)]
    # An occurrence that began before the window but runs into it counts too.
    since = timezone.localtime(first - meeting.duration)
    start = timezone.localtime(meeting.start)
    return [
        item(moment, moment)
        for moment in recurrence.between(meeting.recurrence, start, since, last)
        if moment + meeting.duration > first
    ]


def _task_item(task: Task) -> Item:
    if task.due_time is None:
        start, all_day = midnight(task.due_date), True
        end = start + datetime.timedelta(days=1)
    else:
        start = timezone.make_aware(datetime.datetime.combine(task.due_date, task.due_time))
        end, all_day = start + TASK_SLOT, False
    return Item(
        "task",
        task.pk,
        task.title,
        timezone.localtime(start),
        timezone.localtime(end),
        all_day,
        TASK.url_of(task),
        task.version,
    )


# Calendars read meetings and tasks plain: a list's participants, checklist counts and
# linked names are not shown on them.


def meetings_of(reader, whose: Whose):
    qs = MEETING.visible(reader)
    if whose.user_id is not None:
        attended = Meeting.attendees.through.objects.filter(user_id=whose.user_id)
        # A subquery, not a join: no DISTINCT over the rows (and their JSON columns).
        qs = qs.filter(Q(owner_id=whose.user_id) | Q(pk__in=attended.values("meeting_id")))
    if whose.department_id is not None:
        qs = qs.filter(department_id=whose.department_id)
    return qs


def tasks_of(reader, whose: Whose):
    qs = TASK.visible(reader).exclude(status=Task.Status.CANCELLED).exclude(due_date=None)
    if whose.user_id is not None:
        qs = qs.filter(owner_id=whose.user_id)
    if whose.department_id is not None:
        qs = qs.filter(department_id=whose.department_id)
    return qs


def items(reader, whose: Whose, first: datetime.datetime, last: datetime.datetime) -> list[Item]:
    """Everything of ``whose`` that ``reader`` may see in [first, last), by start."""
    found = meeting_items(reader, whose, first, last)
    tasks = tasks_of(reader, whose).filter(
        due_date__gte=timezone.localtime(first).date(), due_date__lt=_end_day(last)
    )
    found += [_task_item(task) for task in tasks.order_by("due_date", "due_time", "id")[:MAX_ITEMS]]
    found.sort(key=lambda item: (not item.all_day, item.start, item.type, item.id))
    return found[:MAX_ITEMS]


def _end_day(last: datetime.datetime) -> datetime.date:
    """The first day not in a window ending at ``last`` (exclusive)."""
    local = timezone.localtime(last)
    return local.date() + datetime.timedelta(days=0 if local.time() == datetime.time(0) else 1)


def meeting_items(reader, whose: Whose, first, last) -> list[Item]:
    """The meetings of ``whose`` that ``reader`` may see in [first, last), each
    occurrence of a recurring one an item."""
    meetings = meetings_of(reader, whose).filter(start__lt=last)
    meetings = meetings.filter(Q(end__gt=first) | ~Q(recurrence=""))
    found: list[Item] = []
    for meeting in meetings.order_by("start", "id")[:MAX_ITEMS]:
        found += _meeting_items(meeting, first, last)
    return found


def meetings_today(reader) -> list[Item]:
    """The reader's meetings of today (organised or attended), occurrences included:
    My day's section."""
    today = timezone.localdate()
    first, last = midnight(today), midnight(today + datetime.timedelta(days=1))
    found = meeting_items(reader, Whose(user_id=reader.pk), first, last)
    return sorted(found, key=lambda item: (not item.all_day, item.start, item.id))
