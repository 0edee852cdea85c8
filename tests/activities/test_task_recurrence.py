"""Repeating tasks: an RRULE on the task; at its due moment a timer makes the next copy,
which carries the rule on until UNTIL or COUNT ends it. The clock is fixed by the due
moments themselves: each test sets them around now and fires due timers at once."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from kontor.activities import reminders, services
from kontor.activities.models import Task
from kontor.core import timers
from kontor.core.errors import ValidationFailed
from kontor.core.models import Timer

from ..utils.clients import Api

pytestmark = pytest.mark.django_db


def recurrence_timer(task):
    return Timer.objects.filter(
        kind=reminders.TASK_RECURRENCE, object_type="activities.task", object_id=task.pk
    ).first()


def due(moment):
    local = timezone.localtime(moment)
    return {"due_date": local.date(), "due_time": local.time().replace(microsecond=0)}


def newest(title):
    return Task.objects.filter(title=title).order_by("-pk").first()


def test_at_its_due_moment_the_next_copy_is_made_and_carries_the_rule_on(org):
    moment = timezone.now() - timedelta(hours=1)
    task = services.create_task(
        {
            "title": "Daily stand-up",
            "repeat": "rrule:freq=daily",
            "priority": 3,
            "owner_id": org.member_a.pk,
            "department_id": org.dept.team1.pk,
            "remind_at": moment - timedelta(minutes=10),
            **due(moment),
        },
        actor=org.sales_head,
    )
    assert task.repeat == "FREQ=DAILY" and recurrence_timer(task).due_at == task.due_moment()
    services.add_checklist_item(task, "Yesterday", actor=org.member_a)
    item = services.add_checklist_item(task, "Today", actor=org.member_a)
    services.change_checklist_item(item, {"done": True}, actor=org.member_a)
    services.watch(task, org.member_b.pk, actor=org.member_b)

    timers.fire_due()
    copy = newest("Daily stand-up")
    assert copy.pk != task.pk
    assert copy.due_moment() == task.due_moment() + timedelta(days=1)
    assert (copy.priority, copy.owner, copy.created_by, copy.status) == (
        3,
        org.member_a,
        org.sales_head,
        "open",
    )
    assert copy.remind_at == task.remind_at + timedelta(days=1)
    assert [(i.text, i.done) for i in copy.checklist.all()] == [
        ("Yesterday", False),
        ("Today", False),
    ]
    assert list(copy.watchers.all()) == [org.member_b]
    assert copy.repeat == "FREQ=DAILY" and copy.repeat_start == task.repeat_start
    assert recurrence_timer(copy).due_at == copy.due_moment()
    task.refresh_from_db()
    assert task.repeat == "" and task.status == "open"  # the old one stays to do
    # Nothing more is due: the copy's moment is tomorrow.
    assert timers.fire_due() == 0 and Task.objects.filter(title="Daily stand-up").count() == 2


def test_count_ends_the_series_across_copies(org):
    moment = timezone.now() - timedelta(hours=1)
    task = services.create_task(
        {"title": "Twice", "repeat": "FREQ=DAILY;COUNT=2", **due(moment)}, actor=org.member_a
    )
    timers.fire_due()
    copy = newest("Twice")
    assert copy.pk != task.pk
    # Its moment comes (moved to now): the third occurrence is beyond COUNT.
    Timer.objects.filter(pk=recurrence_timer(copy).pk).update(due_at=timezone.now())
    timers.fire_due()
    assert Task.objects.filter(title="Twice").count() == 2
    copy.refresh_from_db()
    assert copy.repeat == ""


def test_until_past_makes_no_copy_and_late_firings_skip_what_was_missed(org):
    long_ago = timezone.now() - timedelta(days=3, hours=1)
    until = (timezone.now() - timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    services.create_task(
        {"title": "Ended", "repeat": f"FREQ=DAILY;UNTIL={until}", **due(long_ago)},
        actor=org.member_a,
    )
    services.create_task(
        {"title": "Late", "repeat": "FREQ=DAILY", **due(long_ago)}, actor=org.member_a
    )
    timers.fire_due()
    assert Task.objects.filter(title="Ended").count() == 1
    late = list(Task.objects.filter(title="Late").order_by("pk"))
    assert len(late) == 2  # one copy, not one per missed day
    assert timezone.now() < late[1].due_moment() <= timezone.now() + timedelta(days=1)


def test_a_days_task_comes_due_at_its_days_start(org):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    services.create_task(
        {"title": "Water the plants", "repeat": "FREQ=DAILY", "due_date": yesterday},
        actor=org.member_a,
    )
    # Yesterday's copy makes today's (today is not missed yet); today's has come due
    # at midnight and makes tomorrow's, which waits.
    assert timers.fire_due() == 2 and timers.fire_due() == 0
    dues = [(t.due_date, t.due_time) for t in Task.objects.filter(title="Water the plants")]
    assert dues == [(yesterday, None), (today, None), (today + timedelta(days=1), None)]


def test_editing_moves_the_timer_and_clearing_or_cancelling_removes_it(org):
    tomorrow = timezone.localdate() + timedelta(days=1)
    task = services.create_task(
        {"title": "Weekly", "repeat": "FREQ=WEEKLY", "due_date": tomorrow}, actor=org.member_a
    )
    later = tomorrow + timedelta(days=2)
    task = services.update_task(
        task, {"due_date": later, "due_time": datetime.time(9)}, actor=org.member_a
    )
    assert recurrence_timer(task).due_at == task.due_moment()
    task = services.update_task(task, {"repeat": "FREQ=MONTHLY;COUNT=3"}, actor=org.member_a)
    assert task.repeat_start == task.due_moment()
    task = services.set_status(task, "cancelled", actor=org.member_a)
    assert recurrence_timer(task) is None
    task = services.set_status(task, "open", actor=org.member_a)
    assert recurrence_timer(task) is not None
    task = services.set_status(task, "done", actor=org.member_a)
    assert recurrence_timer(task) is not None  # done: the series goes on
    task = services.update_task(task, {"repeat": ""}, actor=org.member_a)
    assert recurrence_timer(task) is None and task.repeat_start is None


def test_bad_rules_are_refused_with_the_recurrence_message(org):
    tomorrow = timezone.localdate() + timedelta(days=1)
    cases = {
        "FREQ=HOURLY": "Repeat daily, weekly, monthly or yearly.",
        "FREQ=DAILY\nFREQ=WEEKLY": "Enter one repeat rule (RRULE) only.",
    }
    for rule, message in cases.items():
        with pytest.raises(ValidationFailed) as failed:
            services.create_task(
                {"title": "Bad", "repeat": rule, "due_date": tomorrow}, actor=org.member_a
            )
        assert failed.value.errors == {"repeat": [message]}
    with pytest.raises(ValidationFailed) as failed:
        services.create_task(
            {"title": "Bad", "repeat": "FREQ=SOMETIMES", "due_date": tomorrow}, actor=org.member_a
        )
    assert failed.value.errors["repeat"][0].startswith("This is not a valid repeat rule")

    api = Api(org.member_a)
    undated = api.post("/tasks", {"title": "Undated", "repeat": "FREQ=DAILY"})
    assert undated.status_code == 422
    assert undated.json()["errors"] == {"repeat": ["A repeating task needs a due date."]}
    ok = api.post("/tasks", {"title": "Dated", "repeat": "FREQ=DAILY", "due_date": str(tomorrow)})
    assert ok.status_code == 201 and ok.json()["repeat"] == "FREQ=DAILY"


def test_a_due_time_given_with_an_offset_is_read_on_the_wall_clock(org):
    tomorrow = timezone.localdate() + timedelta(days=1)
    at = datetime.time(16, 7, tzinfo=datetime.UTC)
    task = services.create_task(
        {"title": "Offset", "repeat": "FREQ=DAILY", "due_date": tomorrow, "due_time": at},
        actor=org.member_a,
    )
    assert timezone.localtime(recurrence_timer(task).due_at).time() == datetime.time(16, 7)
