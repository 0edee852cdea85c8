"""A task waits on others: not done before them on any channel, no loops, hidden tasks
neither chosen nor named."""

import pytest
from django.urls import reverse

from kontor.activities import services
from kontor.activities.models import Task
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


def task(title, actor, **data):
    return services.create_task({"title": title, **data}, actor=actor)


def errors_of(call):
    with pytest.raises(ValidationFailed) as failed:
        call()
    return failed.value.errors


def test_a_task_is_not_done_before_what_it_waits_on(org):
    offer = task("Send the offer", org.member_a)
    prices = task("Agree the prices", org.member_a)
    signed = task("Get it signed", org.member_a, waits_on_ids=[offer.pk, prices.pk])
    assert {t.pk for t in signed.waits_on.all()} == {offer.pk, prices.pk}

    errors = errors_of(lambda: services.set_status(signed, "done", actor=org.member_a))
    assert errors == {
        "status": ["It waits on tasks still to do: Send the offer, Agree the prices."]
    }
    assert Task.objects.get(pk=signed.pk).status == "open"

    services.set_status(offer, "done", actor=org.member_a)
    services.set_status(prices, "cancelled", actor=org.member_a)
    done = services.set_status(Task.objects.get(pk=signed.pk), "done", actor=org.member_a)
    assert done.status == "done"
    # What waits only on finished work may be created done.
    assert task("Filed", org.member_a, status="done", waits_on_ids=[signed.pk]).status == "done"


def test_creating_a_done_task_that_waits_on_open_work_is_refused(org):
    open_work = task("Open", org.member_a)
    errors = errors_of(
        lambda: task("Done at once", org.member_a, status="done", waits_on_ids=[open_work.pk])
    )
    assert errors == {"status": ["It waits on tasks still to do: Open."]}


def test_a_loop_is_refused_and_named(org):
    first = task("First", org.member_a)
    second = task("Second", org.member_a, waits_on_ids=[first.pk])
    third = task("Third", org.member_a, waits_on_ids=[second.pk])
    errors = errors_of(
        lambda: services.update_task(first, {"waits_on_ids": [third.pk]}, actor=org.member_a)
    )
    assert errors == {"waits_on_ids": ["This would make a loop: First → Third → Second → First."]}
    errors = errors_of(
        lambda: services.update_task(first, {"waits_on_ids": [first.pk]}, actor=org.member_a)
    )
    assert errors == {"waits_on_ids": ["A task cannot wait on itself."]}
    assert not first.waits_on.exists()


def test_a_hidden_task_is_unknown_kept_and_never_named(org):
    hidden = task("Clara's secret", org.member_c)
    mine = task("Mine", org.member_a)
    for ids in ([hidden.pk], [10**9]):
        errors = errors_of(
            lambda ids=ids: services.update_task(mine, {"waits_on_ids": ids}, actor=org.member_a)
        )
        assert errors == {"waits_on_ids": ["Unknown task."]}

    # The head of Sales sees both and makes Anna's task wait on Clara's.
    services.update_task(mine, {"waits_on_ids": [hidden.pk]}, actor=org.sales_head)
    mine = Task.objects.get(pk=mine.pk)
    errors = errors_of(lambda: services.set_status(mine, "done", actor=org.member_a))
    assert errors == {"status": ["It waits on tasks still to do: a task you cannot see."]}
    # Anna clears what she sees: the hidden one stays.
    other = task("Other", org.member_a)
    mine = Task.objects.get(pk=mine.pk)
    services.update_task(mine, {"waits_on_ids": [other.pk]}, actor=org.member_a)
    assert {t.pk for t in mine.waits_on.all()} == {hidden.pk, other.pk}
    # And a loop through it is named without its title.
    errors = errors_of(
        lambda: services.update_task(hidden, {"waits_on_ids": [mine.pk]}, actor=org.sales_head)
    )
    assert errors == {
        "waits_on_ids": ["This would make a loop: Clara's secret → Mine → Clara's secret."]
    }

    page = browser(org.member_a).get(reverse("activities:task_detail", args=[mine.pk]))
    text = page.content.decode()
    assert "1 task you cannot see" in text and "Clara" not in text and "Other" in text
    api = Api(org.member_a).get(f"/tasks/{mine.pk}/dependencies").json()
    assert [t["name"] for t in api["waits_on"]] == ["Other"] and api["waits_on_hidden"] == 1


def test_the_api_sets_them_and_answers_422_when_blocked(org):
    api = Api(org.member_a)
    first = api.post("/tasks", {"title": "First"}).json()
    second = api.post("/tasks", {"title": "Second", "waits_on_ids": [first["id"]]}).json()
    both = api.get(f"/tasks/{first['id']}/dependencies").json()
    assert both["blocks"] == [
        {"id": second["id"], "name": "Second", "status": "open", "overdue": False}
    ]
    refused = api.patch(f"/tasks/{second['id']}", {"status": "done", "version": 1})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"status": ["It waits on tasks still to do: First."]}
    loop = api.patch(f"/tasks/{first['id']}", {"waits_on_ids": [second["id"]], "version": 1})
    assert loop.status_code == 422 and "loop" in loop.json()["errors"]["waits_on_ids"][0]
    cleared = api.patch(
        f"/tasks/{second['id']}", {"waits_on_ids": [], "status": "done", "version": 1}
    )
    assert cleared.status_code == 200 and cleared.json()["status"] == "done"
    entry = AuditEntry.objects.filter(object_id=second["id"], action="activities.task.updated")
    assert entry.get().changes["waits_on"] == [[first["id"]], []]


def test_mark_done_in_my_day_and_on_the_page_says_what_it_waits_on(org):
    first = task("Call the bank", org.member_a)
    second = task("Pay the invoice", org.member_a, waits_on_ids=[first.pk])
    client = browser(org.member_a)
    for back in (reverse("activities:my_day"), reverse("activities:task_detail", args=[second.pk])):
        answer = client.post(
            reverse("activities:task_done", args=[second.pk]),
            {"version": second.version, "next": back},
            follow=True,
        )
        assert "It waits on tasks still to do: Call the bank." in answer.content.decode()
    assert Task.objects.get(pk=second.pk).status == "open"


def test_the_page_adds_and_removes_with_htmx_for_who_may_edit(org):
    first = task("First", org.member_a)
    second = task("Second", org.member_a)
    client = browser(org.member_a)
    add = reverse("activities:task_waits_on_add", args=[second.pk])
    panel = client.post(add, {"waits_on": first.pk}, headers={"HX-Request": "true"})
    assert panel.status_code == 200 and 'id="task-dependencies"' in panel.content.decode()
    assert list(second.waits_on.all()) == [first]
    refused = client.post(add, {"waits_on": second.pk}, headers={"HX-Request": "true"})
    assert "A task cannot wait on itself." in refused.content.decode()
    blocked = client.get(reverse("activities:task_detail", args=[first.pk])).content.decode()
    assert "Blocks" in blocked and "Second" in blocked

    # Boris sees Anna's tasks but may not edit them: no form, and a post is refused.
    boris = browser(org.member_b)
    page = boris.get(reverse("activities:task_detail", args=[second.pk])).content.decode()
    assert "First" in page and "Add a task it waits on" not in page
    remove = reverse("activities:task_waits_on_remove", args=[second.pk, first.pk])
    assert boris.post(remove).status_code == 403
    with pytest.raises(PermissionDenied):
        services.stop_waiting_on(second, first.pk, actor=org.member_b)

    gone = client.post(remove)
    assert gone.status_code == 302 and not second.waits_on.exists()
