"""Every write of custom object types and of their records.

Records go through the engine's one path (``kontor.core.services``): permission and
placement first, then validation, write, audit, search document and event in one
transaction. Definitions are audited like users and roles; a type with records is
archived, never deleted with them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.core import bulk
from kontor.core import services as records
from kontor.core.access import Action, Scope, require, scope_for
from kontor.core.errors import ValidationFailed

from . import registry
from .models import ObjectTypeDefinition

DEFINITION_TYPE = "objects.objecttypedefinition"
RECORD_FIELDS = ("name", "notes")


# -- records ---------------------------------------------------------------------------------


def _apply_fields(obj, data: dict, actor, errors: records.FieldErrors) -> None:
    for field in RECORD_FIELDS:
        if field in data:
            value = data[field]
            setattr(obj, field, "" if value is None else str(value).strip())
    if not obj.name:
        errors.add("name", _("This field is required."))
    records.apply_custom_values(obj, data, actor, errors)


def create_record(record_type, data: dict, *, actor):
    obj = record_type.model()
    errors = records.FieldErrors()
    _apply_fields(obj, data, actor, errors)
    records.place_new(obj, data, actor, errors)
    errors.raise_if_any()
    return records.create_record(obj, actor=actor)


class RecordImporter(bulk.Importer):
    """A custom record's row in a bulk import (``kontor.core.bulk``): the cleaning of a
    single write; everything else is the generic import's."""

    fields = RECORD_FIELDS

    def clean(self, obj, data, errors):
        _apply_fields(obj, data, self.actor, errors)
        return {}


def update_record(obj, data: dict, *, actor, expected_version=None):
    def apply(target):
        errors = records.FieldErrors()
        _apply_fields(target, data, actor, errors)
        records.place_edited(target, data, actor, errors)
        errors.raise_if_any()

    return records.update_record(obj, apply, actor=actor, expected_version=expected_version)


def delete_record(obj, *, actor, expected_version=None) -> None:
    records.delete_record(obj, actor=actor, expected_version=expected_version)


# -- definitions -----------------------------------------------------------------------------

DEFINITION_FIELDS = ("singular", "plural", "icon", "description")


def _require_definer(actor, action: str, definition=None) -> None:
    target = definition or ObjectTypeDefinition()
    require(actor, action, target)


def _apply_definition(definition, data: dict) -> None:
    for field in DEFINITION_FIELDS:
        if field in data:
            setattr(definition, field, str(data[field] or "").strip())


def create_definition(data: dict, *, actor) -> ObjectTypeDefinition:
    """Define a new object type; it is live in every process at their next request."""
    _require_definer(actor, Action.CREATE)
    definition = ObjectTypeDefinition(slug=str(data.get("slug", "")).strip().lower())
    _apply_definition(definition, {f: data.get(f) for f in DEFINITION_FIELDS})
    with transaction.atomic():
        records.create_record(definition, actor=actor)
        registry.bump()
    registry.sync(force=True)
    return definition


def update_definition(definition, data: dict, *, actor, expected_version=None):
    """Rename or redescribe a type (its API name stays: addresses and grants use it)."""
    _require_definer(actor, Action.EDIT, definition)

    def apply(target):
        _apply_definition(target, data)

    with transaction.atomic():
        records.update_record(definition, apply, actor=actor, expected_version=expected_version)
        registry.bump()
    registry.sync(force=True)
    return definition


def delete_definition(definition, *, actor, archive: bool = False, expected_version=None) -> str:
    """Delete a type without records; one with records only by archiving it (``archive``).

    Answers "deleted" or "archived". An archived type leaves menus, search and the API;
    its records and their history stay in the database.
    """
    _require_definer(actor, Action.DELETE, definition)
    count = definition.records.count()
    if count and not archive:
        raise ValidationFailed(
            _(
                "This type has %(count)d records: it cannot be deleted. Archive it instead: "
                "its records are kept but hidden."
            )
            % {"count": count}
        )

    def archive_it(target):
        target.archived_at = timezone.now()

    with transaction.atomic():
        if count:
            records.update_record(
                definition, archive_it, actor=actor, expected_version=expected_version
            )
            result = "archived"
        else:
            records.delete_record(definition, actor=actor, expected_version=expected_version)
            result = "deleted"
        registry.bump()
    registry.sync(force=True)
    return result


def may_define(actor) -> bool:
    # Definitions belong to no owner or department: only an "everything" scope reaches them.
    return scope_for(actor, DEFINITION_TYPE, Action.CREATE) == Scope.ALL


def may_view_definitions(actor) -> bool:
    return scope_for(actor, DEFINITION_TYPE, Action.VIEW) == Scope.ALL
