"""Every write of meetings: through the engine's one path (``kontor.core.services``).

Participants replace their whole list when given (``attendee_ids``, ``people_ids``). A
contact must be one the writer may see ("Unknown person." otherwise, as for an id that
names nothing); contacts already on the meeting that the writer cannot see stay on it.
The reminder timer is kept in step in the write's transaction.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.contacts.models import Person
from kontor.core import bulk, recurrence, timeline
from kontor.core import services as records
from kontor.core.inputs import as_db_id, as_moment

from . import reminders
from .models import Meeting

# Input fields taken as given (the model's validation checks them further).
MEETING_FIELDS = (
    "title",
    "description",
    "start",
    "end",
    "all_day",
    "place",
    "recurrence",
    "remind_minutes",
)
_TEXT_FIELDS = ("title", "description", "place")
_MOMENTS = ("start", "end")
MAX_REMIND_MINUTES = 4 * 7 * 24 * 60  # four weeks
MAX_PARTICIPANTS = 200
_SCHEDULE = ("start", "end", "recurrence", "remind_minutes")


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _minutes(value, errors: records.FieldErrors):
    if value in (None, ""):
        return None
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 0 <= number <= MAX_REMIND_MINUTES:
        errors.add(
            "remind_minutes",
            _("Enter a number of minutes from 0 to %(max)d.") % {"max": MAX_REMIND_MINUTES},
        )
        return None
    return number


def _whole_days(meeting: Meeting) -> None:
    """An all-day meeting from midnight of its first day to midnight after its last."""
    first = timezone.localtime(meeting.start).date()
    local_end = timezone.localtime(meeting.end)
    last = local_end.date()
    if local_end.time() == datetime.time(0) and last > first:
        last -= datetime.timedelta(days=1)
    meeting.start = _midnight(first)
    meeting.end = _midnight(last + datetime.timedelta(days=1))


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(0)))


def _apply_fields(meeting: Meeting, data: dict, errors: records.FieldErrors) -> None:
    for field in MEETING_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in _TEXT_FIELDS:
            value = "" if value is None else str(value).strip()
        elif field in _MOMENTS:
            value = as_moment(value)
            if value is None:
                errors.add(field, _("Enter a date and time."))
                continue
        elif field == "all_day":
            value = _flag(value)
        elif field == "recurrence":
            value = recurrence.normalise(value or "")
        elif field == "remind_minutes":
            value = _minutes(value, errors)
            if "remind_minutes" in errors.by_field:
                continue
        setattr(meeting, field, value)
    if not meeting.title:
        errors.add("title", _("This field is required."))
    for field in _MOMENTS:
        if getattr(meeting, field) is None and field not in errors.by_field:
            errors.add(field, _("Enter a date and time."))
    if meeting.start is None or meeting.end is None:
        return
    if meeting.all_day:
        _whole_days(meeting)
    if meeting.end <= meeting.start and "end" not in errors.by_field:
        errors.add("end", _("The end must be after the start."))
    if meeting.recurrence:
        try:
            recurrence.parse(meeting.recurrence, timezone.localtime(meeting.start))
        except ValidationError as exc:
            errors.add("recurrence", exc.messages[0])


def _ids(data: dict, key: str, errors: records.FieldErrors, unknown: str) -> set[int] | None:
    """The ids given under ``key`` (None: not given), or an error naming the key."""
    if key not in data:
        return None
    raw = data[key]
    if raw in (None, ""):
        return set()
    if isinstance(raw, str | int):
        raw = [raw]
    ids = {as_db_id(value) for value in raw}
    if None in ids:
        errors.add(key, unknown)
        return set()
    if len(ids) > MAX_PARTICIPANTS:
        errors.add(key, _("At most %(max)d at a time.") % {"max": MAX_PARTICIPANTS})
        return set()
    return ids


def _participants(meeting: Meeting, data: dict, actor, errors: records.FieldErrors) -> dict:
    """The participant lists to write: users that exist and are active, contacts the
    actor may see (plus those already on the meeting the actor cannot)."""
    chosen = {}
    users = _ids(data, "attendee_ids", errors, _("Unknown user."))
    if users:
        found = set(
            get_user_model()
            .objects.filter(pk__in=users, is_active=True)
            .values_list("pk", flat=True)
        )
        if found != users:
            errors.add("attendee_ids", _("Unknown user."))
    if users is not None:
        chosen["attendees"] = users
    people = _ids(data, "people_ids", errors, _("Unknown person."))
    if people is not None:
        visible = set(
            Person.objects.visible_to(actor).filter(pk__in=people).values_list("pk", flat=True)
        )
        if visible != people:
            errors.add("people_ids", _("Unknown person."))
        if meeting.pk is not None:
            on_it = set(
                meeting.people.through.objects.filter(meeting_id=meeting.pk).values_list(
                    "person_id", flat=True
                )
            )
            seen = set(
                Person.objects.visible_to(actor).filter(pk__in=on_it).values_list("pk", flat=True)
            )
            people |= on_it - seen
        chosen["people"] = people
    return chosen


def _add_model_errors(meeting: Meeting, errors: records.FieldErrors) -> None:
    found = records.field_errors(meeting, exclude=["owner", "department"], validate_unique=False)
    for field, messages in found.items():
        if field not in errors.by_field:
            for message in messages:
                errors.add(field, message)


def _links(data: dict, actor, chosen: dict, errors: records.FieldErrors) -> list | None:
    """The records the meeting is about beyond its participants (``links``, as every
    timeline entry takes them); a person among them joins the participants."""
    links = timeline.read_links(data, actor, errors)
    if links is None:
        return None
    people = {r.pk for r in links if isinstance(r, Person)}
    if people:
        chosen["people"] = chosen.get("people", set()) | people
    return [r for r in links if not isinstance(r, Person)]


def _saver(chosen: dict, links: list | None):
    def save_related(meeting: Meeting) -> None:
        for name, ids in chosen.items():
            getattr(meeting, name).set(ids)
        # On the timelines of its participants (and their companies) and of what it is
        # about; links not given stay as they were.
        others = (
            [r for r in timeline.direct_subjects(meeting) if not isinstance(r, Person)]
            if links is None
            else links
        )
        timeline.set_links(meeting, [*meeting.people.all(), *others])

    return save_related


def create_meeting(data: dict, *, actor) -> Meeting:
    meeting = Meeting()
    errors = records.FieldErrors()
    _apply_fields(meeting, data, errors)
    records.place_new(meeting, data, actor, errors)
    chosen = _participants(meeting, data, actor, errors)
    links = _links(data, actor, chosen, errors)
    records.apply_custom_values(meeting, data, actor, errors)
    _add_model_errors(meeting, errors)
    errors.raise_if_any()
    with transaction.atomic():
        meeting = records.create_record(meeting, actor=actor, save_related=_saver(chosen, links))
        reminders.sync_meeting_reminder(meeting)
    return meeting


def update_meeting(meeting: Meeting, data: dict, *, actor, expected_version=None) -> Meeting:
    before = {}
    chosen = {}
    links = []

    def apply(target):
        before.update({field: getattr(target, field) for field in _SCHEDULE})
        errors = records.FieldErrors()
        _apply_fields(target, data, errors)
        records.place_edited(target, data, actor, errors)
        chosen.update(_participants(target, data, actor, errors))
        links.append(_links(data, actor, chosen, errors))
        records.apply_custom_values(target, data, actor, errors)
        _add_model_errors(target, errors)
        errors.raise_if_any()

    with transaction.atomic():
        meeting = records.update_record(
            meeting,
            apply,
            actor=actor,
            expected_version=expected_version,
            save_related=lambda m: _saver(chosen, links[0])(m),
        )
        if any(getattr(meeting, field) != before[field] for field in _SCHEDULE):
            reminders.sync_meeting_reminder(meeting)
    return meeting


def move_meeting(meeting: Meeting, start: datetime.datetime, *, actor, expected_version) -> Meeting:
    """Reschedule to ``start``, keeping the duration (the calendar's drag and drop)."""
    end = start + meeting.duration
    return update_meeting(
        meeting, {"start": start, "end": end}, actor=actor, expected_version=expected_version
    )


def delete_meeting(meeting: Meeting, *, actor, expected_version=None) -> None:
    # The reminder timer goes with it (core.services.delete_record).
    records.delete_record(meeting, actor=actor, expected_version=expected_version)


class MeetingImporter(bulk.Importer):
    """A meeting's row in a bulk import: the cleaning of a single write, its contacts
    (``people_ids``, each one the importer may see) written with it. Without reminders
    or user participants: those are a single write's."""

    related = ("people",)

    def start_batch(self, rows: list[dict]) -> None:
        wanted = {pk for row in rows for pk in row.get("people_ids") or ()}
        self.people = set(
            Person.objects.visible_to(self.actor).filter(pk__in=wanted).values_list("pk", flat=True)
        )

    def clean(self, obj, data, errors):
        _apply_fields(obj, {k: v for k, v in data.items() if k != "remind_minutes"}, errors)
        people = list(dict.fromkeys(data.get("people_ids") or ()))
        if any(pk not in self.people for pk in people):
            errors.add("people_ids", _("Unknown person."))
        return {"people": [Person(pk=pk) for pk in people]}
