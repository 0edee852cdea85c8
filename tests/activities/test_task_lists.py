"""The task list's own entries ("Assigned to me", "Delegated", "Overdue") and overdue
marked wherever a task is listed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities import services

from ..utils.clients import browser

pytestmark = pytest.mark.django_db


def test_assigned_to_me_and_delegated_are_entries_of_the_list(org):
    services.create_task({"title": "Mine"}, actor=org.member_a)
    services.create_task({"title": "For Boris", "owner_id": org.member_b.pk}, actor=org.member_a)
    services.create_task({"title": "From Boris", "owner_id": org.member_a.pk}, actor=org.member_b)
    client = browser(org.member_a)
    url = reverse("activities:task_list")
    page = client.get(url).content.decode()
    assert 'href="?mine=true"' in page and 'href="?set_by=others"' in page
    assert ">Assigned to me</a>" in page and ">Delegated</a>" in page

    delegated = client.get(url + "?set_by=others").content.decode()
    assert "For Boris" in delegated and "From Boris" not in delegated and "Mine" not in delegated
    assert 'aria-current="page">Delegated</a>' in delegated
    mine = client.get(url + "?mine=true").content.decode()
    assert "From Boris" in mine and "Mine" in mine and "For Boris" not in mine
    assert 'aria-current="page">Assigned to me</a>' in mine
    # Boris has it among his own: the same task in both lists.
    assert "For Boris" in browser(org.member_b).get(url + "?mine=true").content.decode()


def test_overdue_is_marked_in_every_list(org):
    yesterday = timezone.localdate() - timedelta(days=1)
    late = services.create_task({"title": "Late one", "due_date": yesterday}, actor=org.member_a)
    client = browser(org.member_a)
    listed = client.get(reverse("activities:task_list")).content.decode()
    assert 'class="row-overdue"' in listed and "Open · overdue" in listed
    home = client.get(reverse("web:home")).content.decode()
    assert 'class="row-overdue"' in home
    options = client.get(reverse("web:record_options", args=["activities.task"]), {"q": "Late"})
    assert "Overdue" in options.content.decode()
    day = client.get(reverse("activities:my_day")).content.decode()
    assert "overdue" in day
    waiting = services.create_task({"title": "Blocked"}, actor=org.member_a)
    services.update_task(waiting, {"waits_on_ids": [late.pk]}, actor=org.member_a)
    page = client.get(reverse("activities:task_detail", args=[waiting.pk])).content.decode()
    assert '<span class="overdue">overdue</span>' in page
