"""iCalendar: a meeting as an .ics file, and each user's private, revocable feed.

Built with ``icalendar``. Times are written in the company's time zone (``TIME_ZONE``)
with its VTIMEZONE, so a weekly 09:00 meeting stays at 09:00 across a change to summer
time in every client; a recurring meeting carries its RRULE unchanged. UIDs are stable
per record ("meeting-12@host"); DTSTAMP and LAST-MODIFIED are the record's last change.

The feed's URL holds a random secret; only its SHA-256 is stored, so the URL is shown
once, when made. A reset replaces it: the old URL answers 404 at once.
"""

from __future__ import annotations

import datetime
import secrets
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vRecur

from kontor.accounts.models import hash_token

from .items import Whose, meetings_of, tasks_of
from .models import CalendarFeed, Meeting

CONTENT_TYPE = "text/calendar; charset=utf-8"
# How far back a feed reaches (recurring meetings whatever their start), and how much.
FEED_PAST_DAYS = 365
FEED_LIMIT = 2000
# The VTIMEZONE lists the zone's changes over these years from the first event.
ZONE_YEARS = 5
TASK_SLOT = datetime.timedelta(minutes=30)


# -- the secret ----------------------------------------------------------------------------


def reset(user) -> str:
    """A new secret for ``user``'s feed (the old one stops working); returns it."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": hash_token(token), "created_at": timezone.now()}
    )
    return token


def revoke(user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def feed_of(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def user_for(token: str):
    """The active user whose feed ``token`` opens, or None."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=hash_token(token), user__is_active=True)
        .first()
    )
    return feed.user if feed is not None else None


def url_of(token: str) -> str:
    return reverse("calendar:ical_feed", args=[token])


# -- the files -----------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _host() -> str:
    return urlsplit(settings.KONTOR_PUBLIC_URL).hostname or "kontor"


def _link(path: str) -> str:
    return settings.KONTOR_PUBLIC_URL.rstrip("/") + path


def _calendar(name: str, first: datetime.date) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Kontor//Calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    last = max(first, timezone.localdate()) + datetime.timedelta(days=366 * ZONE_YEARS)
    calendar.add_component(Timezone.from_tzid(settings.TIME_ZONE, first_date=first, last_date=last))
    return calendar


def _stamped(event: Event, obj) -> None:
    event.add("dtstamp", obj.updated_at.astimezone(datetime.UTC))
    event.add("last-modified", obj.updated_at.astimezone(datetime.UTC))
    event.add("created", obj.created_at.astimezone(datetime.UTC))
    event.add("sequence", obj.version - 1)


def meeting_event(meeting: Meeting) -> Event:
    from .types import MEETING

    event = Event()
    event.add("uid", f"meeting-{meeting.pk}@{_host()}")
    event.add("summary", meeting.title)
    zone = _zone()
    if meeting.all_day:
        event.add("dtstart", meeting.start.astimezone(zone).date())
        event.add("dtend", meeting.end.astimezone(zone).date())
    else:
        event.add("dtstart", meeting.start.astimezone(zone))
        event.add("dtend", meeting.end.astimezone(zone))
    if meeting.recurrence:
        event.add("rrule", vRecur.from_ical(meeting.recurrence))
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.description:
        event.add("description", meeting.description)
    event.add("url", _link(MEETING.url_of(meeting)))
    _stamped(event, meeting)
    return event


def task_event(task) -> Event:
    from kontor.activities.types import TASK

    event = Event()
    event.add("uid", f"task-{task.pk}@{_host()}")
    event.add("summary", task.title)
    if task.due_time is None:
        event.add("dtstart", task.due_date)
        event.add("dtend", task.due_date + datetime.timedelta(days=1))
    else:
        start = datetime.datetime.combine(task.due_date, task.due_time, tzinfo=_zone())
        event.add("dtstart", start)
        event.add("dtend", start + TASK_SLOT)
    if task.description:
        event.add("description", task.description)
    event.add("url", _link(TASK.url_of(task)))
    _stamped(event, task)
    return event


def meeting_file(meeting: Meeting) -> bytes:
    calendar = _calendar(meeting.title, timezone.localtime(meeting.start).date())
    calendar.add_component(meeting_event(meeting))
    return calendar.to_ical()


def user_feed(user) -> bytes:
    """What ``user`` may see of their own calendar: meetings they organise or attend,
    their dated tasks (cancelled ones left out), from a year back."""
    since = timezone.now() - datetime.timedelta(days=FEED_PAST_DAYS)
    whose = Whose(user_id=user.pk)
    meetings = meetings_of(user, whose).filter(Q(end__gte=since) | ~Q(recurrence=""))
    meetings = list(meetings.order_by("start", "id")[:FEED_LIMIT])
    tasks = tasks_of(user, whose).filter(due_date__gte=since.date())
    tasks = list(tasks.order_by("due_date", "id")[:FEED_LIMIT])
    starts = [timezone.localtime(m.start).date() for m in meetings]
    starts += [t.due_date for t in tasks]
    calendar = _calendar(f"Kontor: {user}", min(starts, default=timezone.localdate()))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting))
    for task in tasks:
        calendar.add_component(task_event(task))
    return calendar.to_ical()
