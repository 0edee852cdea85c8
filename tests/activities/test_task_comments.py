"""A task's comments: from whoever sees the task, plain text, newest last; the assignee
and who set it hear of each (not its author, not someone who can no longer see it)."""

import pytest
from django.urls import reverse

from kontor.activities import services
from kontor.activities.models import Notification
from kontor.core.errors import NotFound, ValidationFailed
from kontor.core.models import AuditEntry

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


def delegated(org, title="Call Petrov"):
    return services.create_task(
        {"title": title, "owner_id": org.member_a.pk, "department_id": org.dept.team1.pk},
        actor=org.sales_head,
    )


def inbox(user):
    return [(n.kind, n.title) for n in Notification.objects.filter(recipient=user)]


def test_a_comment_notifies_the_assignee_and_who_set_it_but_not_its_author(org):
    task = delegated(org)
    services.add_comment(task, "Done by Friday?", actor=org.sales_head)
    assert inbox(org.member_a) == [
        ("task.comment", f"{org.sales_head} on “Call Petrov”: Done by Friday?")
    ]
    assert inbox(org.sales_head) == []
    # Boris sees the task (his department) and may comment: both others hear of it.
    services.add_comment(task, "I can help", actor=org.member_b)
    assert len(inbox(org.member_a)) == 2 and len(inbox(org.sales_head)) == 1
    assert inbox(org.member_b) == []
    entry = AuditEntry.objects.filter(object_id=task.pk, action="activities.task.updated")
    assert entry.order_by("-pk")[0].changes == {"comments": [None, "I can help"]}
    assert task.version == 1


def test_who_cannot_see_the_task_may_not_comment_nor_hears_of_it(org):
    task = services.create_task({"title": "Team two"}, actor=org.member_c)
    with pytest.raises(NotFound):
        services.add_comment(task, "Hello", actor=org.member_a)
    # Clara's task moved by the head to Anna: Clara set it but no longer sees it.
    services.update_task(
        task,
        {"owner_id": org.member_a.pk, "department_id": org.dept.team1.pk},
        actor=org.sales_head,
    )
    services.add_comment(task, "Mine now", actor=org.member_a)
    assert inbox(org.member_c) == []


def test_comments_are_plain_text_newest_last_on_the_page_and_in_the_api(org):
    task = delegated(org)
    client = browser(org.member_a)
    add = reverse("activities:task_comment_add", args=[task.pk])
    client.post(add, {"text": "First"}, headers={"HX-Request": "true"})
    panel = client.post(add, {"text": "<b>bold</b>\nline"}, headers={"HX-Request": "true"})
    html = panel.content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;<br>line" in html and "<b>bold" not in html
    assert html.index("First") < html.index("bold")
    assert (
        "This field is required."
        in client.post(add, {"text": " "}, headers={"HX-Request": "true"}).content.decode()
    )
    with pytest.raises(ValidationFailed):
        services.add_comment(task, "x" * 5001, actor=org.member_a)

    api = Api(org.sales_head)
    created = api.post(f"/tasks/{task.pk}/comments", {"text": "From the API"})
    assert created.status_code == 201 and created.json()["author"]["id"] == org.sales_head.pk
    listed = api.get(f"/tasks/{task.pk}/comments").json()
    assert [c["text"] for c in listed["items"]] == ["First", "<b>bold</b>\nline", "From the API"]
    assert Api(org.member_c).get(f"/tasks/{task.pk}/comments").status_code == 404
    assert Api(org.member_c).post(f"/tasks/{task.pk}/comments", {"text": "x"}).status_code == 404
