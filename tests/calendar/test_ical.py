"""iCalendar: the private feed (made, shown once, reset, revoked) and a meeting's .ics,
read back by two independent parsers (icalendar and vobject) with their recurrence and
time zones intact."""

import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr
from django.urls import reverse

from kontor.accounts import services as accounts
from kontor.activities import services as tasks
from kontor.calendar import feeds
from kontor.core.access import SYSTEM

from ..utils.clients import browser
from .conftest import at

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# The Monday before summer time ends in Berlin (2026-10-25), at 09:00 local.
BEFORE_THE_CHANGE = datetime.date(2026, 10, 19)


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


def feed_url(user) -> str:
    page = browser(user).post(reverse("calendar:feed_settings"))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    url = re.search(r'value="(http[^"]+\.ics)"', page.content.decode()).group(1)
    assert url.startswith("http://testserver/calendar/feed/")
    return url.removeprefix("http://testserver")


def events_by_uid(data: bytes) -> dict:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_is_private_shown_once_and_reset_at_once(client, org, make_meeting):
    make_meeting("Planning")
    url = feed_url(org.member_a)
    assert client.get(url).status_code == 200
    # The page shows no address afterwards: only its hash is kept.
    later = browser(org.member_a).get(reverse("calendar:feed_settings")).content.decode()
    assert url not in later and "Reset the address" in later

    new_url = feed_url(org.member_a)
    assert client.get(url).status_code == 404
    assert client.get(new_url).status_code == 200
    assert client.get("/calendar/feed/not-a-secret.ics").status_code == 404

    browser(org.member_a).post(reverse("calendar:feed_revoke"))
    assert client.get(new_url).status_code == 404

    third = feed_url(org.member_a)
    accounts.deactivate_user(org.member_a, actor=SYSTEM)
    assert client.get(third).status_code == 404


def test_the_feed_follows_its_owners_department_switch(client, org, make_meeting):
    from kontor.modules import services as switches
    from kontor.modules.services import Change

    make_meeting("Planning")
    theirs, mine = feed_url(org.support_member), feed_url(org.member_a)
    off = Change("tasks", org.dept.support.pk, False)
    switches.apply([off], actor=org.admin)
    assert client.get(theirs).status_code == 404
    assert client.get(mine).status_code == 200
    switches.apply([Change("tasks", org.dept.support.pk, None)], actor=org.admin)
    assert client.get(theirs).status_code == 200


def test_the_feed_holds_what_the_user_may_see_of_their_own_calendar(client, org, make_meeting):
    mine = make_meeting("Mine")
    invited = make_meeting("Invited", owner=org.member_b, attendee_ids=[org.member_a.pk])
    hidden = make_meeting("Clara's", owner=org.member_c, attendee_ids=[org.member_a.pk])
    make_meeting("Boris alone", owner=org.member_b)
    due = tasks.create_task(
        {"title": "Send offer", "due_date": datetime.date(2026, 12, 10)}, actor=org.member_a
    )
    tasks.create_task({"title": "Undated"}, actor=org.member_a)

    answer = client.get(feed_url(org.member_a))
    assert answer["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_by_uid(answer.content)
    host = "127.0.0.1"
    assert set(events) == {
        f"meeting-{mine.pk}@{host}",
        f"meeting-{invited.pk}@{host}",
        f"task-{due.pk}@{host}",
    }
    assert f"meeting-{hidden.pk}@{host}" not in events
    event = events[f"meeting-{mine.pk}@{host}"]
    assert event["DTSTAMP"].dt == mine.updated_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == mine.updated_at.replace(microsecond=0)
    assert str(event["URL"]).endswith(f"/meetings/{mine.pk}/")
    assert events[f"task-{due.pk}@{host}"]["DTSTART"].dt == datetime.date(2026, 12, 10)
    # The UID stays the same from one fetch to the next.
    assert set(events_by_uid(client.get(feed_url(org.member_a)).content)) == set(events)


def test_a_weekly_berlin_meeting_keeps_nine_oclock_across_the_change_in_both_parsers(
    berlin, client, org, make_meeting
):
    meeting = make_meeting(
        "Monday review", start=at(BEFORE_THE_CHANGE, 9), recurrence="FREQ=WEEKLY;COUNT=4"
    )
    data = client.get(feed_url(org.member_a)).content
    text = data.decode()
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Berlin" in text
    assert "DTSTART;TZID=Europe/Berlin:20261019T090000" in text
    assert "RRULE:FREQ=WEEKLY;COUNT=4" in text

    # icalendar reads the start and the rule; dateutil expands them.
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    start = event["DTSTART"].dt
    assert start == meeting.start  # the same instant
    rule = event["RRULE"].to_ical().decode()
    assert rule == meeting.recurrence
    by_icalendar = list(rrulestr(rule, dtstart=start))

    # vobject reads the same file on its own, and expands the rule itself.
    parsed = vobject.readOne(text)
    (vevent,) = parsed.vevent_list
    assert vevent.dtstart.value == meeting.start
    by_vobject = list(vevent.getrruleset(addRDate=True))

    for occurrences in (by_icalendar, by_vobject):
        local = [moment.astimezone(BERLIN) for moment in occurrences]
        assert [m.date() for m in local] == [
            BEFORE_THE_CHANGE + datetime.timedelta(weeks=n) for n in range(4)
        ]
        assert {m.time() for m in local} == {datetime.time(9)}
        offsets = [m.utcoffset() for m in local]
        assert offsets[0] == datetime.timedelta(hours=2)
        assert offsets[1:] == [datetime.timedelta(hours=1)] * 3


def test_a_meeting_exports_as_ics_to_who_may_see_it(berlin, org, make_meeting):
    meeting = make_meeting("Offer talk", place="Room 2", description="Prices")
    answer = browser(org.member_b).get(reverse("calendar:meeting_ics", args=[meeting.pk]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
    parsed = vobject.readOne(answer.content.decode())
    assert parsed.vevent.summary.value == "Offer talk"
    assert parsed.vevent.location.value == "Room 2"
    assert parsed.vevent.dtstart.value == meeting.start
    assert parsed.vevent.dtend.value == meeting.end
    assert parsed.vtimezone.tzid.value == "Europe/Berlin"

    outsider = browser(org.member_c).get(reverse("calendar:meeting_ics", args=[meeting.pk]))
    assert outsider.status_code == 404
    detail = browser(org.member_b).get(reverse("calendar:meeting_detail", args=[meeting.pk]))
    assert reverse("calendar:meeting_ics", args=[meeting.pk]) in detail.content.decode()


def test_an_all_day_meeting_exports_as_dates(org, make_meeting):
    meeting = make_meeting(
        "Fair", start=at(datetime.date(2026, 12, 10), 0), all_day=True, minutes=60 * 48
    )
    (event,) = icalendar.Calendar.from_ical(feeds.meeting_file(meeting)).walk("VEVENT")
    assert event["DTSTART"].dt == datetime.date(2026, 12, 10)
    assert event["DTEND"].dt == datetime.date(2026, 12, 12)
