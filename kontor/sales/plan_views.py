"""The plans page (/deals/plans/): the targets of a year the reader sees, each against
what was won, live; and the form that sets, changes or deletes a target (for those who may:
``plans.may_set``)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.money import currencies, default_currency

from . import plans, reports
from .models import Target
from .report_params import FIRST_YEAR, LAST_YEAR, offered_years
from .report_views import deals_reader_page, plan_charts, plan_rows
from .types import DEAL


def _year(request) -> int:
    text = request.GET.get("year", "")
    year = int(text) if text.isdigit() else timezone.localdate().year
    return year if FIRST_YEAR <= year <= LAST_YEAR else timezone.localdate().year


@deals_reader_page
def plan_list(request):
    user = request.user
    year = _year(request)
    whose = request.GET.get("whose", "")
    period = request.GET.get("period", "")
    targets = plans.narrowed(
        plans.targets_starting(user, datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)),
        whose=whose,
        period=period,
    )
    rows = plan_rows(user, reports.plan_vs_actual(user, targets))
    return render(
        request,
        "sales/plans.html",
        {
            "rt": DEAL,
            "year": year,
            "years": offered_years(year),
            "whose": whose if whose in plans.WHOSE else "",
            "period": period if period in Target.Period.values else "",
            "periods": Target.Period.choices,
            "plan_rows": rows,
            "charts": plan_charts(rows) if len(rows) <= plans.CHART_MAX_TARGETS else [],
            "too_many_for_a_chart": len(rows) > plans.CHART_MAX_TARGETS,
            "may_set_targets": plans.may_set_any(user),
        },
    )


def _editable(request, pk: int) -> Target:
    target = plans.visible_targets(request.user).filter(pk=pk).first()
    if target is None or not plans.may_set(
        request.user, user_id=target.user_id, department_id=target.department_id
    ):
        raise Http404()
    return target


def _form(request, target: Target | None, values: dict, errors: dict, status: int = 200):
    people, departments = plans.editable_subjects(request.user)
    return render(
        request,
        "sales/plan_form.html",
        {
            "rt": DEAL,
            "target": target,
            "form": {"data": values, "errors": errors},
            "errors": errors,
            "people": [(person.pk, str(person)) for person in people],
            "departments": [(department.pk, str(department)) for department in departments],
            "periods": [(value, label.capitalize()) for value, label in Target.Period.choices],
            "currencies": [(code, code) for code in currencies()],
        },
        status=status,
    )


def _save(request, target: Target | None):
    values = {name: request.POST.get(name, "").strip() for name in plans.FIELDS}
    try:
        if target is None:
            target = plans.create_target(values, actor=request.user)
            messages.success(request, _("Target set."))
        else:
            plans.update_target(target, values, actor=request.user)
            messages.success(request, _("Target saved."))
    except ValidationFailed as exc:
        return _form(request, target, values, exc.errors, status=422)
    except PermissionDenied as exc:
        return _form(request, target, values, {"user_id": [str(exc)]}, status=403)
    return redirect(f"{reverse('sales:plans')}?year={target.starts_on.year}")


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    if not plans.may_set_any(request.user):
        raise Http404()
    if request.method == "POST":
        return _save(request, None)
    today = timezone.localdate()
    initial = {
        "period": Target.Period.MONTH,
        "starts_on": reports.month_start(today).isoformat(),
        "currency": default_currency(),
    }
    return _form(request, None, initial, {})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    target = _editable(request, pk)
    if request.method == "POST":
        return _save(request, target)
    return _form(request, target, plans.as_input(target), {})


@login_required
@require_POST
def plan_delete(request, pk: int):
    target = _editable(request, pk)
    year = target.starts_on.year
    plans.delete_target(target, actor=request.user)
    messages.success(request, _("Target deleted."))
    return redirect(f"{reverse('sales:plans')}?year={year}")
