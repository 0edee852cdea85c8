"""UI input parsing: a browser POST becomes the plain dict the contacts services take.

The services validate; these classes only read the form's names, keep what the user typed
for re-display, and place the services' field messages ("phones.0.number") beside the
field they concern. Repeated rows are posted as ``phones-<i>-number``; empty rows are
dropped and the rest renumbered from 0 so the services' indices match the rows shown.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy, pgettext_lazy

from kontor.web.forms import TaggedForm

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


class RecordForm(TaggedForm):
    """A person or company form: the engine's, plus repeated rows and tags."""

    row_names: tuple[str, ...] = ()
    # Rows offered empty on a new record, so the common case needs no "add another".
    blank_rows: tuple[str, ...] = ("phones", "emails")

    def read_post(self, post) -> None:
        super().read_post(post)
        for name in self.row_names:
            self.data[name] = _rows_from_post(post, name)

    def read_record(self, obj) -> None:
        super().read_record(obj)
        for name in self.row_names:
            self.data[name] = _rows_from_record(obj, name)

    def shows(self, key: str) -> bool:
        return super().shows(key) or key.split(".")[0] in self.row_names

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
