"""The calendar's pages: day, week and month views, rescheduling by drag and drop, a
meeting's .ics, and the private iCalendar feed with its settings page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.accounts.models import Department
from kontor.accounts.views import settings_page
from kontor.activities import services as task_services
from kontor.activities.types import TASK
from kontor.core import modules
from kontor.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id

from . import feeds, services
from .items import Item, Whose, items, midnight
from .types import MEETING

VIEWS = ("day", "week", "month")
ONE_DAY = datetime.timedelta(days=1)


@dataclass
class Day:
    date: datetime.date
    all_day: list[Item] = field(default_factory=list)
    by_hour: dict[int, list[Item]] = field(default_factory=dict)
    in_month: bool = True

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()

    def hours(self):
        return [(hour, self.by_hour.get(hour, [])) for hour in range(24)]

    @property
    def items(self) -> list[Item]:
        return self.all_day + [item for hour in sorted(self.by_hour) for item in self.by_hour[hour]]


def window(view: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day shown and the first not shown; a week starts on Monday, a month
    shows its whole weeks."""
    if view == "day":
        return day, day + ONE_DAY
    if view == "week":
        monday = day - datetime.timedelta(days=day.weekday())
        return monday, monday + 7 * ONE_DAY
    first = day.replace(day=1)
    following = (first + 32 * ONE_DAY).replace(day=1)
    start = first - datetime.timedelta(days=first.weekday())
    end = following + datetime.timedelta(days=(7 - following.weekday()) % 7)
    return start, end


def step(view: str, day: datetime.date, direction: int) -> datetime.date:
    if view == "day":
        return day + direction * ONE_DAY
    if view == "week":
        return day + direction * 7 * ONE_DAY
    month = day.month - 1 + direction
    return datetime.date(day.year + month // 12, month % 12 + 1, 1)


def whose_from(request) -> Whose:
    """Whose calendar the request asks for: a colleague's (``user``), a department's
    (``department``), else the reader's own. An id that names nothing is a 404."""
    user_id = as_db_id(request.GET.get("user", ""))
    department_id = as_db_id(request.GET.get("department", ""))
    if request.GET.get("department"):
        if department_id is None or not Department.objects.filter(pk=department_id).exists():
            raise Http404()
        return Whose(department_id=department_id)
    if request.GET.get("user"):
        if user_id is None or not get_user_model().objects.filter(pk=user_id).exists():
            raise Http404()
        return Whose(user_id=user_id)
    return Whose(user_id=request.user.pk)


@login_required
def calendar(request):
    view = request.GET.get("view", "week")
    if view not in VIEWS:
        view = "week"
    day = parse_date(request.GET.get("date", "") or "") or timezone.localdate()
    whose = whose_from(request)
    first, last = window(view, day)
    days = {first + n * ONE_DAY: Day(first + n * ONE_DAY) for n in range((last - first).days)}
    for item in items(request.user, whose, midnight(first), midnight(last)):
        for covered in item.days():
            if covered not in days:
                continue
            if item.all_day:
                days[covered].all_day.append(item)
            else:
                days[covered].by_hour.setdefault(item.start.hour, []).append(item)
    for entry in days.values():
        entry.in_month = view != "month" or entry.date.month == day.month
    weeks = [list(days.values())[n : n + 7] for n in range(0, len(days), 7)]
    query = {"view": view}
    if whose.department_id:
        query["department"] = whose.department_id
    elif whose.user_id != request.user.pk:
        query["user"] = whose.user_id
    context = {
        "view": view,
        "day": day,
        "days": list(days.values()),
        "weeks": weeks,
        "hours": range(24),
        "whose": whose,
        "query": query,
        "prev": step(view, day, -1),
        "next": step(view, day, 1),
        "today": timezone.localdate(),
        "colleagues": get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "email"),
        "departments": Department.objects.order_by("path"),
    }
    return render(request, "calendar/calendar.html", context)


def _json_error(message: str, status: int, errors=None) -> JsonResponse:
    return JsonResponse({"detail": str(message), "errors": errors or {}}, status=status)


@require_POST
@login_required
def move(request, kind: str, pk: int):
    """Reschedule a meeting or a dated task to ``date`` (and ``time``, if given; else its
    time of day stays), with the version the page showed. A meeting keeps its length."""
    day = parse_date(request.POST.get("date", "") or "")
    time_text = request.POST.get("time", "")
    time = parse_time(time_text) if time_text else None
    version = as_db_id(request.POST.get("version", ""))
    if day is None or (time_text and time is None) or version is None:
        return _json_error(_("Choose a day and time."), 422)
    try:
        if kind == "meeting":
            meeting = MEETING.one(request.user, pk)
            keep = timezone.localtime(meeting.start).time()
            start = timezone.make_aware(datetime.datetime.combine(day, time or keep))
            obj = services.move_meeting(
                meeting, start, actor=request.user, expected_version=version
            )
        elif kind == "task":
            task = TASK.one(request.user, pk)
            data = {"due_date": day}
            if time is not None:
                data["due_time"] = time
            obj = task_services.update_task(
                task, data, actor=request.user, expected_version=version
            )
        else:
            raise Http404()
    except NotFound:
        raise Http404() from None
    except Conflict as exc:
        return _json_error(exc.message, 409)
    except PermissionDenied as exc:
        return _json_error(exc.message, 403)
    except ValidationFailed as exc:
        return _json_error(exc.message, 422, exc.errors)
    return JsonResponse({"version": obj.version})


@login_required
def meeting_ics(request, pk: int):
    """One meeting as an .ics file, for whoever may see it (404 otherwise)."""
    try:
        meeting = MEETING.one(request.user, pk)
    except NotFound:
        raise Http404() from None
    response = HttpResponse(feeds.meeting_file(meeting), content_type=feeds.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


def feed(request, token: str):
    """The private feed: no session, the secret in the URL names the user. An unknown or
    reset secret is a 404, as is a deactivated user's."""
    user = feeds.user_for(token)
    # The middleware saw no session, so only the company's switch: the feed's owner's
    # department may have the calendar off.
    if user is None or not modules.page_enabled(user, request.resolver_match.view_name):
        raise Http404()
    response = HttpResponse(feeds.user_feed(user), content_type=feeds.CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def feed_settings(request):
    """The feed's page: "Create" or "Reset" makes a new secret (the old URL stops at
    once) and shows the URL this once; it is never stored."""
    new_url = None
    if request.method == "POST":
        token = feeds.reset(request.user)
        new_url = request.build_absolute_uri(feeds.url_of(token))
    context = {"feed": feeds.feed_of(request.user), "new_url": new_url}
    response = settings_page(request, "calendar/feed.html", context)
    if new_url:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def feed_revoke(request):
    feeds.revoke(request.user)
    return redirect("calendar:feed_settings")
