"""A meeting's reminder: one timer per meeting, N minutes before its (next) start.

The timer moves with the meeting and goes with it (``core.services.delete_record``
cancels a deleted record's timers). For a recurring meeting the firing returns the
next occurrence's moment, so one timer reminds of every occurrence in turn.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kontor.activities import notifications
from kontor.core import recurrence, timers

from .models import Meeting

MEETING_REMINDER = "calendar.meeting_reminder"


def next_occurrence(meeting: Meeting, after: datetime.datetime) -> datetime.datetime | None:
    """The meeting's first start strictly after ``after`` (its only one, if it repeats not)."""
    if not meeting.recurrence:
        return meeting.start if meeting.start > after else None
    start = timezone.localtime(meeting.start)
    return recurrence.next_after(meeting.recurrence, start, timezone.localtime(after))


def _lead(meeting: Meeting) -> datetime.timedelta:
    return datetime.timedelta(minutes=meeting.remind_minutes or 0)


def sync_meeting_reminder(meeting: Meeting) -> None:
    """Set, move or cancel the reminder in the meeting's write's transaction: due N
    minutes before the next start still ahead (at once if that is less than N away)."""
    if meeting.remind_minutes is None:
        timers.cancel(meeting, kind=MEETING_REMINDER)
        return
    lead = _lead(meeting)
    upcoming = next_occurrence(meeting, timezone.now())
    if upcoming is None:
        timers.cancel(meeting, kind=MEETING_REMINDER)
    else:
        timers.schedule(MEETING_REMINDER, meeting, upcoming - lead)


def remind_of_meeting(timer) -> datetime.datetime | None:
    """The timer's handler: the organiser and the participant users are notified of the
    occurrence starting ``remind_minutes`` after the timer's moment; answers the next
    occurrence's reminder moment (a recurring meeting) or None."""
    meeting = Meeting.objects.select_related("owner").filter(pk=timer.object_id).first()
    if meeting is None or meeting.remind_minutes is None:
        return None
    lead = _lead(meeting)
    starts = timer.due_at + lead
    recipients = {meeting.owner_id: meeting.owner} if meeting.owner else {}
    for user in get_user_model().objects.filter(attended_meetings=meeting):
        recipients.setdefault(user.pk, user)
    for user in recipients.values():
        with translation.override(user.language or settings.LANGUAGE_CODE):
            title = _("Meeting at %(time)s: %(meeting)s") % {
                "time": formats.date_format(timezone.localtime(starts), "SHORT_DATETIME_FORMAT"),
                "meeting": meeting.title,
            }
        notifications.notify(user, "meeting.reminder", title, about=meeting)
    # A worker that ran late does not remind of occurrences already begun, one by one.
    upcoming = next_occurrence(meeting, max(starts, timezone.now()))
    return upcoming - lead if upcoming is not None and meeting.recurrence else None
