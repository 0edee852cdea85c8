"""Clients' important dates: their birthdays, their family's, and the dates kept for them.

A standing timer (``core.timers.standing``) sweeps them once a day at
``KONTOR_DATE_REMINDER_HOUR``: each date ``KONTOR_DATE_REMINDER_DAYS`` ahead becomes a
notification for the person's owner, in the same firing (so exactly once). A sweep
reads the day its timer was due for, so a worker that was down catches up on the days
it missed (up to ``CATCH_UP_DAYS``) instead of skipping them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.contacts.models import FamilyMember, ImportantDate, Person

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


def on_day(field: str, day: datetime.date) -> Q:
    """Dates (of any year) falling on ``day``; a 29 February on the 28th of a common year."""
    condition = Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        condition |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return condition


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class DueDate:
    """One date worth a greeting: the person it is about, and whose date it is."""

    person: Person
    member: FamilyMember | None = None  # a family member's birthday
    label: str = ""  # an important date's occasion ("Wedding anniversary")

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


def dates_on(day: datetime.date, people=None, *, owners: bool = False) -> list[DueDate]:
    """The important dates falling on ``day`` of ``people`` (a queryset; every person),
    each person read for its name (and its owner, with ``owners``).

    One read finds the people with a date that day, marking which kinds; their family
    members and kept dates are read only for the people marked (most days, none).
    """
    people = Person.objects.all() if people is None else people
    members = FamilyMember.objects.filter(on_day("birthday", day))
    kept = ImportantDate.objects.filter(on_day("date", day))
    people = people.filter(
        on_day("birthday", day)
        | Q(pk__in=members.values("person_id"))
        | Q(pk__in=kept.values("person_id"))
    ).annotate(
        born_today=ExpressionWrapper(on_day("birthday", day), output_field=BooleanField()),
        members_today=Exists(members.filter(person=OuterRef("pk"))),
        kept_today=Exists(kept.filter(person=OuterRef("pk"))),
    )
    people = people.select_related("owner") if owners else people.only("pk", *Person.name_fields)
    found = list(people)
    by_pk = {person.pk: person for person in found}
    due = [DueDate(person) for person in found if person.born_today]
    if with_members := [person.pk for person in found if person.members_today]:
        due += [
            DueDate(by_pk[member.person_id], member=member)
            for member in members.filter(person_id__in=with_members)
        ]
    if with_kept := [person.pk for person in found if person.kept_today]:
        due += [
            DueDate(by_pk[date.person_id], label=date.label)
            for date in kept.filter(person_id__in=with_kept)
        ]
    return due


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
