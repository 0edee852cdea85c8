"""A task's checklist: ordered items added, ticked, renamed, moved and removed on its page
(htmx) and through the API, by who may edit the task; counted in its lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontor.activities import services
from kontor.activities.models import ChecklistItem
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def texts(task):
    return [(i.text, i.done, i.position) for i in task.checklist.all()]


def test_items_keep_their_order_and_each_change_is_audited(org):
    task = services.create_task({"title": "Open the office"}, actor=org.member_a)
    keys, alarm, lights = (
        services.add_checklist_item(task, text, actor=org.member_a)
        for text in ("Keys", " Alarm ", "Lights")
    )
    services.change_checklist_item(alarm, {"done": True}, actor=org.member_a)
    services.change_checklist_item(lights, {"position": 0, "text": "Lights on"}, actor=org.member_a)
    assert texts(task) == [("Lights on", False, 0), ("Keys", False, 1), ("Alarm", True, 2)]
    services.remove_checklist_item(keys, actor=org.member_a)
    assert texts(task) == [("Lights on", False, 0), ("Alarm", True, 1)]

    last = AuditEntry.objects.filter(object_id=task.pk, action="activities.task.updated").order_by(
        "-pk"
    )[0]
    assert last.changes == {
        "checklist": [["[ ] Lights on", "[ ] Keys", "[x] Alarm"], ["[ ] Lights on", "[x] Alarm"]]
    }
    assert task.version == 1  # an open edit form of the task stays current

    with pytest.raises(ValidationFailed) as failed:
        services.add_checklist_item(task, "  ", actor=org.member_a)
    assert failed.value.errors == {"text": ["This field is required."]}
    with pytest.raises(ValidationFailed):
        services.add_checklist_item(task, "x" * 501, actor=org.member_a)


def test_only_who_may_edit_the_task_changes_its_checklist(org):
    task = services.create_task({"title": "Anna's"}, actor=org.member_a)
    item = services.add_checklist_item(task, "Step", actor=org.member_a)
    with pytest.raises(PermissionDenied):  # Boris sees it, may not edit it
        services.change_checklist_item(item, {"done": True}, actor=org.member_b)
    with pytest.raises(NotFound):  # Clara does not even see it
        services.add_checklist_item(task, "Mine now", actor=org.member_c)

    boris = Api(org.member_b)
    assert boris.get(f"/tasks/{task.pk}/checklist").json()[0]["text"] == "Step"
    assert boris.post(f"/tasks/{task.pk}/checklist", {"text": "No"}).status_code == 403
    clara = Api(org.member_c)
    assert clara.get(f"/tasks/{task.pk}/checklist").status_code == 404
    assert clara.delete(f"/tasks/{task.pk}/checklist/{item.pk}").status_code == 404
    page = browser(org.member_b).get(reverse("activities:task_detail", args=[task.pk]))
    assert "Step" in page.content.decode() and "checklist-new" not in page.content.decode()


def test_the_api_adds_ticks_moves_and_removes(org):
    api = Api(org.member_a)
    task = api.post("/tasks", {"title": "Trip"}).json()
    url = f"/tasks/{task['id']}/checklist"
    first = api.post(url, {"text": "Tickets"}).json()
    second = api.post(url, {"text": "Hotel", "done": True}).json()
    assert (first["position"], second["position"]) == (0, 1)
    moved = api.patch(f"{url}/{second['id']}", {"position": 0}).json()
    assert moved == {"id": second["id"], "text": "Hotel", "done": True, "position": 0}
    assert api.patch(f"{url}/{first['id']}", {"text": ""}).status_code == 422
    assert api.get(f"/tasks/{task['id']}").json()["checklist"] == {"done": 1, "total": 2}
    assert api.delete(f"{url}/{first['id']}").status_code == 204
    assert [i["text"] for i in api.get(url).json()] == ["Hotel"]
    other = api.post("/tasks", {"title": "Other"}).json()
    # An item is reached only through its own task.
    assert api.delete(f"/tasks/{other['id']}/checklist/{second['id']}").status_code == 404


def test_the_page_edits_it_with_htmx(org):
    task = services.create_task({"title": "Move house"}, actor=org.member_a)
    client = browser(org.member_a)
    add = reverse("activities:task_checklist_add", args=[task.pk])
    for text in ("Boxes", "Van"):
        panel = client.post(add, {"text": text}, headers=HTMX)
    assert panel.status_code == 200 and 'id="task-checklist"' in panel.content.decode()
    boxes, van = task.checklist.all()
    item = reverse("activities:task_checklist_item", args=[task.pk, van.pk])
    client.post(item, {"text": "Van", "done": "1", "move": "up"}, headers=HTMX)
    assert texts(task) == [("Van", True, 0), ("Boxes", False, 1)]
    refused = client.post(item, {"text": " "}, headers=HTMX).content.decode()
    assert "This field is required." in refused
    client.post(item, {"remove": "1"}, headers=HTMX)
    assert texts(task) == [("Boxes", False, 0)]
    page = client.get(reverse("activities:task_detail", args=[task.pk])).content.decode()
    assert "0/1" in page


def test_the_list_shows_counts_without_a_query_per_row(org):
    client = browser(org.member_a)
    for n in range(3):
        task = services.create_task({"title": f"Task {n}"}, actor=org.member_a)
        for step in range(n):
            item = services.add_checklist_item(task, f"Step {step}", actor=org.member_a)
        if n:
            services.change_checklist_item(item, {"done": True}, actor=org.member_a)
    url = reverse("activities:task_list")
    page = client.get(url).content.decode()
    assert "1/1" in page and "1/2" in page
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    services.create_task({"title": "More"}, actor=org.member_a)
    ChecklistItem.objects.create(task=task, text="extra")
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)
