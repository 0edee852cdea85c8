"""Field definitions, cached per process and refreshed when another process changes them.

Every read asks for the "customfields" token (kontor.core.stamps); only when it moved
are the definitions loaded again. So a field added, renamed or removed in one server
process is used by every other from its next request, without a restart.
"""

from __future__ import annotations

import threading

from .. import stamps
from ..access import Action, Scope, scope_for
from ..models import CustomField
from .kinds import Kind

STAMP = "customfields"
FIELD_TYPE = "core.customfield"
# How audit rows and error messages name a custom field: "custom.<name>".
KEY_PREFIX = "custom."

_lock = threading.Lock()
_cache: dict = {"stamp": None, "by_type": {}}
# What is worked out from a type's definitions (its formulas compiled), by (type, name):
# (stamp, value), good while the stamp holds.
_derived: dict[tuple[str, str], tuple] = {}


def bump() -> None:
    """Tell every process the definitions changed (called inside the changing transaction)."""
    stamps.bump(STAMP)


def fields_of(object_type: str) -> list[CustomField]:
    """The type's fields in form order (section, position, id), as of the stamp now."""
    return _current(object_type)[1]


def _current(object_type: str) -> tuple[str, list[CustomField]]:
    stamp = stamps.current(STAMP)
    with _lock:
        if _cache["stamp"] != stamp:
            by_type: dict[str, list[CustomField]] = {}
            for field in CustomField.objects.order_by("object_type", "section", "position", "id"):
                by_type.setdefault(field.object_type, []).append(field)
            _cache["stamp"], _cache["by_type"] = stamp, by_type
        return stamp, list(_cache["by_type"].get(object_type, ()))


def derived(object_type: str, name: str, build):
    """``build(fields)`` of the type's current fields, made once per definitions stamp."""
    stamp, fields = _current(object_type)
    found = _derived.get((object_type, name))
    if found is not None and found[0] == stamp:
        return found[1]
    value = build(fields)
    _derived[(object_type, name)] = (stamp, value)
    return value


def _role_ids(user) -> set[int]:
    return set(user.access_role_ids()) if hasattr(user, "access_role_ids") else set()


def may_see(user, field: CustomField) -> bool:
    """Whether ``user`` gets the field's name and values (given they see the record)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or not field.view_roles:
        return True
    roles = _role_ids(user)
    # Who may edit a field also sees it.
    return bool(roles & set(field.view_roles) or roles & set(field.edit_roles))


def may_edit(user, field: CustomField) -> bool:
    # A formula's value is computed on every save: nobody types it.
    if field.kind == Kind.FORMULA or not may_see(user, field):
        return False
    return (
        user.is_superuser or not field.edit_roles or bool(_role_ids(user) & set(field.edit_roles))
    )


def visible_fields(user, object_type: str) -> list[CustomField]:
    return [f for f in fields_of(object_type) if may_see(user, f)]


def editable_fields(user, object_type: str) -> list[CustomField]:
    return [f for f in fields_of(object_type) if may_edit(user, f)]


def visible_field(user, object_type: str, name: str) -> CustomField | None:
    """The field of that API name if ``user`` may see it; None for unknown and hidden alike."""
    return next((f for f in visible_fields(user, object_type) if f.name == name), None)


def may_manage_fields(user) -> bool:
    """Superusers and roles granted "edit" on core.customfield with scope "all" (admin)."""
    return scope_for(user, FIELD_TYPE, Action.EDIT) == Scope.ALL


class ChangeReader:
    """An audit row's changes as one reader may read them.

    A custom field's key ("custom.<name>") is kept only if the reader may see a field of
    that name now. A key no current field has (renamed or removed since) is kept only for
    whoever manages fields: its past restriction is no longer known, so nobody else gets it.
    """

    def __init__(self, user):
        self.user = user
        self._names: dict[str, tuple[set[str], set[str]]] = {}
        self._manager: bool | None = None

    def _fields(self, object_type: str) -> tuple[set[str], set[str]]:
        if object_type not in self._names:
            fields = fields_of(object_type)
            self._names[object_type] = (
                {f.name for f in fields if may_see(self.user, f)},
                {f.name for f in fields},
            )
        return self._names[object_type]

    def _readable(self, object_type: str, key: str) -> bool:
        if not key.startswith(KEY_PREFIX):
            return True
        name = key.removeprefix(KEY_PREFIX)
        visible, current = self._fields(object_type)
        if name in visible:
            return True
        if name in current:
            return False
        if self._manager is None:
            self._manager = may_manage_fields(self.user)
        return self._manager

    def changes(self, object_type: str, changes: dict) -> dict:
        if not any(key.startswith(KEY_PREFIX) for key in changes):
            return changes
        return {k: v for k, v in changes.items() if self._readable(object_type, k)}

    def label(self, object_type: str, key: str) -> str | None:
        """The field's label for its audit key, or None when the key is not a custom field's."""
        if not key.startswith(KEY_PREFIX):
            return None
        name = key.removeprefix(KEY_PREFIX)
        field = next((f for f in fields_of(object_type) if f.name == name), None)
        return field.label if field is not None else name.replace("_", " ")
