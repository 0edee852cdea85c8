"""The API's schemas of meetings and of the calendar's items."""

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import DbInt, PlacedIn, Ref, VersionedIn, ref

from .models import Meeting

MOMENT = "ISO 8601; without an offset: the company's time zone"
RRULE = "An RFC 5545 RRULE (FREQ=WEEKLY;BYDAY=MO), daily to yearly; empty: no repeat"
REMIND = "Minutes before each start when the organiser and participants are reminded"


class MeetingIn(PlacedIn):
    title: str
    description: str = ""
    start: datetime.datetime = Field(description=MOMENT)
    end: datetime.datetime = Field(description=f"After the start; {MOMENT}")
    all_day: bool = Field(False, description="Whole days: start and end become midnights")
    place: str = ""
    recurrence: str = Field("", description=RRULE)
    remind_minutes: DbInt | None = Field(None, description=REMIND)
    attendee_ids: list[DbInt] = Field([], description="Participant users")
    people_ids: list[DbInt] = Field([], description="Participant contacts (people you see)")
    owner_id: DbInt | None = Field(None, description="The organiser; defaults to you")


class MeetingPatch(PlacedIn, VersionedIn):
    title: str = ""
    description: str = ""
    start: datetime.datetime | None = Field(None, description=MOMENT)
    end: datetime.datetime | None = Field(None, description=MOMENT)
    all_day: bool = False
    place: str = ""
    recurrence: str = Field("", description=RRULE)
    remind_minutes: DbInt | None = Field(None, description=REMIND)
    attendee_ids: list[DbInt] = Field([], description="Replaces the participant users")
    people_ids: list[DbInt] = Field([], description="Replaces the contacts you see")
    owner_id: DbInt | None = Field(None, description="The organiser")


class MeetingOut(Schema):
    id: int
    title: str
    description: str
    start: datetime.datetime
    end: datetime.datetime
    all_day: bool
    place: str
    recurrence: str = Field(description=RRULE)
    remind_minutes: int | None = Field(description=REMIND)
    attendees: list[Ref] = Field(description="Participant users")
    people: list[Ref] = Field(description="Participant contacts you may see")
    owner: Ref | None = Field(description="The organiser")
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def meeting_out(meeting: Meeting) -> dict:
    """``meeting`` as read by ``MEETING.base_queryset``: ``people`` prefetched as the
    reader may see them."""
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "description": meeting.description,
        "start": meeting.start,
        "end": meeting.end,
        "all_day": meeting.all_day,
        "place": meeting.place,
        "recurrence": meeting.recurrence,
        "remind_minutes": meeting.remind_minutes,
        "attendees": [ref(user) for user in meeting.attendees.all()],
        "people": [ref(person) for person in meeting.people.all()],
        "owner": ref(meeting.owner),
        "department": ref(meeting.department),
        "version": meeting.version,
        "created_at": meeting.created_at,
        "updated_at": meeting.updated_at,
    }


class CalendarItem(Schema):
    type: Literal["meeting", "task"]
    id: int
    title: str
    start: datetime.datetime
    end: datetime.datetime
    all_day: bool
    url: str = Field(description="The record's page")
    occurrence: datetime.datetime | None = Field(
        description="For a recurring meeting: this occurrence's start (the series' id is id)"
    )
    version: int = Field(description="The record's version, for a reschedule")
