"""Drag a meeting to another day in the week view: its page shows the new day and its
history the move; a page left open while someone else changed it gets the conflict
message, and the meeting goes back to where it was."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kontor.calendar import services
from kontor.calendar.models import Meeting
from kontor.core.access import SYSTEM
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e

MONDAY = datetime.date(2026, 12, 7)
WEEK = "/calendar/?view=week&date=2026-12-07"


def at(day, hour):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def meeting_for(user, title):
    return services.create_meeting(
        {
            "title": title,
            "start": at(MONDAY, 10),
            "end": at(MONDAY, 11),
            "owner_id": user.pk,
            "department_id": user.department_id,
        },
        actor=SYSTEM,
    )


def test_drag_a_meeting_to_another_day(new_page, org):
    meeting = meeting_for(org.member_a, "Offer review")
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto(WEEK)

    item = page.get_by_test_id(f"cal-meeting-{meeting.pk}")
    wednesday = page.locator('.cal-drop[data-date="2026-12-09"][data-hour="10"]')
    with page.expect_navigation():  # the page reloads once the move is saved
        item.drag_to(wednesday)
    expect(wednesday.get_by_test_id(f"cal-meeting-{meeting.pk}")).to_be_visible()
    moved = Meeting.objects.get(pk=meeting.pk)
    assert moved.start == at(MONDAY + datetime.timedelta(days=2), 10)
    assert moved.end == at(MONDAY + datetime.timedelta(days=2), 11)

    page.goto(f"/meetings/{meeting.pk}/")
    expect(page.get_by_test_id("meeting-when")).to_contain_text("Dec. 9, 2026")
    page.get_by_role("tab", name="History").click()
    history = page.locator("#tab-panel")
    expect(history).to_contain_text("2026-12-09")
    expect(history).to_contain_text("Start")


def test_a_stale_page_gets_the_conflict_and_the_meeting_goes_back(new_page, org):
    meeting = meeting_for(org.member_a, "Budget talk")
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto(WEEK)
    # Someone else saves it meanwhile: the page still holds version 1.
    services.update_meeting(meeting, {"place": "Room 3"}, actor=org.member_a)

    monday = page.locator('.cal-drop[data-date="2026-12-07"][data-hour="10"]')
    item = monday.get_by_test_id(f"cal-meeting-{meeting.pk}")
    item.drag_to(page.locator('.cal-drop[data-date="2026-12-10"][data-hour="10"]'))
    expect(page.locator("#cal-status")).to_contain_text("Not moved.")
    expect(monday.get_by_test_id(f"cal-meeting-{meeting.pk}")).to_be_visible()
    assert Meeting.objects.get(pk=meeting.pk).start == at(MONDAY, 10)
