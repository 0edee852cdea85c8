"""Adding, changing and removing custom field definitions: no migration, no restart.

Each runs in one transaction: permission, validation, write, audit row, the definition
stamp bumped (other processes reload), an event; the field's index is built or dropped
after commit (kontor.core.customfields.indexes).
"""

from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import audit, events, formulas
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..inputs import text_problem
from ..models import CustomField
from . import computed, indexes, kinds, registry
from .kinds import Kind
from .queries import CustomEmpty, CustomKey, filter_q
from .registry import FIELD_TYPE, may_manage_fields

ATTRIBUTES = (
    "name",
    "label",
    "kind",
    "help_text",
    "required",
    "unique",
    "default",
    "minimum",
    "maximum",
    "pattern",
    "choices",
    "currency",
    "related_type",
    "formula",
    "section",
    "position",
    "view_roles",
    "edit_roles",
)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CHOICE_KEY = re.compile(r"[A-Za-z0-9_-]{1,50}")
_CURRENCY = re.compile(r"[A-Z]{3}")
PATTERN_LIMIT = 200
CHOICES_LIMIT = 200
FIELDS_PER_TYPE_LIMIT = 200
# Nested repetition ("(a+)+") can take exponential time on a crafted value.
_NESTED_REPEAT = re.compile(r"\([^)]*[+*}][^)]*\)\s*[+*{]")


def _require_manager(actor) -> None:
    if not may_manage_fields(actor):
        raise PermissionDenied(_("Only an administrator can change custom fields."))


def record_model(object_type: str):
    """The model of a type that carries custom fields, or None."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return None
    fields = {f.name for f in model._meta.concrete_fields}
    return model if "custom" in fields and hasattr(model.objects, "visible_to") else None


def _role_ids(values, errors: dict, attribute: str) -> list[int]:
    role_model = apps.get_model("accounts", "Role")
    if not isinstance(values, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        errors[attribute] = [_("Pick roles from the list.")]
        return []
    ids = sorted(set(values))
    if role_model.objects.filter(pk__in=ids).count() != len(ids):
        errors[attribute] = [_("Pick roles from the list.")]
    return ids


def _clean_choices(raw, errors: dict) -> list[dict]:
    if not isinstance(raw, list | tuple) or not raw:
        errors["choices"] = [_("Add at least one option.")]
        return []
    if len(raw) > CHOICES_LIMIT:
        errors["choices"] = [_("Add at most %(limit)d options.") % {"limit": CHOICES_LIMIT}]
        return []
    cleaned, keys = [], set()
    for option in raw:
        key = option.get("key") if isinstance(option, dict) else None
        label = option.get("label") if isinstance(option, dict) else None
        if not isinstance(key, str) or not _CHOICE_KEY.fullmatch(key):
            errors["choices"] = [
                _("Each option needs a key of letters, digits, '-' or '_' (at most 50).")
            ]
            return []
        if key in keys:
            errors["choices"] = [_("Option keys must differ: “%(key)s” repeats.") % {"key": key}]
            return []
        label = label.strip() if isinstance(label, str) else ""
        if not label or len(label) > 255 or text_problem(label):
            errors["choices"] = [_("Each option needs a label of at most 255 characters.")]
            return []
        keys.add(key)
        cleaned.append({"key": key, "label": label})
    return cleaned


def _clean_pattern(pattern: str, errors: dict) -> str:
    if len(pattern) > PATTERN_LIMIT:
        errors["pattern"] = [
            _("Enter a pattern of at most %(limit)d characters.") % {"limit": PATTERN_LIMIT}
        ]
        return ""
    try:
        re.compile(pattern)
    except re.error as exc:
        errors["pattern"] = [
            _("This pattern is not a valid regular expression: %(error)s") % {"error": exc}
        ]
        return ""
    if _NESTED_REPEAT.search(pattern):
        errors["pattern"] = [
            _("Nested repetition like “(a+)+” is not allowed: it can be very slow.")
        ]
        return ""
    return pattern


def _clean_definition(field: CustomField, *, creating: bool, old_name: str = "") -> None:
    """Check and normalize ``field``'s attributes; ValidationFailed keyed by attribute."""
    errors: dict[str, list[str]] = {}
    model = record_model(field.object_type)
    if model is None:
        errors["object_type"] = [_("Unknown object type.")]
    if not isinstance(field.name, str) or not _NAME.fullmatch(field.name):
        errors["name"] = [
            _("Use lowercase letters, digits and '_', starting with a letter (at most 63).")
        ]
    elif field.name in formulas.KEYWORDS and field.name != old_name:
        # A formula could never read it: "and" is an operator there, not a name.
        errors["name"] = [
            _("“%(name)s” is a word of the formula language: choose another name.")
            % {"name": field.name}
        ]
    elif (
        CustomField.objects.filter(object_type=field.object_type, name=field.name)
        .exclude(pk=field.pk)
        .exists()
    ):
        errors["name"] = [_("Another field of this type has this name.")]
    field.label = field.label.strip() if isinstance(field.label, str) else ""
    if not field.label or len(field.label) > 255 or text_problem(field.label):
        errors["label"] = [_("Enter a label of at most 255 characters.")]
    if field.kind not in Kind.values:
        errors["kind"] = [_("Pick one of the kinds.")]
        raise ValidationFailed(errors=errors)
    for attribute, limit in (("help_text", 500), ("section", 100)):
        value = getattr(field, attribute)
        value = value.strip() if isinstance(value, str) else ""
        if len(value) > limit or text_problem(value):
            errors[attribute] = [_("Enter at most %(limit)d characters.") % {"limit": limit}]
        setattr(field, attribute, value)
    if (
        not isinstance(field.position, int)
        or isinstance(field.position, bool)
        or not 0 <= field.position <= 100_000
    ):
        errors["position"] = [_("Enter a position from 0 to 100000.")]
    for attribute in ("required", "unique"):
        if not isinstance(getattr(field, attribute), bool):
            errors[attribute] = [_("Enter yes or no.")]
    if field.unique is True and field.kind not in kinds.UNIQUE_KINDS:
        errors["unique"] = [_("Values of this kind cannot be required to be unique.")]
    if field.kind in kinds.CHOICE_KINDS:
        field.choices = _clean_choices(field.choices, errors)
    elif field.choices:
        errors["choices"] = [_("Only choice fields have options.")]
    field.result_kind = ""
    if field.kind == Kind.FORMULA and model is not None:
        _clean_formula(field, errors)
    elif field.formula:
        errors["formula"] = [_("Only formula fields have a formula.")]
    if field.kind == Kind.MONEY or field.value_kind == Kind.MONEY:
        if not isinstance(field.currency, str) or not _CURRENCY.fullmatch(field.currency):
            errors["currency"] = [_("Enter a three-letter currency code, e.g. EUR.")]
    elif field.currency:
        errors["currency"] = [_("Only money fields have a currency.")]
    if field.kind == Kind.RELATION:
        if not isinstance(field.related_type, str) or record_model(field.related_type) is None:
            errors["related_type"] = [_("Unknown object type.")]
    elif field.related_type:
        errors["related_type"] = [_("Only relation fields link to another type.")]
    if field.pattern:
        if field.kind not in kinds.PATTERN_KINDS or not isinstance(field.pattern, str):
            errors["pattern"] = [_("Only text fields have a pattern.")]
        else:
            field.pattern = _clean_pattern(field.pattern, errors)
    field.view_roles = _role_ids(field.view_roles, errors, "view_roles")
    field.edit_roles = _role_ids(field.edit_roles, errors, "edit_roles")
    _clean_bounds(field, errors)
    if "choices" not in errors and "minimum" not in errors and "maximum" not in errors:
        _clean_default(field, errors)
    if creating and model is not None:
        count = CustomField.objects.filter(object_type=field.object_type).count()
        if count >= FIELDS_PER_TYPE_LIMIT:
            errors["object_type"] = [
                _("A type has at most %(limit)d custom fields.") % {"limit": FIELDS_PER_TYPE_LIMIT}
            ]
    if errors:
        raise ValidationFailed(errors=errors)


def _clean_formula(field: CustomField, errors: dict) -> None:
    """A formula field's source compiled against what its record offers; its result
    kind found. Such a field is never required and has no default."""
    if not isinstance(field.formula, str):
        field.formula = ""
    field.formula = field.formula.strip()
    errors.update(computed.check(field, registry.fields_of(field.object_type)))
    if field.required:
        errors["required"] = [_("A formula field is computed: it cannot be required.")]


def _clean_bounds(field: CustomField, errors: dict) -> None:
    bounded = field.kind in kinds.ORDERED_KINDS or field.kind in kinds.TEXT_KINDS | {
        Kind.MULTIPLE_CHOICE
    }
    for attribute in ("minimum", "maximum"):
        value = getattr(field, attribute)
        if value in (None, ""):
            setattr(field, attribute, None)
            continue
        if not bounded:
            errors[attribute] = [_("Fields of this kind have no minimum or maximum.")]
            continue
        try:
            if field.kind in kinds.ORDERED_KINDS:
                value = kinds.convert(field, value)
            else:
                value = kinds.whole_number(value)
                if value < 0:
                    raise ValidationError(_("Enter a number of 0 or more."))
        except ValidationError as exc:
            errors[attribute] = exc.messages
            continue
        setattr(field, attribute, value)
    if field.minimum is not None and field.maximum is not None and field.minimum > field.maximum:
        errors["maximum"] = [_("The maximum must not be below the minimum.")]


def _clean_default(field: CustomField, errors: dict) -> None:
    if kinds.is_empty(field.default):
        field.default = None
        return
    if field.unique or field.kind in kinds.ID_KINDS or field.kind == Kind.FORMULA:
        errors["default"] = [_("This field cannot have a default.")]
        return
    try:
        value = kinds.convert(field, field.default)
        kinds.check_bounds(field, value)
        if field.pattern and not re.fullmatch(field.pattern, value):
            raise ValidationError(_("Enter a value in the expected format."))
    except ValidationError as exc:
        errors["default"] = exc.messages
        return
    field.default = value


def _written(field: CustomField, verb: str, *, actor, changes: dict) -> None:
    registry.bump()
    audit.record(f"{FIELD_TYPE}.{verb}", field, actor=actor, changes=changes)
    # Payload: object_type (the field's), field_id, name, actor_id, changes.
    events.emit(
        f"{FIELD_TYPE}.{verb}",
        object_type=field.object_type,
        field_id=field.pk,
        name=field.name,
        actor_id=getattr(actor, "pk", None),
        changes=changes,
    )


def _sync_after_commit(object_type: str, drop_first: list[str] = ()) -> None:
    def run():
        from django.db import connection

        with connection.cursor() as cursor:
            for name in drop_first:
                cursor.execute(indexes.drop_sql(name))
        indexes.sync([object_type])

    # A failed build leaves the field without its index (slower, still right) until the
    # next sync; it must not turn the committed change into an error.
    transaction.on_commit(run, robust=True)


def create_field(*, actor, object_type: str, **attributes) -> CustomField:
    """Define a field of ``object_type``; ATTRIBUTES are its options (name, label, kind needed)."""
    unknown = set(attributes) - set(ATTRIBUTES)
    if unknown:
        raise ValidationFailed(errors={name: [_("Unknown attribute.")] for name in sorted(unknown)})
    with transaction.atomic():
        _require_manager(actor)
        field = CustomField(object_type=object_type, **attributes)
        _clean_definition(field, creating=True)
        field.save(force_insert=True)
        _written(field, "created", actor=actor, changes=audit.diff({}, field.audit_snapshot()))
        _sync_after_commit(object_type)
    return field


def update_field(
    field: CustomField, *, actor, expected_version: int | None = None, **changes
) -> CustomField:
    """Change a definition. A new kind is taken only if every stored value converts
    (they are rewritten); options in use cannot be removed; "unique" needs distinct values."""
    unknown = set(changes) - set(ATTRIBUTES)
    if unknown:
        raise ValidationFailed(errors={name: [_("Unknown attribute.")] for name in sorted(unknown)})
    with transaction.atomic():
        _require_manager(actor)
        current = CustomField.objects.select_for_update().filter(pk=field.pk).first()
        if current is None:
            raise Conflict()
        if expected_version is not None and expected_version != current.version:
            raise Conflict()
        before = current.audit_snapshot()
        old = CustomField(
            **{f.attname: getattr(current, f.attname) for f in current._meta.concrete_fields}
        )
        for attribute, value in changes.items():
            setattr(current, attribute, value)
        if Kind.FORMULA in (current.kind, old.kind) and current.kind != old.kind:
            raise ValidationFailed(
                errors={
                    "kind": [
                        _("A field cannot become a formula or stop being one: add a new field.")
                    ]
                }
            )
        _clean_definition(current, creating=False, old_name=old.name)
        _refuse_breaking(current)
        model = record_model(current.object_type)
        if current.value_kind != old.value_kind and current.kind == Kind.FORMULA:
            # Results of the old kind would not fit the new index: computed anew
            # (recompute_formulas) once the change is committed.
            _clear_values(model, current)
        elif current.kind != old.kind:
            _convert_values(model, old, current)
        elif current.kind in kinds.CHOICE_KINDS:
            _check_removed_options(model, old, current)
        if current.unique and not old.unique:
            _check_distinct(model, current)
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        changed = audit.diff(before, current.audit_snapshot())
        if changed:
            _written(current, "updated", actor=actor, changes=changed)
        if current.value_kind != old.value_kind:
            table = model._meta.db_table
            _sync_after_commit(current.object_type, [indexes.index_name(table, current.pk)])
    return current


def _refuse_breaking(field: CustomField, *, removed: bool = False) -> None:
    """Refuse a change (or the removal) of ``field`` that would break a formula reading it."""
    broken = computed.broken_by(
        field.object_type, registry.fields_of(field.object_type), field, removed=removed
    )
    if broken:
        raise ValidationFailed(
            _("A formula reads this field and would stop working: %(formulas)s")
            % {"formulas": "; ".join(broken)}
        )


def _clear_values(model, field: CustomField) -> None:
    key = str(field.pk)
    holding = model._base_manager.filter(custom__has_key=key)
    for pk, custom in holding.values_list("pk", "custom").iterator(chunk_size=2000):
        model._base_manager.filter(pk=pk).update(
            custom={k: v for k, v in custom.items() if k != key}
        )


def _holding(model, field: CustomField):
    return model._base_manager.exclude(CustomEmpty(field))


def records_holding(field: CustomField) -> int:
    """How many records of the field's type hold a value of it (every record counted:
    only an administrator, who may manage fields, is told)."""
    model = record_model(field.object_type)
    return _holding(model, field).count() if model is not None else 0


def check_field(*, actor, object_type: str, field: CustomField | None = None, **attributes):
    """The definition ``attributes`` would make (a new field, or ``field`` changed), cleaned
    but not saved: what a form previews. ValidationFailed keyed by attribute, as on save."""
    unknown = set(attributes) - set(ATTRIBUTES)
    if unknown:
        raise ValidationFailed(errors={name: [_("Unknown attribute.")] for name in sorted(unknown)})
    _require_manager(actor)
    if field is None:
        draft = CustomField(object_type=object_type, **attributes)
    else:
        draft = CustomField(
            **{f.attname: getattr(field, f.attname) for f in field._meta.concrete_fields}
        )
        for attribute, value in attributes.items():
            setattr(draft, attribute, value)
    _clean_definition(draft, creating=field is None)
    return draft


def _convert_values(model, old: CustomField, new: CustomField) -> None:
    key = str(new.pk)
    converted, failed, example = {}, 0, None
    for pk, custom in _holding(model, old).values_list("pk", "custom").iterator(chunk_size=2000):
        value = raw = custom.get(key)
        try:
            if old.kind == Kind.MULTIPLE_CHOICE and new.kind != Kind.MULTIPLE_CHOICE:
                if len(value) != 1:
                    raise ValidationError("several options")
                raw = value[0]
            elif new.kind in kinds.TEXT_KINDS and not isinstance(value, str | bool):
                raw = str(value)
            new_value = kinds.convert(new, raw)
        except (ValidationError, TypeError, ValueError):
            failed += 1
            example = example if example is not None else kinds.display(old, value)
            continue
        if new_value != value:
            converted[pk] = (custom, new_value)
    if failed:
        raise ValidationFailed(
            errors={
                "kind": [
                    ngettext(
                        "%(count)d record holds a value that cannot become “%(kind)s”: "
                        "“%(example)s”. Change or empty it first.",
                        "%(count)d records hold values that cannot become “%(kind)s”, "
                        "e.g. “%(example)s”. Change or empty them first.",
                        failed,
                    )
                    % {"count": failed, "kind": Kind(new.kind).label, "example": example}
                ]
            }
        )
    for pk, (custom, new_value) in converted.items():
        model._base_manager.filter(pk=pk).update(custom={**custom, key: new_value})


def _check_removed_options(model, old: CustomField, new: CustomField) -> None:
    kept = {c["key"] for c in new.choices}
    op = "has" if old.kind == Kind.MULTIPLE_CHOICE else "eq"
    for option in old.choices:
        if option["key"] in kept:
            continue
        count = model._base_manager.filter(filter_q(old, op, option["key"])).count()
        if count:
            raise ValidationFailed(
                errors={
                    "choices": [
                        ngettext(
                            "The option “%(label)s” is used by %(count)d record.",
                            "The option “%(label)s” is used by %(count)d records.",
                            count,
                        )
                        % {"label": option["label"], "count": count}
                    ]
                }
            )


def _check_distinct(model, field: CustomField) -> None:
    repeated = (
        _holding(model, field)
        .values(value=CustomKey(field))
        .annotate(records=Count("pk"))
        .filter(records__gt=1)
    )
    if repeated.exists():
        raise ValidationFailed(
            errors={
                "unique": [_("Some records share a value of this field; make them differ first.")]
            }
        )


def delete_field(field: CustomField, *, actor, expected_version: int | None = None) -> None:
    """Remove a definition. Stored values stay in the rows but are never read again
    (values.purge_removed clears them); its index goes after commit."""
    with transaction.atomic():
        _require_manager(actor)
        if expected_version is not None and expected_version != field.version:
            raise Conflict()
        _refuse_breaking(field, removed=True)
        changes = audit.diff(field.audit_snapshot(), {})
        _written(field, "deleted", actor=actor, changes=changes)
        object_type = field.object_type
        CustomField.objects.filter(pk=field.pk).delete()
        _sync_after_commit(object_type)
