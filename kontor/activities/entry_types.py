"""Notes, calls and emails on the engine, each an entry on the timelines of the records
it is about (``core.timeline``): list, detail, forms, API, export, search, audit come
from the engine."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    Filter,
    FilterKind,
    RecordType,
    Timeline,
    Verbs,
)

from . import communication, entry_schemas
from .models import Call, Direction, EmailMessage, Note


def _choice_filter(name, label, choices, description) -> Filter:
    def options(user):
        return [(value, text.capitalize()) for value, text in choices]

    def apply(qs, user, value):
        return qs.filter(**{name: value})

    return Filter(name, label, FilterKind.CHOICE, apply, options=options, description=description)


_DIRECTION_FILTER = _choice_filter("direction", _("Direction"), Direction.choices, "in, out")


def _sorts(moment: str, name: str = "") -> dict:
    """Newest first by the entry's moment; by name where the type has one."""
    named = {"name": (name, "id"), "-name": (f"-{name}", "-id")} if name else {}
    return {
        "recent": (f"-{moment}", "-id"),
        "oldest": (moment, "id"),
        **named,
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }


def _placement_export() -> tuple:
    return (
        ExportColumn(_("Owner"), lambda r, extra: str(r.owner or "")),
        ExportColumn(_("Department"), lambda r, extra: str(r.department or "")),
        ExportColumn(_("Created"), lambda r, extra: r.created_at),
    )


class EntryType(RecordType):
    namespace = "activities"
    default_sort = "recent"

    entry_verbs: communication.EntryVerbs

    @property
    def verbs(self) -> Verbs:
        return Verbs(self.entry_verbs.create, self.entry_verbs.update, self.entry_verbs.delete)

    def to_out(self, obj) -> dict:
        return self.out(obj)

    def importer(self, actor):
        return self.entry_verbs.importer(self, actor)


class NoteType(EntryType):
    model = Note
    entry_verbs = communication.NOTES
    name = "note"
    path = "notes"
    singular = _("note")
    plural = _("notes")
    timeline = Timeline(
        "noted_at",
        "activities/_note_entry.html",
        quick_template="activities/_note_quick.html",
        label=_("Notes"),
    )
    sorts = _sorts("noted_at")
    profile_template = "activities/_note_profile.html"
    form_template = "activities/_note_fields.html"
    hidden_name = _("a note you cannot see")
    unknown_text = _("Unknown note.")
    new_label = _("New note")
    search_placeholder = _("Search notes…")
    empty_title = _("No notes yet")
    first_label = _("Add the first note")
    empty_text = _("Write down what you learnt about a client; add it from their page.")
    search = {"label": _("Notes"), "ordering": ("-noted_at", "id"), "code": 5}
    search_description = "Text"
    out_schema = entry_schemas.NoteOut
    create_schema = entry_schemas.NoteIn
    patch_schema = entry_schemas.NotePatch
    out = staticmethod(entry_schemas.note_out)
    columns = (
        Column("note", _("Note"), CellKind.TITLE, str),
        Column("date", _("Date"), CellKind.DATE, lambda n: n.noted_at, "recent"),
        Column("owner", _("Owner"), CellKind.TEXT, lambda n: n.owner or ""),
    )
    export_columns = (
        ExportColumn(_("ID"), lambda n, extra: n.pk),
        ExportColumn(_("Date"), lambda n, extra: n.noted_at),
        ExportColumn(_("Note"), lambda n, extra: n.body),
        *_placement_export(),
    )

    @property
    def form_class(self):
        from .forms import NoteForm

        return NoteForm


class CallType(EntryType):
    model = Call
    entry_verbs = communication.CALLS
    name = "call"
    path = "calls"
    singular = _("call")
    plural = _("calls")
    timeline = Timeline(
        "started_at",
        "activities/_call_entry.html",
        quick_template="activities/_call_quick.html",
        label=_("Calls"),
    )
    sorts = _sorts("started_at")
    filters = (
        _DIRECTION_FILTER,
        _choice_filter(
            "outcome",
            _("Outcome"),
            Call.Outcome.choices,
            "planned (to make), answered, no_answer, busy, voicemail, failed",
        ),
    )
    profile_template = "activities/_call_profile.html"
    subtitle_template = "activities/_call_subtitle.html"
    form_template = "activities/_call_fields.html"
    hidden_name = _("a call you cannot see")
    unknown_text = _("Unknown call.")
    new_label = _("New call")
    search_placeholder = _("Search by number or summary…")
    empty_title = _("No calls yet")
    first_label = _("Log the first call")
    empty_text = _("Log the calls you make and take, or plan one to make.")
    search = {"label": _("Calls"), "ordering": ("-started_at", "id"), "code": 6}
    search_description = "Numbers, summary"
    out_schema = entry_schemas.CallOut
    create_schema = entry_schemas.CallIn
    patch_schema = entry_schemas.CallPatch
    out = staticmethod(entry_schemas.call_out)
    columns = (
        Column("call", _("Call"), CellKind.TITLE, str),
        Column("outcome", _("Outcome"), CellKind.TEXT, lambda c: c.get_outcome_display()),
        Column("time", _("Time"), CellKind.DATE, lambda c: c.started_at, "recent"),
        Column("duration", _("Duration"), CellKind.TEXT, lambda c: c.duration_text),
        Column("owner", _("Owner"), CellKind.TEXT, lambda c: c.owner or ""),
    )
    export_columns = (
        ExportColumn(_("ID"), lambda c, extra: c.pk),
        ExportColumn(_("Time"), lambda c, extra: c.started_at),
        ExportColumn(_("Direction"), lambda c, extra: c.get_direction_display()),
        ExportColumn(_("Their number"), lambda c, extra: c.their_number),
        ExportColumn(_("Our number"), lambda c, extra: c.our_number),
        ExportColumn(_("Duration (seconds)"), lambda c, extra: c.duration_seconds),
        ExportColumn(_("Outcome"), lambda c, extra: c.get_outcome_display()),
        ExportColumn(_("Recording"), lambda c, extra: c.recording_url),
        ExportColumn(_("Summary"), lambda c, extra: c.summary),
        *_placement_export(),
    )

    @property
    def form_class(self):
        from .forms import CallForm

        return CallForm


class EmailType(EntryType):
    model = EmailMessage
    entry_verbs = communication.EMAILS
    name = "email"
    path = "emails"
    singular = _("email")
    plural = _("emails")
    timeline = Timeline(
        "sent_at",
        "activities/_email_entry.html",
        quick_template="activities/_email_quick.html",
        label=_("Emails"),
    )
    sorts = _sorts("sent_at", "subject")
    filters = (_DIRECTION_FILTER,)
    profile_template = "activities/_email_profile.html"
    subtitle_template = "activities/_email_subtitle.html"
    form_template = "activities/_email_fields.html"
    hidden_name = _("an email you cannot see")
    unknown_text = _("Unknown email.")
    new_label = _("New email")
    search_placeholder = _("Search subject, address, text…")
    empty_title = _("No emails yet")
    first_label = _("Add the first email")
    empty_text = _("Keep the emails exchanged with clients beside their other history.")
    search = {"label": _("Emails"), "ordering": ("-sent_at", "id"), "code": 7}
    search_description = "Subject, addresses, text"
    out_schema = entry_schemas.EmailMessageOut
    create_schema = entry_schemas.EmailMessageIn
    patch_schema = entry_schemas.EmailMessagePatch
    out = staticmethod(entry_schemas.email_out)
    columns = (
        Column("subject", pgettext_lazy("email", "Subject"), CellKind.TITLE, str, sort="name"),
        Column("direction", _("Direction"), CellKind.TEXT, lambda e: e.get_direction_display()),
        Column("from", _("From"), CellKind.TEXT, lambda e: e.from_address),
        Column("sent", _("Sent"), CellKind.DATE, lambda e: e.sent_at, "recent"),
        Column("owner", _("Owner"), CellKind.TEXT, lambda e: e.owner or ""),
    )
    export_columns = (
        ExportColumn(_("ID"), lambda e, extra: e.pk),
        ExportColumn(_("Sent"), lambda e, extra: e.sent_at),
        ExportColumn(_("Direction"), lambda e, extra: e.get_direction_display()),
        ExportColumn(pgettext_lazy("email", "Subject"), lambda e, extra: e.subject),
        ExportColumn(_("From"), lambda e, extra: e.from_address),
        ExportColumn(_("To"), lambda e, extra: e.to_addresses),
        ExportColumn(_("Cc"), lambda e, extra: e.cc_addresses),
        ExportColumn(_("Text"), lambda e, extra: e.body_text),
        *_placement_export(),
    )

    @property
    def form_class(self):
        from .forms import EmailForm

        return EmailForm


NOTE = NoteType()
CALL = CallType()
EMAIL = EmailType()
ENTRY_TYPES = (NOTE, CALL, EMAIL)
