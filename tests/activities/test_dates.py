"""Clients' important dates: a daily sweep notifies owners ahead; My day shows today's."""

import datetime

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kontor.activities import communication, dates
from kontor.activities.models import Notification
from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core import timers
from kontor.core.models import Timer

from ..utils.clients import browser

pytestmark = pytest.mark.django_db


def years_ago(day: datetime.date, years: int) -> str:
    return day.replace(year=day.year - years).isoformat()


def sweep_timer() -> Timer:
    return Timer.objects.get(kind=dates.DATES_TIMER, object_type=timers.STANDING)


def test_the_daily_sweep_notifies_each_owner_ahead_exactly_once(org, settings):
    settings.KONTOR_DATE_REMINDER_DAYS = 3
    today = timezone.localdate()
    ahead = today + datetime.timedelta(days=3)
    if (ahead.month, ahead.day) == (2, 29):
        pytest.skip("a leap day ahead: covered by the leap-day test")
    anna = contacts.create_person(
        {
            "first_name": "Anna",
            "last_name": "Schmidt",
            "birthday": years_ago(ahead, 40),
            "family": [{"relation": "daughter", "name": "Mia", "birthday": years_ago(ahead, 8)}],
            "important_dates": [{"label": "Wedding anniversary", "date": years_ago(ahead, 12)}],
        },
        actor=org.member_a,
    )
    contacts.create_person(
        {"first_name": "Not", "last_name": "Today", "birthday": years_ago(today, 30)},
        actor=org.member_b,
    )

    timers.keep_standing()
    timers.keep_standing()  # a second dispatcher: still one timer
    assert Timer.objects.filter(kind=dates.DATES_TIMER).count() == 1
    Timer.objects.filter(pk=sweep_timer().pk).update(
        due_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert timers.fire_due() == 1
    assert timers.fire_due() == 0

    notices = Notification.objects.filter(kind=dates.DATE_REMINDER)
    assert {n.recipient for n in notices} == {org.member_a}
    titles = sorted(n.title for n in notices)
    assert len(titles) == 3 and all(t.startswith("In 3 days, ") for t in titles)
    assert any("Birthday of Anna Schmidt" in t for t in titles)
    assert any("Birthday of Mia (daughter of Anna Schmidt)" in t for t in titles)
    assert any("Wedding anniversary: Anna Schmidt" in t for t in titles)
    assert all(n.object_id == anna.pk for n in notices)
    # The next sweep: tomorrow at the reminder hour.
    next_due = timezone.localtime(sweep_timer().due_at)
    assert next_due.date() == today + datetime.timedelta(days=1)
    assert next_due.hour == settings.KONTOR_DATE_REMINDER_HOUR


def test_a_leap_day_is_remembered_on_the_28th_in_a_common_year(org):
    contacts.create_person(
        {"first_name": "Leap", "last_name": "Day", "birthday": "2000-02-29"}, actor=org.member_a
    )
    people = Person.objects.all()
    assert [d.describe() for d in dates.dates_on(datetime.date(2027, 2, 28), people)] == [
        "Birthday of Leap Day"
    ]
    assert dates.dates_on(datetime.date(2028, 2, 28), people) == []
    assert len(dates.dates_on(datetime.date(2028, 2, 29), people)) == 1


def test_a_sweep_missed_for_weeks_does_not_replay_them(org):
    long_ago = timezone.now() - datetime.timedelta(days=30)
    contacts.create_person(
        {
            "first_name": "Old",
            "last_name": "News",
            "birthday": years_ago(timezone.localdate(long_ago) + datetime.timedelta(days=3), 30),
        },
        actor=org.member_a,
    )
    timers.keep_standing()
    Timer.objects.filter(pk=sweep_timer().pk).update(due_at=long_ago)
    assert timers.fire_due() == 1
    assert not Notification.objects.filter(kind=dates.DATE_REMINDER).exists()
    assert sweep_timer().due_at > timezone.now()


def test_my_day_shows_calls_to_make_and_todays_birthdays(org):
    today = timezone.localdate()
    contacts.create_person(
        {"first_name": "Olga", "last_name": "Petrova", "birthday": years_ago(today, 50)},
        actor=org.member_a,
    )
    communication.CALLS.create(
        {"their_number": "+49 30 1234567", "outcome": "planned", "summary": "Ask about the order"},
        actor=org.member_a,
    )
    communication.CALLS.create(
        {
            "their_number": "+49 30 7654321",
            "outcome": "planned",
            "started_at": timezone.now() + datetime.timedelta(days=2),
        },
        actor=org.member_a,
    )
    page = browser(org.member_a).get("/my-day/").content.decode()
    assert "Calls to make" in page and "Ask about the order" in page
    assert "+49307654321" not in page  # planned for later
    assert "Birthday of Olga Petrova" in page
    other = browser(org.member_c).get("/my-day/").content.decode()
    assert "Olga Petrova" not in other and "Calls to make" not in other


def test_my_day_finds_each_kind_of_date_in_one_read_and_only_the_readers_people(org):
    today = timezone.localdate()
    if (today.month, today.day) == (2, 29):
        pytest.skip("a leap day: covered by the leap-day test")
    contacts.create_person(
        {
            "first_name": "Karl",
            "last_name": "Busch",
            "birthday": years_ago(today - datetime.timedelta(days=1), 50),
            "family": [{"relation": "son", "name": "Ben", "birthday": years_ago(today, 9)}],
        },
        actor=org.member_a,
    )
    contacts.create_person(
        {
            "first_name": "Lena",
            "last_name": "Vogel",
            "important_dates": [{"label": "Company founded", "date": years_ago(today, 20)}],
        },
        actor=org.member_a,
    )
    contacts.create_person(
        {"first_name": "Quiet", "last_name": "Day", "birthday": years_ago(today, 33)},
        actor=org.member_b,  # not the reader's client
    )
    page = browser(org.member_a).get("/my-day/").content.decode()
    assert "Birthday of Ben (son of Karl Busch)" in page
    assert "Company founded: Lena Vogel" in page
    assert "Birthday of Karl Busch" not in page and "Quiet Day" not in page
    assert [d.describe() for d in dates.dates_on(today, Person.objects.all())] == [
        "Birthday of Quiet Day",
        "Birthday of Ben (son of Karl Busch)",
        "Company founded: Lena Vogel",
    ]


def test_the_days_ahead_are_one_read_across_the_years_end_each_on_its_day(org):
    """30 December to 5 January: a client's birthday, a family member's, a kept date and
    a leap-day birthday in February outside; another owner's client is left out."""
    first, last = datetime.date(2026, 12, 30), datetime.date(2027, 1, 5)
    anna = contacts.create_person(
        {
            "first_name": "Anna",
            "last_name": "Berg",
            "birthday": "1980-01-02",
            "family": [{"relation": "son", "name": "Tom", "birthday": "2010-12-31"}],
            "important_dates": [{"label": "Founded", "date": "1999-12-30"}],
        },
        actor=org.member_a,
    )
    contacts.create_person(
        {"first_name": "Leap", "last_name": "Day", "birthday": "2000-02-29"}, actor=org.member_a
    )
    contacts.create_person(
        {"first_name": "Other", "last_name": "Owner", "birthday": "1970-01-01"},
        actor=org.member_b,
    )
    people = Person.objects.all()
    found = dates.dates_between(first, last, people, owner=org.member_a)
    assert [(d.day, d.describe()) for d in found] == [
        (datetime.date(2026, 12, 30), "Founded: Anna Berg"),
        (datetime.date(2026, 12, 31), "Birthday of Tom (son of Anna Berg)"),
        (datetime.date(2027, 1, 2), "Birthday of Anna Berg"),
    ]
    assert all(d.person == anna for d in found)
    everyone = dates.dates_between(first, last, people)
    assert [(d.day.day, d.person.first_name) for d in everyone] == [
        (30, "Anna"),
        (31, "Anna"),
        (1, "Other"),
        (2, "Anna"),
    ]
    # A common year's 28 February closes a range with the leap day.
    leap = dates.dates_between(datetime.date(2027, 2, 20), datetime.date(2027, 2, 28), people)
    assert [(d.day, d.person.first_name) for d in leap] == [(datetime.date(2027, 2, 28), "Leap")]
    assert dates.dates_between(datetime.date(2028, 2, 20), datetime.date(2028, 2, 28), people) == []


def test_the_days_ahead_are_read_through_the_indexes_on_month_and_day(org):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the query plan read is SQLite's")
    contacts.create_person({"first_name": "Anna", "birthday": "1980-01-02"}, actor=org.member_a)
    with CaptureQueriesContext(connection) as captured:
        dates.dates_between(
            datetime.date(2026, 12, 30),
            datetime.date(2027, 1, 5),
            Person.objects.all(),
            owner=org.member_a,
        )
    assert len(captured.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + captured.captured_queries[0]["sql"])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "SCAN" not in plan, plan
    for index in ("person_owner_birthday_day", "family_member_birthday_day", "important_date_day"):
        assert index in plan, plan
