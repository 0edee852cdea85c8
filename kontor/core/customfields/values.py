"""Cleaning a record's custom values on write; reading them for a reader."""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, lookups
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import ValidationFailed
from ..models import CustomField
from . import kinds, registry
from .kinds import Kind
from .queries import CustomKey, db_value


def error_key(field_or_name) -> str:
    name = field_or_name if isinstance(field_or_name, str) else field_or_name.name
    return f"{registry.KEY_PREFIX}{name}"


def unknown_field_message() -> str:
    # One message for a field that does not exist and one the user may not see.
    return _("Unknown field.")


def _check_related(field: CustomField, value: int, user) -> None:
    if field.kind == Kind.USER:
        if not get_user_model().objects.filter(pk=value, is_active=True).exists():
            raise ValidationError(_("Pick an active user."))
        return
    try:
        model = apps.get_model(field.related_type)
    except (LookupError, ValueError):
        raise ValidationError(_("Unknown record.")) from None
    # A record the user cannot see does not exist for them (no existence oracle).
    if not model.objects.visible_to(user).filter(pk=value).exists():
        raise ValidationError(_("Unknown record."))


def _check_unique(field: CustomField, value, instance, model) -> None:
    others = model._base_manager.filter(lookups.Exact(CustomKey(field), db_value(field, value)))
    if instance is not None and instance.pk is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError(_("Another record already has this value."))


def clean_field(field: CustomField, raw, *, user, before=None, model=None, instance=None):
    """One field's value in stored form, or None for empty; ValidationError with the reason."""
    if kinds.is_empty(raw):
        if field.required:
            raise ValidationError(_("This field is required."))
        return None
    value = kinds.convert(field, raw)
    kinds.check_bounds(field, value)
    if (
        field.pattern
        and field.kind in kinds.PATTERN_KINDS
        and not re.fullmatch(field.pattern, value)
    ):
        raise ValidationError(_("Enter a value in the expected format."))
    # An id already held stays valid for whoever edits the record's other fields.
    if field.kind in kinds.ID_KINDS and value != before:
        _check_related(field, value, user)
    if field.unique and model is not None and value != before:
        _check_unique(field, value, instance, model)
    return value


def clean_values(object_type: str, data: dict | None, *, user, instance=None) -> dict:
    """The record's new ``custom`` column: its stored values with ``data`` applied.

    ``data`` maps API names to typed values (a PATCH: absent names keep their value;
    None or "" empties a field). A new record (``instance`` None or unsaved) gets each
    absent field's default. Values of fields the user may not see are kept as they
    are, and keys of removed fields are dropped. Errors are a ValidationFailed keyed
    ``custom.<name>``: a name that is unknown, or of a field the user may not see, is
    "Unknown field."; one the user sees but may not edit is refused if changed.
    """
    data = data or {}
    fields = registry.fields_of(object_type)
    model = apps.get_model(object_type)
    stored = dict(instance.custom) if instance is not None and instance.custom else {}
    creating = instance is None or instance.pk is None
    by_name = {f.name: f for f in fields}
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise ValidationFailed(errors={"custom": [_("Enter an object of field values.")]})
    for name in data:
        field = by_name.get(name)
        if field is None or not registry.may_see(user, field):
            errors[error_key(name)] = [unknown_field_message()]
    result = {}
    for field in fields:
        key = field.key
        before = stored.get(key)
        given = field.name in data and registry.may_see(user, field)
        if not given:
            if creating and field.default is not None and before is None:
                before = field.default
            if before is not None:
                result[key] = before
            elif field.required and creating and registry.may_edit(user, field):
                errors[error_key(field)] = [_("This field is required.")]
            continue
        try:
            value = clean_field(
                field, data[field.name], user=user, before=before, model=model, instance=instance
            )
        except ValidationError as exc:
            errors[error_key(field)] = exc.messages
            continue
        if value != before and not registry.may_edit(user, field):
            errors[error_key(field)] = [_("You may not change this field.")]
            continue
        if value is not None:
            result[key] = value
    if errors:
        raise ValidationFailed(errors=errors)
    return result


def values_for(user, obj, fields: list[CustomField] | None = None) -> dict:
    """``{api name: stored value}`` of the fields ``user`` may see (empty ones as None).

    A list passes ``fields`` (registry.visible_fields, asked once per page).
    """
    custom = obj.custom or {}
    if fields is None:
        fields = registry.visible_fields(user, obj._meta.label_lower)
    return {f.name: custom.get(f.key) for f in fields}


def search_text(obj) -> str:
    """The text-like values for the record's search document.

    A search document is shared by every reader, so a field hidden from some roles is
    left out: its value must not find the record for someone who may not see it.
    """
    custom = obj.custom or {}
    parts = []
    for field in registry.fields_of(obj._meta.label_lower):
        value = custom.get(field.key)
        if value is None or field.view_roles:
            continue
        if field.kind in kinds.TEXT_KINDS:
            parts.append(str(value))
        elif field.kind in kinds.CHOICE_KINDS:
            parts.append(kinds.display(field, value))
    return " ".join(parts)


def audit_values(obj) -> dict:
    """``{"custom.<name>": value}`` for the audit snapshot; values are JSON-safe already
    but for Decimal, which audit.json_safe turns to text."""
    custom = obj.custom or {}
    return {
        error_key(f): custom.get(f.key)
        for f in registry.fields_of(obj._meta.label_lower)
        if f.key in custom
    }


def purge_removed(model) -> int:
    """Remove from ``model``'s rows the values of fields that no longer exist; rows changed.

    Reads never show such values (they are not in any definition) and a record's next
    save drops them; this clears the rest, e.g. from a scheduled job.
    """
    live = {f.key for f in registry.fields_of(model._meta.label_lower)}
    changed = 0
    rows = model._base_manager.exclude(custom={}).values_list("pk", "custom")
    for pk, custom in rows.iterator(chunk_size=2000):
        kept = {k: v for k, v in custom.items() if k in live}
        if kept != custom:
            model._base_manager.filter(pk=pk).update(custom=kept)
            changed += 1
    return changed


def input_value(field: CustomField, stored):
    """The value as a form's input takes it back ("" for none)."""
    if kinds.is_empty(stored):
        return [] if field.kind == Kind.MULTIPLE_CHOICE else ""
    if field.kind == Kind.DATETIME:
        moment = kinds.to_python(field, stored)
        if isinstance(moment, str):  # typed by the user, not yet cleaned
            return moment
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")
    return stored


def related_record(user, field: CustomField, stored):
    """The record a relation value names, if ``user`` may see it; else None."""
    from .. import types

    try:
        model = apps.get_model(field.related_type)
    except (LookupError, ValueError):
        return None
    entry = types.by_model(model)
    if entry is None or not isinstance(stored, int | str) or not str(stored).isdigit():
        return None
    return entry.visible(user).filter(pk=stored).first()


def pickable_users(keep=None) -> list:
    """The users a user field offers: the active ones (what its values accept), and the
    one it holds (``keep``, an id) even if they left."""
    users = get_user_model().objects.filter(is_active=True)
    if keep not in (None, "") and str(keep).isdigit():
        users = get_user_model().objects.filter(Q(is_active=True) | Q(pk=keep))
    return list(users.order_by("first_name", "last_name", "email"))


def reader_display(user, field: CustomField, stored) -> str:
    """``kinds.display``, with users and related records named for ``user``: a related
    record only if they may see it (else the type's words for a hidden one)."""
    if field.kind == Kind.USER:
        found = get_user_model().objects.filter(pk=stored).first()
        return str(found) if found else kinds.display(field, stored)
    if field.kind == Kind.RELATION:
        from .. import types

        record = related_record(user, field, stored)
        if record is not None:
            return str(record)
        entry = types.get(field.related_type)
        return str(getattr(entry, "hidden_name", types.RecordType.hidden_name))
    return kinds.display(field, stored)


def export_value(user, field: CustomField, stored):
    """The value as an export cell: numbers, dates and yes/no typed, the rest as text."""
    if field.value_kind in kinds.NUMBER_KINDS - kinds.ID_KINDS or field.value_kind in (
        Kind.DATE,
        Kind.DATETIME,
        Kind.BOOLEAN,
    ):
        return kinds.to_python(field, stored)
    return reader_display(user, field, stored)
