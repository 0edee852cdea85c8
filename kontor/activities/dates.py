"""Clients' important dates: their birthdays, their family's, and the dates kept for them.

A standing timer (``core.timers.standing``) sweeps them once a day at
``KONTOR_DATE_REMINDER_HOUR``: each date ``KONTOR_DATE_REMINDER_DAYS`` ahead becomes a
notification for the person's owner, in the same firing (so exactly once). A sweep
reads the day its timer was due for, so a worker that was down catches up on the days
it missed (up to ``CATCH_UP_DAYS``) instead of skipping them.
"""

from __future__ import annotations

import datetime
import functools
import operator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.lookups import Range
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.contacts.models import FamilyMember, ImportantDate, MonthDay, Person

from . import notifications

DATES_TIMER = "activities.important_dates"
DATE_REMINDER = "date.reminder"
CATCH_UP_DAYS = 7


def next_sweep(after: datetime.datetime | None = None) -> datetime.datetime:
    """The first sweep moment (the reminder hour, local time) after ``after`` (now)."""
    after = timezone.localtime(after or timezone.now())
    today = _sweep_of(after.date())
    return today if today > after else _sweep_of(after.date() + datetime.timedelta(days=1))


def _sweep_of(day: datetime.date) -> datetime.datetime:
    hour = datetime.time(settings.KONTOR_DATE_REMINDER_HOUR)
    return timezone.make_aware(datetime.datetime.combine(day, hour))


def _day_ranges(first: datetime.date, last: datetime.date) -> list[tuple[int, int]]:
    """The days from ``first`` to ``last`` (less than a year apart) as ranges of
    ``MonthDay`` numbers: two where they cross the year's end. A 29 February falls on the
    28th of a common year."""
    ends = [(first, last)]
    if (last.month, last.day) < (first.month, first.day) or last.year > first.year:
        ends = [(first, datetime.date(first.year, 12, 31)), (datetime.date(last.year, 1, 1), last)]
    ranges = []
    for start, end in ends:
        high = end.month * 100 + end.day
        if (end.month, end.day) == (2, 28) and not _is_leap(end.year):
            high = 229
        ranges.append((start.month * 100 + start.day, high))
    return ranges


def _in_days(field: str, ranges: list[tuple[int, int]]) -> list[Q]:
    """A condition per range of days (``_day_ranges``) on the date ``field`` of any year."""
    return [Q(Range(MonthDay(field), bounds)) for bounds in ranges]


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _falls_on(date: datetime.date, first: datetime.date) -> datetime.date:
    """The first day on or after ``first`` that ``date`` comes round again."""
    day = _in_year(date, first.year)
    return day if day >= first else _in_year(date, first.year + 1)


def _in_year(date: datetime.date, year: int) -> datetime.date:
    if (date.month, date.day) == (2, 29) and not _is_leap(year):
        return datetime.date(year, 2, 28)
    return date.replace(year=year)


@dataclass(frozen=True)
class DueDate:
    """One date worth a greeting: the person it is about, and whose date it is."""

    person: Person
    member: FamilyMember | None = None  # a family member's birthday
    label: str = ""  # an important date's occasion ("Wedding anniversary")
    day: datetime.date | None = None  # the day it falls on

    def describe(self) -> str:
        """What it is, in the active language."""
        if self.member is not None:
            return _("Birthday of %(name)s (%(relation)s of %(person)s)") % {
                "name": self.member.name,
                "relation": self.member.relation,
                "person": self.person,
            }
        if self.label:
            return f"{self.label}: {self.person}"
        return _("Birthday of %(person)s") % {"person": self.person}


def dates_between(
    first: datetime.date, last: datetime.date, people=None, *, owner=None, owners: bool = False
) -> list[DueDate]:
    """The important dates from ``first`` to ``last`` (both included, less than a year
    apart) of ``people`` (a queryset; every person), of those ``owner`` owns if given,
    by day; each person read for its name (and its owner, with ``owners``).

    One read finds the people with a date in those days, marking which kinds: each kind
    and range of days a term of its own (with the owner), so the database reads each
    through an index (``contacts.models.MonthDay``); their family members and kept dates
    are read only for the people marked (most days, none).
    """
    ranges = _day_ranges(first, last)
    members = FamilyMember.objects.filter(
        functools.reduce(operator.or_, _in_days("birthday", ranges))
    )
    kept = ImportantDate.objects.filter(functools.reduce(operator.or_, _in_days("date", ranges)))
    born = _in_days("birthday", ranges)
    mine = Q(owner_id=owner.pk) if owner is not None else Q()
    terms = [*born, Q(pk__in=members.values("person_id")), Q(pk__in=kept.values("person_id"))]
    people = Person.objects.all() if people is None else people
    people = people.filter(functools.reduce(operator.or_, [mine & term for term in terms]))
    people = people.annotate(
        born_then=ExpressionWrapper(
            functools.reduce(operator.or_, born), output_field=BooleanField()
        ),
        members_then=Exists(members.filter(person=OuterRef("pk"))),
        kept_then=Exists(kept.filter(person=OuterRef("pk"))),
    )
    people = (
        people.select_related("owner")
        if owners
        else people.only("pk", "birthday", *Person.name_fields)
    )
    found = list(people)
    by_pk = {person.pk: person for person in found}
    order = {person.pk: position for position, person in enumerate(found)}
    due = [
        DueDate(person, day=_falls_on(person.birthday, first))
        for person in found
        if person.born_then
    ]
    if with_members := [person.pk for person in found if person.members_then]:
        due += [
            DueDate(by_pk[member.person_id], member=member, day=_falls_on(member.birthday, first))
            for member in members.filter(person_id__in=with_members)
        ]
    if with_kept := [person.pk for person in found if person.kept_then]:
        due += [
            DueDate(by_pk[date.person_id], label=date.label, day=_falls_on(date.date, first))
            for date in kept.filter(person_id__in=with_kept)
        ]
    # By day; within a day the people's own birthdays, their family's, the kept dates,
    # each in the people's order.
    return sorted(
        due,
        key=lambda d: (d.day, 2 if d.label else 1 if d.member else 0, order[d.person.pk]),
    )


def dates_on(day: datetime.date, people=None, *, owner=None, owners: bool = False) -> list[DueDate]:
    """The important dates falling on ``day`` (``dates_between`` of one day)."""
    return dates_between(day, day, people, owner=owner, owners=owners)


def remind_of_dates(timer) -> datetime.datetime:
    """The daily sweep: a notification per date coming up, for the person's owner."""
    swept_for = timezone.localtime(timer.due_at)
    if swept_for < timezone.now() - datetime.timedelta(days=CATCH_UP_DAYS):
        return next_sweep()
    days = settings.KONTOR_DATE_REMINDER_DAYS
    day = swept_for.date() + datetime.timedelta(days=days)
    for due in dates_on(day, owners=True):
        owner = due.person.owner
        if owner is None:
            continue
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            title = ngettext(
                "In %(days)d day, %(date)s: %(what)s",
                "In %(days)d days, %(date)s: %(what)s",
                days,
            ) % {
                "days": days,
                "date": formats.date_format(day, "MONTH_DAY_FORMAT"),
                "what": due.describe(),
            }
        notifications.notify(owner, DATE_REMINDER, title, about=due.person)
    # One sweep per day: the next is the following day's, whenever this one ran.
    return _sweep_of(swept_for.date() + datetime.timedelta(days=1))
