"""Forms of custom objects: a record's fields, and a type's definition."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.accounts.forms import AccessibleForm
from kontor.core.inputs import as_db_id

RECORD_FIELDS = ("name", "notes")


class RecordForm:
    """A custom record's form as the engine's views use it (see contacts.forms.RecordForm)."""

    def __init__(self, data: dict | None = None, *, errors: dict | None = None, is_new=True):
        self.data = data or {}
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.is_new = is_new

    @classmethod
    def from_post(cls, post, *, is_new: bool) -> RecordForm:
        data = {
            f: post[f].strip() for f in (*RECORD_FIELDS, "owner_id", "department_id") if f in post
        }
        form = cls(data, is_new=is_new)
        for key in ("owner_id", "department_id"):
            if key in data:
                raw = data[key]
                if raw == "":
                    data[key] = None
                elif (number := as_db_id(raw)) is not None:
                    data[key] = number
                else:
                    form.errors[key] = [_("Choose from the list.")]
        return form

    @classmethod
    def from_record(cls, obj) -> RecordForm:
        return cls({f: getattr(obj, f) for f in RECORD_FIELDS}, is_new=False)

    def other_errors(self) -> list[str]:
        shown = {*RECORD_FIELDS, "owner_id", "department_id"}
        return [m for key, msgs in self.errors.items() if key not in shown for m in msgs]


class DefinitionForm(AccessibleForm):
    """An object type's names; the API name only while the type is new."""

    singular = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, help_text=gettext_lazy("Construction site")
    )
    plural = forms.CharField(
        label=gettext_lazy("Plural name"),
        max_length=100,
        help_text=gettext_lazy("Construction sites"),
    )
    slug = forms.CharField(
        label=gettext_lazy("API name"),
        max_length=40,
        help_text=gettext_lazy(
            "construction_site: used in addresses and the API; it cannot change later."
        ),
    )
    icon = forms.CharField(label=gettext_lazy("Icon"), max_length=8, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, definition=None, **kwargs):
        super().__init__(*args, **kwargs)
        if definition is not None:
            del self.fields["slug"]
            if not self.is_bound:
                self.initial.update(
                    {
                        f: getattr(definition, f)
                        for f in ("singular", "plural", "icon", "description")
                    },
                    version=definition.version,
                )
