"""What every record form shares: a browser POST read into the dict a type's services take.

The services validate; a form only reads the form's names, keeps what the user typed for
re-display, and places the services' field messages beside the field they concern. A
type's form lists its ``scalar_fields`` and may add repeated rows (contacts' phones).
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.core.inputs import as_db_id

CUSTOM_PREFIX = "custom."
# The names of the custom inputs that hold several values (multiple choice).
MULTIPLE_MARK = "custom-multiple"


def _input_value(value):
    """A field's value as its input shows it: a moment in the reader's zone to the
    minute (a datetime-local input), a date or time in ISO form."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
    return value.isoformat() if hasattr(value, "isoformat") else value


class RecordForm:
    scalar_fields: tuple[str, ...] = ()

    def __init__(self, data: dict | None = None, *, errors: dict | None = None, is_new=True):
        self.data = data or {}
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.is_new = is_new

    @classmethod
    def from_post(cls, post, *, is_new: bool) -> RecordForm:
        # A field the form did not send is left as it is, never cleared.
        data: dict = {f: post[f].strip() for f in cls.scalar_fields if f in post}
        form = cls(data, is_new=is_new)
        form.read_custom(post)
        if "links" in post:
            # The records a timeline entry is about ("person:12"), as its services read them.
            form.data["links"] = post.getlist("links")
        form.read_post(post)
        for key in data:
            if key.endswith("_id"):
                form._read_id(key)
        return form

    def read_custom(self, post) -> None:
        """Custom field inputs (``custom.<name>``): a checkbox group or a yes/no box sends a
        blank first, so an unticked one still says "empty" instead of "unchanged"."""
        custom = {}
        for key in post:
            if key.startswith(CUSTOM_PREFIX):
                values = [v for v in post.getlist(key) if v != ""]
                name = key.removeprefix(CUSTOM_PREFIX)
                custom[name] = (
                    values if key in post.getlist(MULTIPLE_MARK) else (values[-1] if values else "")
                )
        if custom:
            self.data["custom"] = custom

    def read_post(self, post) -> None:
        """Read what the type's form sends besides its scalar fields (rows, tags)."""

    @classmethod
    def from_record(cls, obj) -> RecordForm:
        data = {}
        for f in cls.scalar_fields:
            data[f] = _input_value(getattr(obj, f))
        form = cls(data, is_new=False)
        form.read_record(obj)
        return form

    def read_record(self, obj) -> None:
        """Read what the type's form shows besides its scalar fields."""

    def _read_id(self, key: str) -> None:
        raw = self.data.get(key, "")
        if raw == "":
            self.data[key] = None
        elif (number := as_db_id(raw)) is not None:
            self.data[key] = number
        else:
            self.errors[key] = [_("Choose from the list.")]

    def value(self, field: str):
        value = self.data.get(field)
        return "" if value is None else value

    def shows(self, key: str) -> bool:
        """Whether the form shows the messages of ``key`` beside a field."""
        return key in self.scalar_fields or key.startswith(CUSTOM_PREFIX)

    def other_errors(self) -> list[str]:
        """Messages for keys no field on the form shows, so none is ever lost."""
        return [m for key, msgs in self.errors.items() if not self.shows(key) for m in msgs]


class TaggedForm(RecordForm):
    """A form of a type with tags (``RecordType.has_tags``): one text input of tag names
    separated by commas (web/records/_tags_field.html)."""

    def read_post(self, post) -> None:
        super().read_post(post)
        self.data["tags"] = [t.strip() for t in post.get("tags", "").split(",") if t.strip()]

    def read_record(self, obj) -> None:
        super().read_record(obj)
        self.data["tags"] = [t.name for t in obj.tags.all()]

    def shows(self, key: str) -> bool:
        return super().shows(key) or key == "tags"

    @property
    def tags_text(self) -> str:
        return ", ".join(self.data.get("tags", []))
