"""Forms of custom objects: a record's fields, and a type's definition."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from kontor.accounts.forms import AccessibleForm
from kontor.web.forms import RecordForm as BaseRecordForm


class RecordForm(BaseRecordForm):
    """A custom record's form (the engine's, with the record's own fields)."""

    scalar_fields = ("name", "notes", "owner_id", "department_id")


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
