"""What tasks add to the engine: status and completion, overdue, who set them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kontor.activities import services
from kontor.activities.types import TASK
from kontor.core.errors import ValidationFailed
from kontor.core.types import ListFilters

from ..utils.clients import Api

pytestmark = pytest.mark.django_db


def test_completing_stamps_the_moment_and_reopening_clears_it(org):
    task = services.create_task({"title": "Send the offer"}, actor=org.member_a)
    assert (task.status, task.priority, task.completed_at) == ("open", 2, None)
    assert task.owner == org.member_a and task.created_by == org.member_a

    done = services.set_status(task, "done", actor=org.member_a)
    assert done.completed_at is not None and not done.is_active
    reopened = services.set_status(done, "in_progress", actor=org.member_a)
    assert reopened.completed_at is None and reopened.is_active


def test_bad_input_names_each_field(org):
    with pytest.raises(ValidationFailed) as failed:
        services.create_task(
            {"title": " ", "status": "later", "priority": 9, "due_time": "10:00"},
            actor=org.member_a,
        )
    assert set(failed.value.errors) == {"title", "status", "priority", "due_date"}


def test_overdue_is_still_to_do_with_its_day_or_moment_past(org):
    now = timezone.localtime()
    yesterday, tomorrow = now.date() - timedelta(days=1), now.date() + timedelta(days=1)
    hour_ago = (now - timedelta(hours=1)).time() if now.hour else None
    rows = {
        "late": {"due_date": yesterday},
        "late done": {"due_date": yesterday, "status": "done"},
        "later": {"due_date": tomorrow},
        "undated": {},
    }
    if hour_ago is not None:  # past midnight by an hour: a moment earlier today
        rows["late today"] = {"due_date": now.date(), "due_time": hour_ago}
    for title, data in rows.items():
        services.create_task({"title": title, **data}, actor=org.member_a)

    overdue = TASK.list_query(org.member_a, ListFilters(extra={"status": "overdue"}))
    expected = {"late", "late today"} if hour_ago is not None else {"late"}
    assert {t.title for t in overdue} == expected
    assert all(t.is_overdue for t in overdue)
    active = TASK.list_query(org.member_a, ListFilters(extra={"status": "active"}))
    assert "late done" not in {t.title for t in active}


def test_tasks_set_for_others_are_listed_for_who_set_them(org):
    services.create_task({"title": "Mine"}, actor=org.sales_head)
    services.create_task(
        {"title": "Delegated", "owner_id": org.member_a.pk, "department_id": org.dept.team1.pk},
        actor=org.sales_head,
    )
    api = Api(org.sales_head)
    assigned = api.get("/tasks?set_by=others").json()["items"]
    assert [(t["title"], t["owner"]["id"], t["created_by"]["id"]) for t in assigned] == [
        ("Delegated", org.member_a.pk, org.sales_head.pk)
    ]
    # The assignee has it among their own.
    mine = Api(org.member_a).get("/tasks?mine=true").json()["items"]
    assert [t["title"] for t in mine] == ["Delegated"]


def test_the_task_form_offers_statuses_and_priorities_with_the_defaults_chosen(client, org):
    client.force_login(org.member_a)
    page = client.get(TASK.url("create")).content.decode()
    assert '<option value="open" selected>' in page and '<option value="2" selected>' in page
    assert "Assignee" in page
