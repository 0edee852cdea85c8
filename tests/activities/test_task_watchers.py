"""Watchers follow a task: added by themselves (if they see it) or by its editors (if
they see it); they hear of comments and changes of status while they can see it."""

import pytest
from django.urls import reverse

from kontor.activities import services
from kontor.activities.models import Notification, Task
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


def kinds(user):
    return [n.kind for n in Notification.objects.filter(recipient=user).order_by("pk")]


def test_a_watcher_hears_of_comments_and_status_but_not_of_their_own(org):
    task = services.create_task({"title": "Quarterly report"}, actor=org.member_a)
    services.watch(task, org.member_b.pk, actor=org.member_b)  # Boris sees it: may watch
    services.add_comment(task, "Draft attached", actor=org.member_a)
    services.update_task(task, {"description": "Longer"}, actor=org.member_a)  # no status
    services.set_status(task, "in_progress", actor=org.member_a)
    assert kinds(org.member_b) == ["task.comment", "task.status"]
    status = Notification.objects.filter(recipient=org.member_b, kind="task.status").get()
    assert status.title == f"{org.member_a} set “Quarterly report” to in progress"
    # Boris's own comment tells Anna, not him.
    services.add_comment(task, "Looks good", actor=org.member_b)
    assert kinds(org.member_b) == ["task.comment", "task.status"]
    assert kinds(org.member_a) == ["task.comment"]

    services.unwatch(task, org.member_b.pk, actor=org.member_b)
    services.set_status(task, "done", actor=org.member_a)
    assert kinds(org.member_b) == ["task.comment", "task.status"]
    changes = [
        e.changes["watchers"]
        for e in AuditEntry.objects.filter(object_id=task.pk).order_by("pk")
        if "watchers" in e.changes
    ]
    assert changes == [[[], [str(org.member_b)]], [[str(org.member_b)], []]]


def test_who_may_add_whom(org):
    task = services.create_task({"title": "Anna's"}, actor=org.member_a)
    with pytest.raises(NotFound):  # Clara cannot see it: not even herself
        services.watch(task, org.member_c.pk, actor=org.member_c)
    with pytest.raises(PermissionDenied):  # Boris sees it, may not add others
        services.watch(task, org.member_a.pk, actor=org.member_b)
    with pytest.raises(ValidationFailed) as failed:  # an editor adds only who sees it
        services.watch(task, org.member_c.pk, actor=org.sales_head)
    assert failed.value.errors == {"user_id": [f"{org.member_c} cannot see this task."]}
    with pytest.raises(ValidationFailed) as failed:  # nor a user they cannot see at all
        services.watch(task, org.member_c.pk, actor=org.member_a)
    assert failed.value.errors == {"user_id": ["Unknown user."]}
    services.watch(task, org.member_b.pk, actor=org.member_a)
    assert list(task.watchers.all()) == [org.member_b]


def test_a_watcher_who_can_no_longer_see_the_task_gets_nothing(org):
    task = services.create_task({"title": "Moving"}, actor=org.member_a)
    services.watch(task, org.member_b.pk, actor=org.member_b)
    services.update_task(
        task,
        {"department_id": org.dept.team2.pk, "owner_id": org.member_c.pk},
        actor=org.sales_head,
    )
    services.add_comment(task, "Now in team two", actor=org.member_c)
    services.set_status(Task.objects.get(pk=task.pk), "done", actor=org.member_c)
    assert kinds(org.member_b) == []


def test_the_page_and_the_api(org):
    task = services.create_task({"title": "Shared"}, actor=org.member_a)
    boris = browser(org.member_b)
    page = boris.get(reverse("activities:task_detail", args=[task.pk])).content.decode()
    assert "Watch</button>" in page and "Add a watcher" not in page
    panel = boris.post(
        reverse("activities:task_watcher_add", args=[task.pk]),
        {"user_id": org.member_b.pk},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Stop watching" in panel
    anna = browser(org.member_a).get(reverse("activities:task_detail", args=[task.pk]))
    assert "Add a watcher" in anna.content.decode()

    api = Api(org.member_a)
    assert [w["id"] for w in api.get(f"/tasks/{task.pk}/watchers").json()] == [org.member_b.pk]
    added = api.post(f"/tasks/{task.pk}/watchers", {"user_id": org.member_a.pk})
    assert added.status_code == 201 and len(added.json()) == 2
    assert api.post(f"/tasks/{task.pk}/watchers", {"user_id": 10**9}).status_code == 422
    assert (
        Api(org.member_b).delete(f"/tasks/{task.pk}/watchers/{org.member_a.pk}").status_code == 403
    )
    assert (
        Api(org.member_b).delete(f"/tasks/{task.pk}/watchers/{org.member_b.pk}").status_code == 204
    )
    assert Api(org.member_c).get(f"/tasks/{task.pk}/watchers").status_code == 404
