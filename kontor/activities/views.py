"""My day, the notifications page, opening a notification, completing a task."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
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
    mine = TASK.list_query(request.user).filter(owner_id=request.user.pk, status__in=Task.ACTIVE)
    overdue = mine.filter(overdue_q())
    today = mine.filter(due_date=timezone.localdate()).exclude(overdue_q())
    due_order = ("due_date", "due_time", "id")
    end_of_today = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time()
        )
    )
    calls = CALL.list_query(request.user).filter(
        owner_id=request.user.pk, outcome=Call.Outcome.PLANNED, started_at__lt=end_of_today
    )
    my_people = PERSON.visible(request.user).filter(owner_id=request.user.pk)
    return render(
        request,
        "activities/my_day.html",
        {
            "overdue": _section(overdue.order_by(*due_order), "overdue"),
            "today": _section(today.order_by(*due_order), "active"),
            "meetings": meetings_today(request.user)[:MY_DAY_LIMIT],
            "calls": calls.order_by("started_at", "id")[:MY_DAY_LIMIT],
            "dates": dates.dates_on(timezone.localdate(), my_people)[:MY_DAY_LIMIT],
            "now": timezone.now(),
        },
    )


def _section(tasks, status: str) -> dict:
    """A My day list of tasks: its first rows, and how many there are when it is cut."""
    rows = list(tasks[: MY_DAY_LIMIT + 1])
    return {
        "rows": rows[:MY_DAY_LIMIT],
        "count": tasks.count() if len(rows) > MY_DAY_LIMIT else len(rows),
        "more_url": f"{TASK.url('list')}?status={status}&mine=true"
        if len(rows) > MY_DAY_LIMIT
        else "",
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
