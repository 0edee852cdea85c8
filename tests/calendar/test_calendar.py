"""The calendar's views and /api/v1/calendar: meetings (recurring ones expanded) and
dated tasks, of me, a colleague or a department, only as far as I may see; drag and
drop to reschedule with the version the page showed; My day's meetings."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities import services as tasks
from kontor.calendar.models import Meeting
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry

from ..utils.clients import Api, browser
from .conftest import at

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 12, 7)


def task(owner, title, day, time=None, **data):
    values = {
        "title": title,
        "due_date": day,
        "due_time": time,
        "owner_id": owner.pk,
        "department_id": owner.department_id,
    }
    return tasks.create_task(values | data, actor=SYSTEM)


def page(reader, **query):
    answer = browser(reader).get(reverse("calendar:calendar"), query)
    assert answer.status_code == 200
    return answer.content.decode()


def api_items(reader, **query):
    answer = Api(reader).get("/calendar?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_week_shows_my_meetings_occurrences_and_dated_tasks(org, make_meeting):
    make_meeting("Planning", start=at(MONDAY, 9))
    make_meeting(
        "Stand-up",
        start=at(MONDAY - datetime.timedelta(days=30), 8),
        minutes=15,
        recurrence="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    )
    make_meeting("Next week", start=at(MONDAY + datetime.timedelta(days=8), 9))
    task(org.member_a, "Send offer", MONDAY + datetime.timedelta(days=2))
    task(org.member_a, "Call back", MONDAY + datetime.timedelta(days=3), datetime.time(14, 30))
    task(org.member_a, "Cancelled one", MONDAY, status="cancelled")

    html = page(org.member_a, view="week", date="2026-12-09")
    assert "Planning" in html and "Send offer" in html and "Call back" in html
    assert html.count("Stand-up") == 5  # one a working day
    assert "Next week" not in html and "Cancelled one" not in html

    found = api_items(org.member_a, start="2026-12-07", end="2026-12-14")
    summary = [(i["type"], i["title"], i["all_day"], i["occurrence"] is not None) for i in found]
    assert summary.count(("meeting", "Stand-up", False, True)) == 5
    assert ("task", "Send offer", True, False) in summary
    call_back = next(i for i in found if i["title"] == "Call back")
    assert call_back["start"].startswith("2026-12-10T14:30")
    assert call_back["url"] == reverse("activities:task_detail", args=[call_back["id"]])
    planning = next(i for i in found if i["title"] == "Planning")
    assert planning["start"].startswith("2026-12-07T09:00")
    assert planning["end"].startswith("2026-12-07T10:00")


def test_day_and_month_views_and_their_navigation(org, make_meeting):
    make_meeting("Planning", start=at(MONDAY, 9))
    day = page(org.member_a, view="day", date="2026-12-07")
    assert "Planning" in day and "date=2026-12-06" in day and "date=2026-12-08" in day
    month = page(org.member_a, view="month", date="2026-12-15")
    assert "Planning" in month and "date=2026-11-01" in month and "date=2027-01-01" in month
    # The month's grid runs from the Monday before the 1st to the Sunday after the 31st.
    assert 'data-date="2026-11-30"' in month and 'data-date="2027-01-03"' in month


def test_a_colleagues_and_a_departments_calendar_show_only_what_i_may_see(org, make_meeting):
    make_meeting("Boris's visit", owner=org.member_b, start=at(MONDAY, 9))
    make_meeting("Clara's visit", owner=org.member_c, start=at(MONDAY, 11))
    # Clara invites Boris: Boris attends, but team 1 may not see team 2's meeting.
    make_meeting(
        "Team 2 offsite", owner=org.member_c, start=at(MONDAY, 13), attendee_ids=[org.member_b.pk]
    )
    task(org.member_b, "Boris's task", MONDAY)

    borises = page(org.member_a, view="week", date="2026-12-07", user=org.member_b.pk)
    assert "Boris&#x27;s visit" in borises and "Boris&#x27;s task" in borises
    assert "Team 2 offsite" not in borises and "Clara" not in borises.split("cal-grid")[1]
    # The head of Sales sees both teams: Boris's calendar shows the meeting he attends.
    heads_view = page(org.sales_head, view="week", date="2026-12-07", user=org.member_b.pk)
    assert "Team 2 offsite" in heads_view

    team2 = api_items(
        org.member_a, start="2026-12-07", end="2026-12-14", department=org.dept.team2.pk
    )
    assert team2 == []
    team2 = api_items(
        org.sales_head, start="2026-12-07", end="2026-12-14", department=org.dept.team2.pk
    )
    assert sorted(i["title"] for i in team2) == ["Clara's visit", "Team 2 offsite"]

    assert (
        browser(org.member_a).get(reverse("calendar:calendar"), {"user": 987654}).status_code == 404
    )


def test_the_api_window_is_bounded_and_checked(org):
    api = Api(org.member_a)
    assert api.get("/calendar?start=2026-12-07&end=2026-12-07").status_code == 422
    too_long = api.get("/calendar?start=2026-01-01&end=2026-12-31")
    assert too_long.status_code == 422 and "end" in too_long.json()["errors"]
    assert api.get("/calendar?start=2026-12-07&end=2026-12-14&user=987654").status_code == 422
    assert Api().get("/calendar?start=2026-12-07&end=2026-12-14").status_code == 401


def move(user, item, **data):
    url = reverse("calendar:move", args=[item._meta.model_name, item.pk])
    return browser(user).post(url, data)


def test_a_drag_moves_a_meeting_keeping_its_length_and_is_audited(org, make_meeting):
    meeting = make_meeting("Planning", start=at(MONDAY, 9, 30), minutes=90)
    moved = move(org.member_a, meeting, version=1, date="2026-12-09")
    assert moved.status_code == 200 and moved.json() == {"version": 2}
    meeting.refresh_from_db()
    assert (meeting.start, meeting.end) == (
        at(MONDAY + datetime.timedelta(days=2), 9, 30),
        at(MONDAY + datetime.timedelta(days=2), 11),
    )
    entry = AuditEntry.objects.for_object(meeting).order_by("-id").first()
    assert entry.action == "calendar.meeting.updated" and entry.actor_id == org.member_a.pk
    assert set(entry.changes) == {"start", "end"}

    # To an hour of another day; then a page showing the old version is refused.
    assert (
        move(org.member_a, meeting, version=2, date="2026-12-10", time="14:30").status_code == 200
    )
    stale = move(org.member_a, meeting, version=2, date="2026-12-11")
    assert stale.status_code == 409 and stale.json()["detail"]
    meeting.refresh_from_db()
    assert meeting.start == at(MONDAY + datetime.timedelta(days=3), 14, 30)
    assert meeting.end - meeting.start == datetime.timedelta(minutes=90)


def test_a_drag_moves_a_dated_task_and_respects_scope(org, make_meeting):
    item = task(org.member_a, "Send offer", MONDAY)
    assert move(org.member_a, item, version=1, date="2026-12-08").status_code == 200
    item.refresh_from_db()
    assert (item.due_date, item.due_time) == (MONDAY + datetime.timedelta(days=1), None)
    assert move(org.member_a, item, version=2, date="2026-12-08", time="10:00").status_code == 200
    item.refresh_from_db()
    assert item.due_time == datetime.time(10)

    theirs = make_meeting("Clara's visit", owner=org.member_c, start=at(MONDAY, 11))
    assert move(org.member_a, theirs, version=1, date="2026-12-08").status_code == 404
    assert move(org.member_a, theirs, version=1, date="someday").status_code == 422
    assert Meeting.objects.get(pk=theirs.pk).version == 1


def test_my_day_lists_todays_meetings_i_organise_or_attend(org, make_meeting):
    today = timezone.localdate()
    make_meeting("Mine today", start=at(today, 10))
    make_meeting(
        "Invited today", owner=org.member_b, start=at(today, 12), attendee_ids=[org.member_a.pk]
    )
    make_meeting(
        "Daily sync", start=at(today - datetime.timedelta(days=3), 8), recurrence="FREQ=DAILY"
    )
    make_meeting("Tomorrow", start=at(today + datetime.timedelta(days=1), 10))
    make_meeting("Boris alone", owner=org.member_b, start=at(today, 15))

    html = browser(org.member_a).get(reverse("activities:my_day")).content.decode()
    section = html.split('data-testid="meetings-today"')[1].split("</section>")[0]
    assert "Meetings today" in html
    assert section.index("Daily sync") < section.index("Mine today") < section.index("Invited")
    assert "Tomorrow" not in section and "Boris alone" not in section


def test_the_menu_offers_the_calendar(org):
    html = browser(org.member_a).get(reverse("activities:my_day")).content.decode()
    assert f'href="{reverse("calendar:calendar")}"' in html
