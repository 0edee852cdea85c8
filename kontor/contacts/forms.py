"""UI input parsing: a browser POST becomes the plain dict the contacts services take.

The services validate; these classes only read the form's names, keep what the user typed
for re-display, and place the services' field messages ("phones.0.number") beside the
field they concern. Repeated rows are posted as ``phones-<i>-number``; empty rows are
dropped and the rest renumbered from 0 so the services' indices match the rows shown.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kontor.core.inputs import as_db_id

from .models import Address, Company, Email, Person, Phone

ROW_FIELDS = {
    "phones": ("kind", "number"),
    "emails": ("kind", "address"),
    "addresses": ("kind", "street", "city", "region", "postal_code", "country"),
    "family": ("relation", "name", "birthday"),
    "important_dates": ("label", "date"),
}
ROW_KINDS = {
    "phones": Phone.Kind.choices,
    "emails": Email.Kind.choices,
    "addresses": Address.Kind.choices,
}
ROW_LABELS = {
    "kind": gettext_lazy("Type"),
    "number": gettext_lazy("Number"),
    "address": gettext_lazy("Email"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country"),
    "relation": gettext_lazy("Relation"),
    "name": pgettext_lazy("person", "Name"),
    "birthday": gettext_lazy("Birthday"),
    "label": gettext_lazy("Occasion"),
    "date": gettext_lazy("Date"),
}
ROW_INPUT_TYPES = {"number": "tel", "address": "email", "birthday": "date", "date": "date"}
SECTION_TITLES = {
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "addresses": gettext_lazy("Addresses"),
    "family": gettext_lazy("Family"),
    "important_dates": gettext_lazy("Important dates"),
}
_ROW_KEY = re.compile(r"^(?P<name>[a-z_]+)-(?P<index>\d+)-(?P<field>[a-z_]+)$")


def _rows_from_post(post, name: str) -> list[dict]:
    fields = ROW_FIELDS[name]
    by_index: dict[int, dict] = {}
    for key in post:
        match = _ROW_KEY.match(key)
        if match and match["name"] == name and match["field"] in fields:
            by_index.setdefault(int(match["index"]), {})[match["field"]] = post.get(key, "").strip()
    rows = []
    for _index, row in sorted(by_index.items()):
        values = {f: row.get(f, "") for f in fields}
        # A row with nothing typed but its type select is an unused "add another".
        if any(v for f, v in values.items() if f != "kind"):
            rows.append(values)
    return rows


def _rows_from_record(obj, name: str) -> list[dict]:
    fields = ROW_FIELDS[name]
    source_field = {"phones": {"number": "raw"}}.get(name, {})
    rows = []
    for item in getattr(obj, name).all():
        row = {}
        for f in fields:
            value = getattr(item, source_field.get(f, f))
            row[f] = "" if value is None else str(value)
        rows.append(row)
    return rows


class RecordForm:
    """What a person or company form shows: values, row lists and messages per field."""

    scalar_fields: tuple[str, ...] = ()
    row_names: tuple[str, ...] = ()
    # Rows offered empty on a new record, so the common case needs no "add another".
    blank_rows: tuple[str, ...] = ("phones", "emails")

    def __init__(self, data: dict | None = None, *, errors: dict | None = None, is_new=True):
        self.data = data or {}
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.is_new = is_new

    @classmethod
    def from_post(cls, post, *, is_new: bool) -> RecordForm:
        # A field the form did not send is left as it is, never cleared.
        data: dict = {f: post[f].strip() for f in cls.scalar_fields if f in post}
        for name in cls.row_names:
            data[name] = _rows_from_post(post, name)
        data["tags"] = [t.strip() for t in post.get("tags", "").split(",") if t.strip()]
        form = cls(data, is_new=is_new)
        for key in ("owner_id", "department_id", "company_id"):
            if key in data:
                form._read_id(key)
        return form

    @classmethod
    def from_record(cls, obj) -> RecordForm:
        data: dict = {}
        for f in cls.scalar_fields:
            value = getattr(obj, f)
            data[f] = "" if value is None else (value.isoformat() if f == "birthday" else value)
        for name in cls.row_names:
            data[name] = _rows_from_record(obj, name)
        data["tags"] = [t.name for t in obj.tags.all()]
        return cls(data, is_new=False)

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

    @property
    def tags_text(self) -> str:
        return ", ".join(self.data.get("tags", []))

    def rows(self, name: str) -> list[dict]:
        rows = list(self.data.get(name, []))
        if not rows and self.is_new and name in self.blank_rows:
            rows = [{f: "" for f in ROW_FIELDS[name]}]
        return [
            {
                "index": i,
                "values": row,
                "errors": {f: self.errors.get(f"{name}.{i}.{f}", []) for f in ROW_FIELDS[name]},
            }
            for i, row in enumerate(rows)
        ]

    def other_errors(self) -> list[str]:
        """Messages for keys no field on the form shows, so none is ever lost."""
        shown = set(self.scalar_fields) | {"tags"}
        messages = []
        for key, msgs in self.errors.items():
            if key in shown or key.split(".")[0] in self.row_names:
                continue
            messages += msgs
        return messages

    def row_sections(self) -> list[dict]:
        """Each repeated section with its rows and a blank row that "add another" copies."""
        return [
            {
                "name": name,
                "title": SECTION_TITLES[name],
                "rows": self.rows(name),
                "fields": [
                    {"name": f, "label": ROW_LABELS[f], "type": ROW_INPUT_TYPES.get(f, "text")}
                    for f in ROW_FIELDS[name]
                ],
                "kinds": ROW_KINDS.get(name),
                "blank": {"index": "__i__", "values": {}, "errors": {}},
            }
            for name in self.row_names
        ]


class PersonForm(RecordForm):
    scalar_fields = (*Person.profile_fields, "company_id", "owner_id", "department_id")
    row_names = ("phones", "emails", "addresses", "family", "important_dates")


class CompanyForm(RecordForm):
    scalar_fields = (*Company.profile_fields, "owner_id", "department_id")
    row_names = ("phones", "emails", "addresses")
