"""Switching modules on and off: for the company, and per department (an override of what
the department inherits from its parent, or from the company at the top).

Only a manager of modules does it (``may_manage_modules``: "edit" with scope "all" on
``modules.moduleswitch``, the admin role's "*" included; superusers); for anyone else
the switches do not exist (404). Each change is audited
(``modules.moduleswitch.created``, ``updated``, ``deleted``) and replaces the "modules"
token in the same transaction, so every process reads the switches again. Nothing is
ever deleted but the switch rows: a module switched off keeps its data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.accounts.models import Department
from kontor.core import modules, stamps
from kontor.core import services as records
from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import NotFound

from .models import MODULE_SWITCH_TYPE, ModuleSwitch
from .state import STAMP


def may_manage_modules(user) -> bool:
    return scope_for(user, MODULE_SWITCH_TYPE, Action.EDIT) == Scope.ALL


def require_manager(user) -> None:
    if not may_manage_modules(user):
        raise NotFound()


@dataclass(frozen=True)
class Change:
    """One switch to set: the company's (``department_id`` None: ``on`` True or False)
    or a department's (``on`` None: inherit again)."""

    module: str
    department_id: int | None
    on: bool | None


@dataclass
class ModuleState:
    module: modules.Module
    on: bool  # the company's switch
    departments: dict[int, bool]  # department id -> its override


def overview() -> list[ModuleState]:
    """Every module with its company switch and its departments' overrides."""
    rows = {module.code: ModuleState(module, True, {}) for module in modules.all_modules()}
    for code, department_id, on in ModuleSwitch.objects.values_list(
        "module", "department_id", "enabled"
    ):
        if code not in rows:
            continue  # a module this release no longer has: its switch waits, unused
        if department_id is None:
            rows[code].on = on
        else:
            rows[code].departments[department_id] = on
    return list(rows.values())


def switched_off(changes: list[Change]) -> list[Change]:
    """The changes that turn a module off where it is now set otherwise (to confirm)."""
    stored = {
        (code, department_id): on
        for code, department_id, on in ModuleSwitch.objects.values_list(
            "module", "department_id", "enabled"
        )
    }
    return [
        change
        for change in changes
        if change.on is False and stored.get((change.module, change.department_id)) is not False
    ]


def apply(changes: list[Change], *, actor) -> int:
    """Set the switches ``changes`` name, all or none; returns how many changed."""
    require_manager(actor)
    _validate(changes)
    changed = 0
    with transaction.atomic():
        for change in changes:
            changed += _set(change, actor=actor)
        if changed:
            stamps.bump(STAMP)
    return changed


def _validate(changes: list[Change]) -> None:
    errors = records.FieldErrors()
    known = {module.code for module in modules.all_modules()}
    wanted = {change.department_id for change in changes} - {None}
    departments = set(Department.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for change in changes:
        if change.module not in known:
            errors.add("module", _("Unknown module: %(code)s.") % {"code": change.module})
        if change.department_id is None and change.on is None:
            errors.add("enabled", _("The company's switch is either on or off."))
        if change.department_id is not None and change.department_id not in departments:
            errors.add("department_id", _("Unknown department."))
    errors.raise_if_any()


def _set(change: Change, *, actor) -> int:
    switch = (
        ModuleSwitch.objects.select_related("department")
        .filter(module=change.module, department_id=change.department_id)
        .first()
    )
    if change.on is None:
        if switch is None:
            return 0
        records.delete_audited(switch, actor=actor)
        return 1
    if switch is None:
        switch = ModuleSwitch.objects.create(
            module=change.module, department_id=change.department_id, enabled=change.on
        )
        records.audit_write("created", switch, {}, actor=actor)
        return 1
    if switch.enabled == change.on:
        return 0
    before = records.field_snapshot(switch)
    switch.enabled, switch.updated_at = change.on, timezone.now()
    switch.save(update_fields=["enabled", "updated_at"])
    records.audit_write("updated", switch, before, actor=actor)
    return 1
