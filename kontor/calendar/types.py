"""Meetings on the engine: list, detail, forms, API, export, search, audit come from it."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.contacts.models import Person
from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    RecordType,
    Timeline,
    Verbs,
)

from . import schemas, services
from .models import Meeting


def _when(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.start)
    if meeting.all_day:
        return formats.date_format(start, "SHORT_DATE_FORMAT")
    return formats.date_format(start, "SHORT_DATETIME_FORMAT")


class MeetingType(RecordType):
    model = Meeting
    verbs = Verbs(services.create_meeting, services.update_meeting, services.delete_meeting)
    name = "meeting"
    path = "meetings"
    namespace = "calendar"
    singular = _("meeting")
    plural = _("meetings")
    # On the timelines of its participants (and their companies) at its start.
    timeline = Timeline(
        "start",
        "calendar/_meeting_entry.html",
        quick_template="calendar/_meeting_quick.html",
        label=_("Meetings"),
    )
    sorts = {
        "start": ("start", "id"),
        "-start": ("-start", "-id"),
        "name": ("title", "id"),
        "-name": ("-title", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    default_sort = "-start"
    profile_template = "calendar/_meeting_profile.html"
    subtitle_template = "calendar/_meeting_subtitle.html"
    form_template = "calendar/_meeting_fields.html"
    owner_label = _("Organiser")
    mine_label = _("Organised by me")
    hidden_name = _("a meeting you cannot see")
    unknown_text = _("Unknown meeting.")
    new_label = _("New meeting")
    search_placeholder = _("Search meetings…")
    empty_title = _("No meetings yet")
    first_label = _("Add the first meeting")
    empty_text = _("Plan a meeting with colleagues and clients, with a reminder.")
    search = {"label": _("Meetings"), "ordering": ("title", "id"), "code": 4}

    def importer(self, actor):
        return services.MeetingImporter(self, actor)

    def import_links(self, row: dict) -> list:
        # Its contacts are what it is about, as in a single write.
        people = [f"person:{pk}" for pk in row.get("people_ids") or ()]
        return [*super().import_links(row), *people]

    search_description = "Title, place, description"
    out_schema = schemas.MeetingOut
    create_schema = schemas.MeetingIn
    patch_schema = schemas.MeetingPatch

    @property
    def form_class(self):
        from .forms import MeetingForm

        return MeetingForm

    @property
    def columns(self):
        return (
            Column("title", pgettext_lazy("meeting", "Title"), CellKind.TITLE, str, sort="name"),
            Column("start", _("Start"), CellKind.TEXT, _when, sort="start"),
            Column("place", _("Place"), CellKind.TEXT, lambda m: m.place),
            Column("owner", _("Organiser"), CellKind.TEXT, lambda m: m.owner or ""),
            Column("updated", _("Updated"), CellKind.DATE, lambda m: m.updated_at, "updated"),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda m, extra: m.pk),
        ExportColumn(pgettext_lazy("meeting", "Title"), lambda m, extra: m.title),
        ExportColumn(_("Description"), lambda m, extra: m.description),
        ExportColumn(_("Start"), lambda m, extra: m.start),
        ExportColumn(_("End"), lambda m, extra: m.end),
        ExportColumn(_("All day"), lambda m, extra: m.all_day),
        ExportColumn(_("Place"), lambda m, extra: m.place),
        ExportColumn(_("Repeat rule"), lambda m, extra: m.recurrence),
        ExportColumn(_("Organiser"), lambda m, extra: str(m.owner or "")),
        ExportColumn(_("Department"), lambda m, extra: str(m.department or "")),
        ExportColumn(_("Created"), lambda m, extra: m.created_at),
    )

    def base_queryset(self, user, action, *, sorted_page=False):
        """With the participants: users, and only the contacts ``user`` may see."""
        qs = super().base_queryset(user, action, sorted_page=sorted_page)
        return qs.prefetch_related(
            "attendees", Prefetch("people", queryset=Person.objects.visible_to(user))
        )

    def row_subtitle(self, obj):
        return obj.place

    def to_out(self, obj) -> dict:
        return schemas.meeting_out(obj)


MEETING = MeetingType()
