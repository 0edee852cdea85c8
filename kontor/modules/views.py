"""Settings → Modules: a table of modules, the company's switch and each department's
override, for a manager of modules (everyone else: 404). Switching a module off asks
for a confirmation first, saying that its data is kept."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontor.accounts.models import Department
from kontor.accounts.views import settings_page
from kontor.core.errors import KontorError

from . import services
from .services import Change

ON, OFF, INHERIT = "on", "off", "inherit"


def _field(code: str, department_id: int | None) -> str:
    return f"{code}.{department_id or 'company'}"


def _rows(states, departments, chosen: dict[str, str]) -> list[dict]:
    """The table: the company's row, then each department's in tree order, a cell per
    module with what is chosen and, for a department, what it would inherit."""
    company = []
    for state in states:
        name = _field(state.module.code, None)
        value = chosen.get(name, ON if state.on else OFF)
        company.append({"name": name, "module": state.module, "value": value, "inherits_on": None})
    on_under = {None: {cell["module"].code: cell["value"] == ON for cell in company}}
    rows = [{"department": None, "indent": "", "cells": company}]
    for department in departments:
        inherited_from = on_under[department.parent_id]
        cells, on_here = [], {}
        for state in states:
            code, name = state.module.code, _field(state.module.code, department.pk)
            stored = state.departments.get(department.pk)
            value = chosen.get(name, INHERIT if stored is None else (ON if stored else OFF))
            on_here[code] = inherited_from[code] if value == INHERIT else value == ON
            cells.append(
                {
                    "name": name,
                    "module": state.module,
                    "value": value,
                    "inherits_on": inherited_from[code],
                }
            )
        on_under[department.pk] = on_here
        rows.append({"department": department, "indent": "— " * department.depth, "cells": cells})
    return rows


def _changes(post, states, departments) -> list[Change]:
    """The switches the form sets otherwise than they are stored."""
    changes = []
    for state in states:
        code = state.module.code
        company = post.get(_field(code, None))
        if company in (ON, OFF) and (company == ON) != state.on:
            changes.append(Change(code, None, company == ON))
        for department in departments:
            value = post.get(_field(code, department.pk))
            if value not in (ON, OFF, INHERIT):
                continue
            wanted = None if value == INHERIT else value == ON
            if wanted != state.departments.get(department.pk):
                changes.append(Change(code, department.pk, wanted))
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def module_settings(request):
    if not services.may_manage_modules(request.user):
        raise Http404()
    states = services.overview()
    # Parents before children: a department inherits what the row above it shows.
    departments = list(Department.objects.order_by("path"))
    chosen, to_confirm = {}, []
    if request.method == "POST":
        changes = _changes(request.POST, states, departments)
        to_confirm = services.switched_off(changes)
        if to_confirm and not request.POST.get("confirmed"):
            chosen = {key: request.POST[key] for key in request.POST if "." in key}
        else:
            try:
                changed = services.apply(changes, actor=request.user)
            except KontorError as error:
                messages.error(request, error.message)
                return redirect("modules:module_settings")
            if changed:
                messages.success(request, _("The modules were saved."))
            return redirect("modules:module_settings")
    rows = _rows(states, departments, chosen)
    by_id = {department.pk: department for department in departments}
    confirm = [
        {
            "module": next(s.module for s in states if s.module.code == change.module),
            "department": by_id.get(change.department_id),
        }
        for change in to_confirm
    ]
    context = {
        "modules": [state.module for state in states],
        "rows": rows,
        "confirm": confirm,
    }
    return settings_page(request, "modules/settings.html", context)
