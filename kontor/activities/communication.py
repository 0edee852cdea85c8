"""Every write of notes, calls and emails: the engine's one path, plus what each is about.

Each verb cleans the input into the record, writes it through ``kontor.core.services``
and sets its timeline links (``links``: the records it is about) in the same
transaction.
"""

from __future__ import annotations

import nh3
from django.db import transaction
from django.utils.translation import gettext as _

from kontor.core import bulk, phones, timeline
from kontor.core import services as records
from kontor.core.inputs import as_moment

from .models import Call, EmailMessage, Note

NOTE_FIELDS = ("body", "noted_at")
CALL_FIELDS = (
    "direction",
    "their_number",
    "our_number",
    "started_at",
    "duration_seconds",
    "outcome",
    "recording_url",
    "summary",
)
EMAIL_FIELDS = (
    "direction",
    "subject",
    "from_address",
    "to_addresses",
    "cc_addresses",
    "sent_at",
    "body_text",
    "body_html",
    "message_id",
)
_MOMENTS = ("noted_at", "started_at", "sent_at")


def apply_fields(obj, data: dict, fields: tuple, errors: records.FieldErrors) -> None:
    """Copy the given ``fields`` of ``data`` onto ``obj``: text stripped, a blank value
    back to the field's default, moments parsed (the model validates the rest)."""
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        model_field = type(obj)._meta.get_field(name)
        if value is None or value == "":
            value = model_field.get_default()
        elif name in _MOMENTS:
            value = as_moment(value)
            if value is None:
                errors.add(name, _("Enter a date and time."))
                continue
        elif isinstance(value, str):
            value = value.strip()
        setattr(obj, name, value)


def _model_errors(obj, errors: records.FieldErrors) -> None:
    """The model's own messages beside the service's, so a form shows every problem."""
    found = records.field_errors(obj, exclude=["owner", "department"], validate_unique=False)
    for name, messages in found.items():
        if name not in errors.by_field:
            for message in messages:
                errors.add(name, message)


def _clean_note(note: Note, errors) -> None:
    if not note.body.strip():
        errors.add("body", _("This field is required."))


def _clean_call(call: Call, errors) -> None:
    for name in ("their_number", "our_number"):
        raw = getattr(call, name)
        if raw:
            # A number that parses is kept as E.164 (the phone lookup's form); one that
            # does not (an internal extension) as typed.
            setattr(call, name, phones.to_e164(raw) or raw)
    if call.recording_url and not call.recording_url.lower().startswith(("https://", "http://")):
        errors.add("recording_url", _("Enter a web address (http or https)."))


def _clean_email(email: EmailMessage, errors) -> None:
    if not email.subject:
        errors.add("subject", _("This field is required."))
    # Mail from outside is hostile HTML: only what nh3 keeps is ever stored or shown.
    email.body_html = nh3.clean(email.body_html) if email.body_html else ""


class EntryVerbs:
    """create, update and delete of one timeline entry type."""

    def __init__(self, model, fields: tuple, clean):
        self.model, self.fields, self.clean = model, fields, clean

    def _read(self, obj, data, actor, errors) -> list | None:
        apply_fields(obj, data, self.fields, errors)
        self.clean(obj, errors)
        records.apply_custom_values(obj, data, actor, errors)
        return timeline.read_links(data, actor, errors)

    def create(self, data: dict, *, actor):
        obj = self.model()
        errors = records.FieldErrors()
        links = self._read(obj, data, actor, errors)
        records.place_new(obj, data, actor, errors)
        _model_errors(obj, errors)
        errors.raise_if_any()
        with transaction.atomic():
            obj = records.create_record(obj, actor=actor)
            timeline.set_links(obj, links or [])
        return obj

    def update(self, obj, data: dict, *, actor, expected_version=None):
        links = []

        def apply(target):
            errors = records.FieldErrors()
            links.append(self._read(target, data, actor, errors))
            records.place_edited(target, data, actor, errors)
            _model_errors(target, errors)
            errors.raise_if_any()

        with transaction.atomic():
            obj = records.update_record(obj, apply, actor=actor, expected_version=expected_version)
            if links[0] is not None:
                timeline.set_links(obj, links[0])
        return obj

    def delete(self, obj, *, actor, expected_version=None) -> None:
        records.delete_record(obj, actor=actor, expected_version=expected_version)

    def importer(self, record_type, actor) -> bulk.Importer:
        return EntryImporter(record_type, actor, self)


class EntryImporter(bulk.Importer):
    """An entry's row in a bulk import: the cleaning of a single write (numbers as
    E.164, email HTML sanitised); its links are the import's own (``core.timeline``)."""

    def __init__(self, record_type, actor, verbs: EntryVerbs):
        super().__init__(record_type, actor)
        self.verbs = verbs

    def clean(self, obj, data, errors):
        apply_fields(obj, data, self.verbs.fields, errors)
        self.verbs.clean(obj, errors)
        return {}


NOTES = EntryVerbs(Note, NOTE_FIELDS, _clean_note)
CALLS = EntryVerbs(Call, CALL_FIELDS, _clean_call)
EMAILS = EntryVerbs(EmailMessage, EMAIL_FIELDS, _clean_email)
