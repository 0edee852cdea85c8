"""My day: the reader's overdue tasks and today's, each done in one click."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities import services
from kontor.activities.models import Task

from ..utils.clients import browser

pytestmark = pytest.mark.django_db


def test_my_day_lists_my_overdue_and_todays_tasks_only(client, org):
    today = timezone.localdate()
    for title, data, actor in (
        ("Late offer", {"due_date": today - timedelta(days=2)}, org.member_a),
        ("Call today", {"due_date": today}, org.member_a),
        ("Visit tomorrow", {"due_date": today + timedelta(days=1)}, org.member_a),
        ("Done already", {"due_date": today, "status": "done"}, org.member_a),
        ("Task of Boris", {"due_date": today}, org.member_b),
    ):
        services.create_task({"title": title, **data}, actor=actor)
    client.force_login(org.member_a)
    page = client.get(reverse("activities:my_day")).content.decode()
    assert "Late offer" in page and "Call today" in page
    assert page.index("Late offer") < page.index("Call today")  # overdue first
    for absent in ("Visit tomorrow", "Done already", "Task of Boris"):
        assert absent not in page
    home = client.get(reverse("web:home")).content.decode()
    assert f'href="{reverse("activities:my_day")}"' in home  # in the navigation


def test_an_empty_day_says_so(client, org):
    client.force_login(org.member_a)
    page = client.get(reverse("activities:my_day")).content.decode()
    assert "Nothing due today" in page


def test_mark_done_completes_once_and_refuses_a_stale_page(client, org):
    task = services.create_task(
        {"title": "Call", "due_date": timezone.localdate()}, actor=org.member_a
    )
    client.force_login(org.member_a)
    url = reverse("activities:task_done", args=[task.pk])
    done = client.post(url, {"version": task.version, "next": "https://evil.example/"})
    assert done.status_code == 302 and done.url == reverse("activities:my_day")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_at is not None
    stale = client.post(url, {"version": 1}, follow=True)
    assert "Someone else changed this record after you opened it." in stale.content.decode()
    assert Task.objects.get(pk=task.pk).version == task.version  # nothing written twice
    client.force_login(org.support_member)  # another department: no such task
    assert client.post(url, {"version": task.version}).status_code == 404


def test_a_long_list_shows_the_most_urgent_and_links_to_the_rest(org):
    from kontor.activities import views

    yesterday = timezone.localdate() - timedelta(days=1)
    for i in range(views.MY_DAY_LIMIT + 2):
        services.create_task({"title": f"Late {i:02d}", "due_date": yesterday}, actor=org.member_a)
    page = browser(org.member_a).get("/my-day/").content.decode()
    assert page.count("Mark done") == views.MY_DAY_LIMIT
    assert f"All {views.MY_DAY_LIMIT + 2} overdue tasks" in page
    assert "/tasks/?status=overdue&amp;mine=true" in page


def test_overdue_tasks_of_both_statuses_come_in_due_order_and_both_lists_count(org):
    """Overdue tasks are read one status at a time and merged: the page's order is the
    database's due order (a task without a time where the database sorts NULL)."""
    from kontor.activities import views

    today = timezone.localdate()
    for i in range(views.MY_DAY_LIMIT + 3):
        status = "in_progress" if i % 3 else "open"
        due = {"due_date": today - timedelta(days=40 - i)}
        if i % 2:
            due["due_time"] = "09:00"
        services.create_task(
            {"title": f"Late {i:02d}", "status": status, **due}, actor=org.member_a
        )
    for i in range(views.MY_DAY_LIMIT + 1):
        services.create_task({"title": f"Today {i:02d}", "due_date": today}, actor=org.member_a)
    expected = [
        task.title
        for task in Task.objects.filter(owner=org.member_a, title__startswith="Late").order_by(
            *views.DUE_ORDER
        )[: views.MY_DAY_LIMIT]
    ]
    page = browser(org.member_a).get("/my-day/").content.decode()
    shown = [title for title in expected if title in page]
    assert shown == expected
    assert sorted(expected, key=page.index) == expected
    assert f"All {views.MY_DAY_LIMIT + 3} overdue tasks" in page
    assert f'<span class="muted small">{views.MY_DAY_LIMIT + 1}</span>' in page
