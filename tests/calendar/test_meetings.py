"""A meeting's own rules: times, participants as the writer may see them, repeat rules,
and its reminder timer (moved with the meeting, gone with it, repeating with it)."""

import datetime

import pytest
from django.utils import timezone

from kontor.activities.models import Notification
from kontor.calendar import reminders, services
from kontor.calendar.models import Meeting
from kontor.contacts import services as contacts
from kontor.core import timers
from kontor.core.access import SYSTEM
from kontor.core.errors import ValidationFailed
from kontor.core.models import AuditEntry, Timer

from ..utils.clients import Api
from .conftest import at

pytestmark = pytest.mark.django_db


def person(owner, last_name):
    return contacts.create_person(
        {"first_name": "Ivan", "last_name": last_name, "owner_id": owner.pk}, actor=SYSTEM
    )


def reminder(meeting):
    return Timer.objects.filter(
        kind=reminders.MEETING_REMINDER, object_type="calendar.meeting", object_id=meeting.pk
    ).first()


def errors_of(call) -> dict:
    with pytest.raises(ValidationFailed) as failed:
        call()
    return failed.value.errors


def test_the_end_must_come_after_the_start(org, make_meeting):
    start = at(timezone.localdate(), 10)
    errors = errors_of(
        lambda: services.create_meeting(
            {"title": "Backwards", "start": start, "end": start}, actor=org.member_a
        )
    )
    assert errors == {"end": ["The end must be after the start."]}
    missing = errors_of(lambda: services.create_meeting({"title": "When?"}, actor=org.member_a))
    assert set(missing) == {"start", "end"}


def test_an_all_day_meeting_keeps_whole_days(org, make_meeting):
    day = timezone.localdate()
    meeting = make_meeting(start=at(day, 15), minutes=30, all_day=True)
    assert (meeting.start, meeting.end) == (at(day, 0), at(day + datetime.timedelta(days=1), 0))
    # Saved again as it is, it stays the same day.
    again = services.update_meeting(meeting, {"place": "Hall"}, actor=SYSTEM)
    assert (again.start, again.end) == (meeting.start, meeting.end)


def test_a_repeat_rule_is_checked_and_kept_as_text(org, make_meeting):
    meeting = make_meeting(recurrence="rrule:freq=weekly;byday=mo")
    assert meeting.recurrence == "FREQ=WEEKLY;BYDAY=MO"
    errors = errors_of(lambda: make_meeting(recurrence="FREQ=MINUTELY"))
    assert errors == {"recurrence": ["Repeat daily, weekly, monthly or yearly."]}
    assert "recurrence" in errors_of(lambda: make_meeting(recurrence="FREQ=SOMETIMES"))


def test_participants_are_active_users_and_contacts_the_writer_sees(org, make_meeting):
    mine = person(org.member_a, "Visible")
    hidden = person(org.support_member, "Hidden")
    start = at(timezone.localdate(), 11)
    data = {"title": "Offer", "start": start, "end": start + datetime.timedelta(hours=1)}

    errors = errors_of(
        lambda: services.create_meeting(data | {"people_ids": [hidden.pk]}, actor=org.member_a)
    )
    assert errors == {"people_ids": ["Unknown person."]}
    # An id that names nobody gets the same answer as a hidden one.
    assert errors_of(
        lambda: services.create_meeting(data | {"people_ids": [987654]}, actor=org.member_a)
    ) == {"people_ids": ["Unknown person."]}
    assert errors_of(
        lambda: services.create_meeting(data | {"attendee_ids": [987654]}, actor=org.member_a)
    ) == {"attendee_ids": ["Unknown user."]}

    meeting = services.create_meeting(
        data | {"people_ids": [mine.pk], "attendee_ids": [org.member_b.pk]}, actor=org.member_a
    )
    assert list(meeting.people.all()) == [mine]
    assert list(meeting.attendees.all()) == [org.member_b]
    assert Meeting.objects.filter(attendees=org.member_b, people=mine).exists()


def test_contacts_the_editor_cannot_see_stay_on_the_meeting_and_out_of_their_view(
    org, make_meeting
):
    seen = person(org.member_a, "Seen")
    secret = person(org.support_member, "Secret")  # Support's: team 1 does not see it
    meeting = make_meeting(people_ids=[seen.pk, secret.pk])

    api = Api(org.member_a)
    shown = api.get(f"/meetings/{meeting.pk}").json()
    assert [p["id"] for p in shown["people"]] == [seen.pk]
    assert str(secret.pk) not in str(shown["people"])

    changed = api.patch(f"/meetings/{meeting.pk}", {"people_ids": [], "version": meeting.version})
    assert changed.status_code == 200, changed.content
    assert changed.json()["people"] == []
    on_it = Meeting.people.through.objects.filter(meeting_id=meeting.pk)
    assert [row.person_id for row in on_it] == [secret.pk]
    # The history records the change of the list by ids, never the hidden one's name.
    entry = AuditEntry.objects.for_object(meeting).order_by("-id").first()
    assert entry.changes["people"] == [
        sorted([seen.pk, secret.pk]),
        [secret.pk],
    ]


def test_the_reminder_moves_with_the_meeting_and_goes_with_it(org, make_meeting):
    meeting = make_meeting(remind_minutes=15)
    assert reminder(meeting).due_at == meeting.start - datetime.timedelta(minutes=15)

    later = meeting.start + datetime.timedelta(days=1)
    moved = services.move_meeting(meeting, later, actor=org.member_a, expected_version=1)
    assert moved.end - moved.start == datetime.timedelta(hours=1)
    assert reminder(moved).due_at == later - datetime.timedelta(minutes=15)

    services.update_meeting(moved, {"remind_minutes": None}, actor=org.member_a)
    assert reminder(moved) is None
    services.update_meeting(moved, {"remind_minutes": 5}, actor=org.member_a)
    assert reminder(moved) is not None
    services.delete_meeting(moved, actor=org.sales_head)
    assert reminder(moved) is None


def test_a_due_reminder_notifies_the_organiser_and_the_participants_once(org, make_meeting):
    start = timezone.now() + datetime.timedelta(minutes=5)
    meeting = make_meeting(
        "Board call", start=start, remind_minutes=10, attendee_ids=[org.member_b.pk]
    )
    assert timers.fire_due() == 1
    assert timers.fire_due() == 0
    notices = Notification.objects.filter(kind="meeting.reminder").order_by("recipient_id")
    assert [n.recipient for n in notices] == [org.member_a, org.member_b]
    assert all("Board call" in n.title for n in notices)
    # A single meeting is reminded of once: the timer is done.
    assert reminder(meeting).status == Timer.Status.FIRED


def test_a_recurring_meetings_reminder_comes_back_for_the_next_occurrence(org, make_meeting):
    start = timezone.now() + datetime.timedelta(minutes=5)
    start = start.replace(second=0, microsecond=0)
    meeting = make_meeting(
        "Stand-up", start=start, minutes=15, remind_minutes=10, recurrence="FREQ=DAILY"
    )
    first_due = reminder(meeting).due_at
    assert first_due == start - datetime.timedelta(minutes=10)
    assert timers.fire_due() == 1
    timer = reminder(meeting)
    assert timer.status == Timer.Status.PENDING
    assert timezone.localtime(timer.due_at) == timezone.localtime(first_due) + datetime.timedelta(
        days=1
    )
    assert Notification.objects.filter(recipient=org.member_a).count() == 1
