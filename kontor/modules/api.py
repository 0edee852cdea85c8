"""/api/v1/modules: the modules, their company switch and departments' overrides (list),
and switching them (patch), for a manager of modules; anyone else gets 404."""

from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from kontor.core.api import DbInt, ErrorOut, StrictIn
from kontor.core.errors import NotFound

from . import services
from .services import Change

router = Router(tags=["modules"])


class DepartmentSwitchOut(Schema):
    department_id: int
    enabled: bool


class ModuleOut(Schema):
    code: str
    label: str
    description: str
    enabled: bool = Field(description="The company's switch")
    departments: list[DepartmentSwitchOut] = Field(
        description="Departments set otherwise than inherited (the others follow their parent)"
    )


class DepartmentSwitchIn(StrictIn):
    department_id: DbInt
    enabled: bool | None = Field(description="On, off, or null: follow the parent again")


class ModulePatch(StrictIn):
    enabled: bool | None = Field(None, description="The company's switch; absent: unchanged")
    departments: list[DepartmentSwitchIn] = Field(
        [], max_length=1000, description="Departments' overrides to set"
    )


def _out(state: services.ModuleState) -> dict:
    return {
        "code": state.module.code,
        "label": str(state.module.label),
        "description": str(state.module.description),
        "enabled": state.on,
        "departments": [
            {"department_id": department_id, "enabled": on}
            for department_id, on in sorted(state.departments.items())
        ],
    }


def _state(code: str) -> services.ModuleState:
    found = next((state for state in services.overview() if state.module.code == code), None)
    if found is None:
        raise NotFound()
    return found


@router.get("/modules", response={200: list[ModuleOut], 404: ErrorOut}, operation_id="modules_list")
def list_modules(request):
    """Every module and where it is switched on or off."""
    services.require_manager(request.user)
    return [_out(state) for state in services.overview()]


@router.patch("/modules/{code}", response=ModuleOut, operation_id="modules_update")
def update_module(request, code: str, body: ModulePatch):
    """Switch a module on or off for the company and for departments. Each switch named is
    set to the value sent (no version: nothing is read and written back). No data is
    deleted when a module is switched off."""
    services.require_manager(request.user)
    _state(code)
    changes = [Change(code, None, body.enabled)] if body.enabled is not None else []
    changes += [Change(code, item.department_id, item.enabled) for item in body.departments]
    services.apply(changes, actor=request.user)
    return _out(_state(code))
