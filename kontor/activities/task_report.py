"""The tasks report: tasks by status, and tasks to do by assignee, as charts.

Counted over the tasks the reader may see (``TASK.visible``, the list's own door), so
each figure equals the count of the tasks list it links to.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kontor.web.charts import Chart, Kind, Series, csv_download

from .models import Task
from .types import TASK

ASSIGNEES_SHOWN = 10


def _list_url(**filters) -> str:
    return f"{TASK.url('list')}?{urlencode(filters)}"


def by_status(user) -> Chart:
    counts = dict(TASK.visible(user).order_by().values_list("status").annotate(count=Count("id")))
    statuses = Task.Status
    return Chart(
        slug="tasks-by-status",
        title=_("Tasks by status"),
        kind=Kind.BAR,
        labels=[str(label).capitalize() for label in statuses.labels],
        series=[
            Series(
                _("Tasks"),
                [counts.get(status, 0) for status in statuses.values],
                [_list_url(status=status) for status in statuses.values],
            )
        ],
        label_header=_("Status"),
    )


def to_do_by_assignee(user) -> Chart:
    """The assignees with the most tasks to do, open and in progress stacked."""
    rows = (
        TASK.visible(user)
        .filter(status__in=Task.ACTIVE, owner__isnull=False)
        .order_by()
        .values_list("owner_id", "status")
        .annotate(count=Count("id"))
    )
    counts: dict[int, dict[str, int]] = {}
    for owner_id, status, count in rows:
        counts.setdefault(owner_id, {})[status] = count
    names = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=counts)}
    owners = sorted(counts, key=lambda pk: (-sum(counts[pk].values()), names[pk], pk))
    owners = owners[:ASSIGNEES_SHOWN]
    return Chart(
        slug="tasks-to-do-by-assignee",
        title=_("Tasks to do by assignee (the %(count)d with most)") % {"count": ASSIGNEES_SHOWN},
        kind=Kind.STACKED_BAR,
        labels=[names[pk] for pk in owners],
        series=[
            Series(
                str(Task.Status(status).label).capitalize(),
                [counts[pk].get(status, 0) for pk in owners],
                [_list_url(owner_id=pk, status=status) for pk in owners],
            )
            for status in Task.ACTIVE
        ],
        label_header=_("Assignee"),
    )


@login_required
def task_report(request):
    charts = [by_status(request.user), to_do_by_assignee(request.user)]
    return csv_download(request, charts) or render(
        request, "activities/task_report.html", {"charts": charts}
    )
