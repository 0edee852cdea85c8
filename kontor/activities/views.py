"""My day, the notifications page, opening a notification, completing a task."""

from __future__ import annotations

import datetime
import heapq
import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.calendar.items import meetings_today
from kontor.contacts.types import PERSON
from kontor.core.errors import Conflict, NotFound, ValidationFailed
from kontor.core.inputs import as_db_id
from kontor.web.records import safe_back

from . import dates, notifications, services
from .entry_types import CALL
from .models import Call, Task
from .types import TASK, overdue_q

PAGE_SIZE = 50


@login_required
def notification_list(request):
    page = Paginator(notifications.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "activities/notifications.html", {"page": page})


@login_required
def open_notification(request, pk: int):
    """Mark it read and go to its record (or back to the list if the record is gone)."""
    notification = get_object_or_404(notifications.inbox(request.user), pk=pk)
    notifications.mark_read(request.user, [notification.pk])
    return redirect(
        notifications.target_url(notification, request.user) or "activities:notifications"
    )


@require_POST
@login_required
def mark_all_read(request):
    notifications.mark_read(request.user)
    return redirect("activities:notifications")


# Rows per section: a phone's screenful of what is most urgent; the rest is one link away.
MY_DAY_LIMIT = 25


@login_required
def my_day(request):
    """The page an employee opens each morning: their overdue tasks and today's, today's
    meetings, the calls they planned for today or before, their clients' birthdays and
    dates today."""
    # Read plain (a list's checklist counts and linked names are not shown here).
    mine = TASK.visible(request.user).filter(owner_id=request.user.pk)
    today = timezone.localdate()
    end_of_today = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time())
    )
    calls = CALL.visible(request.user).filter(
        owner_id=request.user.pk, outcome=Call.Outcome.PLANNED, started_at__lt=end_of_today
    )
    return render(
        request,
        "activities/my_day.html",
        {
            **_task_sections(mine, today),
            "meetings": meetings_today(request.user)[:MY_DAY_LIMIT],
            "calls": calls.order_by("started_at", "id")[:MY_DAY_LIMIT],
            "dates": dates.dates_on(today, PERSON.visible(request.user), owner=request.user)[
                :MY_DAY_LIMIT
            ],
            "now": timezone.now(),
        },
    )


DUE_ORDER = ("due_date", "due_time", "id")


def _due_key(task) -> tuple:
    """``DUE_ORDER`` in Python: a task without a time sorts where its database puts NULL
    (after every time on PostgreSQL, before on SQLite)."""
    untimed_last = connection.features.nulls_order_largest
    timed = task.due_time is not None
    return (task.due_date, timed != untimed_last, task.due_time or datetime.time.min, task.pk)


def _first_rows(mine, condition: Q, *, one_day: bool) -> list:
    """Up to one more than a section shows of the owner's tasks to do, in due order.

    Overdue tasks are read one status at a time and merged: each read walks the owner's
    index in due order and stops at the section's end, where one read of both statuses
    would sort every overdue task first. A single day's (``one_day``) are few: one read.
    """
    if one_day:
        reads = [mine.filter(condition, status__in=Task.ACTIVE)]
    else:
        reads = [mine.filter(condition, status=active) for active in Task.ACTIVE]
    rows = heapq.merge(
        *(read.order_by(*DUE_ORDER)[: MY_DAY_LIMIT + 1] for read in reads), key=_due_key
    )
    return list(itertools.islice(rows, MY_DAY_LIMIT + 1))


def _task_sections(mine, today: datetime.date) -> dict:
    """My day's lists of overdue tasks and today's: each one's first rows, and how many
    there are (counted, both in one read, only when a list is cut)."""
    conditions = {"overdue": overdue_q(), "today": Q(due_date=today) & ~overdue_q()}
    rows = {
        name: _first_rows(mine, condition, one_day=name == "today")
        for name, condition in conditions.items()
    }
    counts = {name: len(found) for name, found in rows.items()}
    if any(len(found) > MY_DAY_LIMIT for found in rows.values()):
        counts = mine.filter(status__in=Task.ACTIVE, due_date__lte=today).aggregate(
            **{name: Count("pk", filter=condition) for name, condition in conditions.items()}
        )
    list_status = {"overdue": "overdue", "today": "active"}
    return {
        name: {
            "rows": found[:MY_DAY_LIMIT],
            "count": counts[name],
            "more_url": f"{TASK.url('list')}?status={list_status[name]}&mine=true"
            if len(found) > MY_DAY_LIMIT
            else "",
        }
        for name, found in rows.items()
    }


@require_POST
@login_required
def complete_task(request, pk: int):
    """One click: the task done (optimistic lock: the version the page showed)."""
    try:
        task = TASK.one(request.user, pk)
        services.set_status(
            task,
            Task.Status.DONE,
            actor=request.user,
            expected_version=as_db_id(request.POST.get("version", "")),
        )
    except Conflict as conflict:
        messages.error(request, str(conflict))
    except ValidationFailed as failed:  # it waits on a task still to do
        for message in [m for msgs in failed.errors.values() for m in msgs]:
            messages.error(request, message)
    except NotFound:
        raise Http404 from None
    else:
        messages.success(request, _("Done: %(task)s") % {"task": task.title})
    return redirect(safe_back(request, request.POST.get("next", "")) or "activities:my_day")
