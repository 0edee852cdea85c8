"""Settings pages where an administrator defines custom fields (not Django's admin).

One page lists the record types that carry custom fields, one each type's fields; a form
adds or changes a field, with a preview of its input (the record form's own partial) and
of how a value shows. The services (kontor.core.customfields.services) validate: their
messages are put beside the form's inputs, and what the user typed stays.
"""

from __future__ import annotations

import datetime
import decimal
import re

from anyascii import anyascii
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kontor.accounts.forms import AccessibleForm, add_service_error
from kontor.accounts.models import Role
from kontor.accounts.views import settings_page
from kontor.core import customfields, formulas, types
from kontor.core.customfields import computed, kinds
from kontor.core.customfields import services as field_services
from kontor.core.customfields.kinds import Kind
from kontor.core.errors import Conflict, KontorError
from kontor.core.formulas.errors import KIND_LABELS
from kontor.core.models import CustomField

from .records import custom_input

_NAME_LIMIT = 63
_CHOICE_KEY_LIMIT = 50
_KEYED_OPTION = re.compile(r"([A-Za-z0-9_-]{1,50})\s*:\s*(.+)")


def record_types_with_fields() -> list[types.RecordType]:
    """The registered record types whose records carry custom fields."""
    return [
        rt for rt in types.record_types() if field_services.record_model(rt.object_type) is not None
    ]


def _record_type(object_type: str) -> types.RecordType:
    rt = types.get(object_type)
    if rt not in record_types_with_fields():
        raise Http404()
    return rt


def _require_manager(user) -> None:
    # As the other settings pages: a page the user may not open does not exist for them.
    if not field_services.may_manage_fields(user):
        raise Http404()


def api_name(text: str, *, limit: int = _NAME_LIMIT, fallback: str = "field") -> str:
    """An API name suggested from a label: "Contract value" -> "contract_value"."""
    # Any script in Latin letters first: "Регион продаж" -> "region_prodazh".
    text = anyascii(text).lower().replace("-", " ")
    slug = slugify(text).replace("-", "_").strip("_")[:limit].strip("_")
    if not slug:
        return fallback
    return slug if slug[0].isalpha() else f"{fallback}_{slug}"[:limit]


def _free(name: str, taken: set[str]) -> str:
    """``name``, or with the first number suffix no other field of the type has."""
    suffix, free = 2, name
    while free in taken:
        free, suffix = f"{name[: _NAME_LIMIT - 4]}_{suffix}", suffix + 1
    return free


def parse_choices(text: str) -> list[dict]:
    """Options from the form's lines: "Label", or "key: Label" to keep a key; a key left
    out is made from the label (and kept distinct)."""
    options, keys = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        keyed = _KEYED_OPTION.fullmatch(line)
        if keyed:
            key, label = keyed.group(1), keyed.group(2).strip()
        else:
            label = line
            key = base = api_name(line, limit=_CHOICE_KEY_LIMIT, fallback=f"option_{number}")
            suffix = 2
            while key in keys:
                key, suffix = f"{base[: _CHOICE_KEY_LIMIT - 4]}_{suffix}", suffix + 1
        keys.add(key)
        options.append({"key": key, "label": label})
    return options


def choices_text(choices: list[dict]) -> str:
    return "\n".join(f"{c['key']}: {c['label']}" for c in choices)


def _bound_text(value) -> str:
    return "" if value is None else str(value)


class FieldForm(AccessibleForm):
    """A custom field's definition as typed; ``attributes()`` gives what the services take."""

    label = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=255,
        help_text=gettext_lazy("What the form and the list show: Contract value"),
    )
    name = forms.CharField(
        label=gettext_lazy("API name"),
        max_length=_NAME_LIMIT,
        required=False,
        help_text=gettext_lazy(
            "Lowercase letters, digits and _; made from the label if left empty. "
            "Programs that use the API, imports and exports name the field by it."
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Kind.choices)
    help_text = forms.CharField(
        label=gettext_lazy("Help text"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Shown under the input."),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    unique = forms.BooleanField(
        label=gettext_lazy("Unique: no two records may hold the same value"), required=False
    )
    choices = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "One option per line. Write “key: Label” to keep an option's key; "
            "without a key one is made from the label."
        ),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        required=False,
        help_text=gettext_lazy("Three letters: EUR, USD, RUB."),
    )
    related_type = forms.ChoiceField(label=gettext_lazy("Links to"), required=False)
    formula = forms.CharField(
        label=gettext_lazy("Formula"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "What the field computes from the record's fields, e.g. price * quantity; "
            "the names it may read are listed below. A money result needs a currency."
        ),
    )
    default = forms.CharField(
        label=gettext_lazy("Default"),
        required=False,
        help_text=gettext_lazy("Filled in on new records. Several options: separate by commas."),
    )
    minimum = forms.CharField(
        label=gettext_lazy("Minimum"),
        required=False,
        help_text=gettext_lazy("A number or date; for text its length, for options their count."),
    )
    maximum = forms.CharField(label=gettext_lazy("Maximum"), required=False)
    pattern = forms.CharField(
        label=gettext_lazy("Pattern"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("A regular expression the whole value must match: [A-Z]{2}-[0-9]+"),
    )
    section = forms.CharField(
        label=gettext_lazy("Section"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The heading the field appears under on the form."),
    )
    position = forms.IntegerField(
        label=gettext_lazy("Sort order"),
        min_value=0,
        max_value=100_000,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=gettext_lazy("Smaller numbers come first within the section."),
    )
    view_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles that see it"),
        required=False,
        help_text=gettext_lazy("None chosen: everyone who sees the record."),
    )
    edit_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles that edit it"),
        required=False,
        help_text=gettext_lazy("None chosen: everyone who may edit the record and sees the field."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, field: CustomField | None = None, position: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.field = field
        self.fields["related_type"].choices = [("", "—")] + [
            (rt.object_type, capfirst(rt.plural)) for rt in record_types_with_fields()
        ]
        roles = [(str(r.pk), r.display_name) for r in Role.objects.order_by("name")]
        self.fields["view_roles"].choices = self.fields["edit_roles"].choices = roles
        if field is None:
            self.initial.setdefault("position", position)
            self.fields["name"].widget.attrs["data-name-from-label"] = ""
        else:
            self.fields["name"].help_text = _(
                "Programs that use the API, and import or export files, name the field by "
                "its API name: if you change it, change them too."
            )
        if field is not None and not self.is_bound:
            self.initial.update(
                {
                    attribute: getattr(field, attribute)
                    for attribute in (
                        "label",
                        "name",
                        "kind",
                        "help_text",
                        "required",
                        "unique",
                        "currency",
                        "related_type",
                        "formula",
                        "pattern",
                        "section",
                        "position",
                    )
                },
                choices=choices_text(field.choices),
                default=self._default_text(field),
                minimum=_bound_text(field.minimum),
                maximum=_bound_text(field.maximum),
                view_roles=[str(pk) for pk in field.view_roles],
                edit_roles=[str(pk) for pk in field.edit_roles],
                version=field.version,
            )
        self.fields["kind"].widget.attrs["data-field-kind"] = ""
        self.fields["label"].widget.attrs["data-label-source"] = ""

    @staticmethod
    def _default_text(field: CustomField) -> str:
        if field.default is None:
            return ""
        if field.kind in kinds.CHOICE_KINDS:
            labels = {c["key"]: c["label"] for c in field.choices}
            keys = field.default if isinstance(field.default, list) else [field.default]
            return ", ".join(labels.get(key, key) for key in keys)
        return customfields.input_value(field, field.default)

    @property
    def chosen_kind(self) -> str:
        """The kind chosen (what the page shows options for)."""
        data = self.data if self.is_bound else self.initial
        kind = data.get("kind") or Kind.TEXT
        return kind if kind in Kind.values else Kind.TEXT

    def option_rows(self) -> list[dict]:
        """Each kind-dependent input, with the kinds it is for and whether it shows now."""
        return [
            {
                "field": self[name],
                "kinds": " ".join(sorted(applicable)),
                "shown": self.chosen_kind in applicable,
            }
            for name, (applicable, _empty) in kinds.OPTION_KINDS.items()
        ]

    def attributes(self, taken: set[str] = frozenset()) -> dict:
        """The service's attributes from the cleaned form; options of other kinds ignored."""
        data = self.cleaned_data
        kind = data["kind"]
        applies = {
            name: kind in applicable for name, (applicable, _e) in kinds.OPTION_KINDS.items()
        }
        choices = parse_choices(data["choices"]) if applies["choices"] else []
        attributes = {
            "label": data["label"],
            "name": data["name"].strip() or _free(api_name(data["label"]), taken),
            "kind": kind,
            "help_text": data["help_text"],
            "required": data["required"],
            "unique": data["unique"] and applies["unique"],
            "choices": choices,
            "currency": data["currency"].strip().upper() if applies["currency"] else "",
            "related_type": data["related_type"] if applies["related_type"] else "",
            "formula": data["formula"] if applies["formula"] else "",
            "pattern": data["pattern"] if applies["pattern"] else "",
            "minimum": data["minimum"].strip() if applies["minimum"] else None,
            "maximum": data["maximum"].strip() if applies["maximum"] else None,
            "default": self._default(kind, data["default"], choices)
            if applies["default"]
            else None,
            "section": data["section"],
            "position": data["position"] if data["position"] is not None else 0,
            "view_roles": [int(pk) for pk in data["view_roles"]],
            "edit_roles": [int(pk) for pk in data["edit_roles"]],
        }
        if self.field is not None and not self.data.get("name", "").strip():
            attributes["name"] = self.field.name  # an emptied API name keeps the old one
        return attributes

    @staticmethod
    def _default(kind: str, text: str, choices: list[dict]):
        """The default as typed; an option may be named by its label as well as its key."""
        text = text.strip()
        if kind not in kinds.CHOICE_KINDS or not text:
            return text or None
        keys = {c["label"].casefold(): c["key"] for c in choices}
        picked = [keys.get(part.strip().casefold(), part.strip()) for part in text.split(",")]
        return picked if kind == Kind.MULTIPLE_CHOICE else picked[0]


def _sample(field: CustomField, user):
    """A value of the field's kind for the preview to show, when it has no default."""
    now = timezone.now()
    samples = {
        Kind.TEXT: _("Sample text"),
        Kind.LONG_TEXT: _("Sample text"),
        Kind.INTEGER: 1234,
        Kind.DECIMAL: decimal.Decimal("1234.5"),
        Kind.MONEY: decimal.Decimal("1234.5"),
        Kind.PERCENT: decimal.Decimal("12.5"),
        Kind.DATE: now.date().isoformat(),
        Kind.DATETIME: now.astimezone(datetime.UTC).strftime(kinds.DATETIME_FORMAT),
        Kind.BOOLEAN: True,
        Kind.URL: "https://example.com",
        Kind.EMAIL: "name@example.com",
        Kind.PHONE: "+74951234567",
        Kind.USER: user.pk,
    }
    if field.kind in kinds.CHOICE_KINDS and field.choices:
        first = field.choices[0]["key"]
        return [first] if field.kind == Kind.MULTIPLE_CHOICE else first
    return samples.get(field.value_kind)


def preview(user, field: CustomField) -> dict:
    """The field's input as the record form shows it, and a value as lists and pages show it."""
    sample = field.default if field.default is not None else _sample(field, user)
    return {
        "sections": [
            {
                "title": field.section,
                "inputs": [custom_input(user, field, field.default)],
            }
        ],
        "shown": "" if sample is None else customfields.reader_display(user, field, sample),
    }


@login_required
def field_list(request):
    """Every record type that carries custom fields, with how many it has."""
    _require_manager(request.user)
    rows = [
        {"rt": rt, "count": len(customfields.fields_of(rt.object_type))}
        for rt in record_types_with_fields()
    ]
    return settings_page(request, "web/fields/types.html", {"rows": rows})


def _role_names() -> dict[int, str]:
    return {r.pk: r.display_name for r in Role.objects.all()}


@login_required
def field_type(request, object_type: str):
    """One type's fields, in form order (section, position)."""
    _require_manager(request.user)
    rt = _record_type(object_type)
    names = _role_names()
    fields = [
        {
            "field": field,
            "kind": Kind(field.kind).label
            if field.kind != Kind.FORMULA
            # Its values' kind too: what its filters and sorts take.
            else f"{Kind.FORMULA.label}: {Kind(field.result_kind).label}",
            "see": [names.get(pk, pk) for pk in field.view_roles],
            "edit": [names.get(pk, pk) for pk in field.edit_roles],
        }
        for field in customfields.fields_of(object_type)
    ]
    return settings_page(request, "web/fields/list.html", {"rt": rt, "fields": fields})


def formula_names(rt, field: CustomField | None) -> list[tuple[str, str]]:
    """The names a formula of this field may read and the kind each reads as, so that
    whoever writes one need not guess them (what a restricted field's formula may read
    beyond these is checked when it is saved)."""
    fields = customfields.fields_of(rt.object_type)
    draft = field or CustomField(object_type=rt.object_type, kind=Kind.FORMULA)
    readable = computed.schema_for(draft, computed.inputs(rt.object_type, fields))
    return sorted(
        (name, str(KIND_LABELS[formulas.SCHEMA_KINDS[entry.kind]]))
        for name, entry in readable.items()
        if not name.startswith(computed.CUSTOM_PREFIX)
    )


def _form_page(request, rt, form, *, field=None, status=200):
    draft = getattr(form, "draft", None)
    context = {
        "rt": rt,
        "form": form,
        "field": field,
        "option_rows": form.option_rows(),
        "formula_names": formula_names(rt, field),
        "preview": preview(request.user, draft) if draft is not None else None,
    }
    template = "web/fields/form.html"
    if request.htmx and request.htmx.target == "field-preview":
        template += "#preview"
    return settings_page(request, template, context, status=status)


def _submit(request, rt, form, *, field=None):
    """A posted form: previewed (checked, not saved) or saved. The response, or None when
    saved (the caller redirects)."""
    previewing = "preview" in request.POST
    if not form.is_valid():
        return _form_page(request, rt, form, field=field, status=200 if previewing else 422)
    others = {f.name for f in customfields.fields_of(rt.object_type) if f != field}
    attributes = form.attributes(taken=others)
    try:
        if previewing:
            form.draft = field_services.check_field(
                actor=request.user, object_type=rt.object_type, field=field, **attributes
            )
            return _form_page(request, rt, form, field=field)
        if field is None:
            form.saved = field_services.create_field(
                actor=request.user, object_type=rt.object_type, **attributes
            )
        else:
            form.saved = field_services.update_field(
                field,
                actor=request.user,
                expected_version=form.cleaned_data.get("version"),
                **attributes,
            )
    except Conflict:
        form.add_error(
            None,
            _(
                "Someone else changed this field after you opened it. "
                "Reload the page to see their changes, then apply yours again."
            ),
        )
        return _form_page(request, rt, form, field=field, status=409)
    except KontorError as exc:
        add_service_error(form, exc)
        return _form_page(request, rt, form, field=field, status=200 if previewing else 422)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def field_create(request, object_type: str):
    _require_manager(request.user)
    rt = _record_type(object_type)
    position = 10 * (len(customfields.fields_of(object_type)) + 1)
    form = FieldForm(request.POST or None, position=position)
    if request.method == "POST":
        response = _submit(request, rt, form)
        if response is not None:
            return response
        messages.success(
            request, _("The field “%(label)s” was added to the form.") % {"label": form.saved}
        )
        return redirect("web:field_type", object_type)
    return _form_page(request, rt, form)


def _field(user, pk: int) -> CustomField:
    # The definitions' door lets only field managers through: 404 for anyone else.
    return get_object_or_404(CustomField.objects.visible_to(user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def field_edit(request, pk: int):
    field = _field(request.user, pk)
    rt = _record_type(field.object_type)
    form = FieldForm(request.POST or None, field=field)
    if request.method == "POST":
        response = _submit(request, rt, form, field=field)
        if response is not None:
            return response
        messages.success(request, _("Changes to “%(label)s” were saved.") % {"label": form.saved})
        return redirect("web:field_type", field.object_type)
    form.draft = field
    return _form_page(request, rt, form, field=field)


@login_required
@require_http_methods(["GET", "POST"])
def field_delete(request, pk: int):
    field = _field(request.user, pk)
    rt = _record_type(field.object_type)
    if request.method == "POST":
        version = request.POST.get("version", "")
        try:
            field_services.delete_field(
                field,
                actor=request.user,
                expected_version=int(version) if version.isdigit() else None,
            )
        except Conflict:
            messages.error(
                request,
                _("Someone else changed this field after you opened it; check it and try again."),
            )
            return redirect("web:field_delete", pk)
        messages.success(request, _("The field “%(label)s” was removed.") % {"label": field})
        return redirect("web:field_type", field.object_type)
    context = {"rt": rt, "field": field, "count": field_services.records_holding(field)}
    return settings_page(request, "web/fields/delete.html", context)
