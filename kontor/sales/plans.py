"""Sales plans: targets of users and departments per month or quarter, read and written.

Who writes a target (``may_set``): a holder of "edit" on the admin area ``sales.target``,
as far as its scope reaches: "all" (administrators) any target; "subtree" (heads of
department, through the built-in role's grants) the targets of their department, of the
departments below it and of the people in them, except their own; "department" those of
their own department and its people, except their own. "own" or none: no target.

Who reads one (``visible_targets``): whoever sees the deals its actual is counted over,
by their view scope on deals: everything, the department subtree or the department of
the target's user or department, or their own target only.

Each write is one transaction: permission, validation (every field's problem at once),
write, one audit row (``sales.target.created`` / ``updated`` / ``deleted``).
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kontor.accounts.models import Department
from kontor.core import audit
from kontor.core import services as records
from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id
from kontor.core.money import parse_amount, parse_currency

from .models import Target
from .report_params import quarter_label
from .types import DEAL

AREA = "sales.target"
FIELDS = ("user_id", "department_id", "period", "starts_on", "amount", "currency", "won_count")
QUARTER_MONTHS = (1, 4, 7, 10)


def _subject_departments(user, scope: Scope) -> list[int]:
    if user.department_id is None or scope < Scope.DEPARTMENT:
        return []
    if scope == Scope.DEPARTMENT:
        return [user.department_id]
    return user.department_subtree_ids()


def may_set(user, *, user_id: int | None = None, department_id: int | None = None) -> bool:
    """Whether ``user`` may write a target of that user or department."""
    scope = scope_for(user, AREA, Action.EDIT)
    if scope == Scope.ALL:
        return True
    departments = _subject_departments(user, scope)
    if department_id is not None:
        return department_id in departments
    if user_id is None or user_id == user.pk:
        return False
    subject = get_user_model().objects.filter(pk=user_id).values("department_id").first()
    return subject is not None and subject["department_id"] in departments


def may_set_any(user) -> bool:
    """Whether ``user`` may write some target (the plans page offers the form)."""
    scope = scope_for(user, AREA, Action.EDIT)
    return scope == Scope.ALL or bool(_subject_departments(user, scope))


def visible_targets(user):
    """The targets whose actuals ``user`` sees (see the module's note)."""
    scope = scope_for(user, DEAL.object_type, Action.VIEW)
    targets = Target.objects.select_related("user", "department")
    if scope == Scope.ALL:
        return targets
    if scope == Scope.NONE:
        return targets.none()
    own = Q(user_id=user.pk)
    if scope == Scope.OWN or user.department_id is None:
        return targets.filter(own)
    if scope == Scope.DEPARTMENT:
        # A department's actual counts its sub-departments' deals too, which a
        # department-wide reader does not see: only a department without any.
        whole = ~Q(department__children__isnull=False)
        departments = Q(department_id=user.department_id) & whole
        people = Q(user__department_id=user.department_id)
        return targets.filter(own | people | departments).distinct()
    subtree = user.department_subtree_ids()
    return targets.filter(own | Q(user__department_id__in=subtree) | Q(department_id__in=subtree))


def targets_starting(user, start: datetime.date, end: datetime.date):
    """The targets ``user`` sees whose period starts in [start, end)."""
    return visible_targets(user).filter(starts_on__gte=start, starts_on__lt=end)


WHOSE = ("departments", "people")
# Above this many targets a chart's bars cannot be told apart: the table alone lists them.
CHART_MAX_TARGETS = 40


def narrowed(targets, *, whose: str = "", period: str = ""):
    """``targets`` of departments or of people only, of one kind of period only."""
    if whose == "departments":
        targets = targets.filter(department__isnull=False)
    elif whose == "people":
        targets = targets.filter(user__isnull=False)
    if period in Target.Period.values:
        targets = targets.filter(period=period)
    return targets


def for_report(user, start: datetime.date, end: datetime.date):
    """The targets a report of [start, end) sets against what was won: its departments',
    of quarters when the report spans more than a quarter and the departments have
    quarterly targets in it (a year of months and quarters per person would be hundreds
    of bars); the plans page lists them all."""
    targets = narrowed(targets_starting(user, start, end), whose="departments")
    if (end - start).days > 92:
        quarterly = narrowed(targets, period=Target.Period.QUARTER)
        if quarterly.exists():
            return quarterly
    return targets


def editable_subjects(user) -> tuple[list, list]:
    """(users, departments) ``user`` may set targets of, for a form to offer."""
    people = get_user_model().objects.filter(is_active=True).order_by("first_name", "email")
    departments = Department.objects.order_by("path")
    scope = scope_for(user, AREA, Action.EDIT)
    if scope != Scope.ALL:
        allowed = _subject_departments(user, scope)
        people = people.filter(department_id__in=allowed).exclude(pk=user.pk)
        departments = departments.filter(pk__in=allowed)
    return list(people), list(departments)


def target_label(target: Target) -> str:
    """ "Anna Smith · Q1 2026", "Sales · March 2026"."""
    if target.period == Target.Period.QUARTER:
        when = quarter_label(target.starts_on.year, (target.starts_on.month + 2) // 3)
    else:
        when = date_format(target.starts_on, "YEAR_MONTH_FORMAT")
    return f"{target.user or target.department} · {when}"


# -- writes --------------------------------------------------------------------------------------


def _snapshot(target: Target) -> dict:
    return {name: getattr(target, name) for name in FIELDS}


def _starts_on(value, period: str, errors: records.FieldErrors) -> datetime.date | None:
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors.add("starts_on", _("Enter a date as YYYY-MM-DD."))
            return None
    if day.day != 1:
        errors.add("starts_on", _("A period starts on the first day of a month."))
    elif period == Target.Period.QUARTER and day.month not in QUARTER_MONTHS:
        errors.add(
            "starts_on", _("A quarter starts on the first of January, April, July or October.")
        )
    return day


def _subject(target: Target, data: dict, errors: records.FieldErrors) -> None:
    user_id = as_db_id(data.get("user_id"))
    department_id = as_db_id(data.get("department_id"))
    for key, value, found in (
        ("user_id", user_id, get_user_model().objects.filter(pk=user_id or 0).exists()),
        ("department_id", department_id, Department.objects.filter(pk=department_id or 0).exists()),
    ):
        if data.get(key) not in (None, "") and not (value and found):
            errors.add(key, _("Unknown user.") if key == "user_id" else _("Unknown department."))
    if "user_id" in errors.by_field or "department_id" in errors.by_field:
        return
    if (user_id is None) == (department_id is None):
        errors.add("user_id", _("Choose a user or a department, one of the two."))
        return
    target.user_id, target.department_id = user_id, department_id


def _figures(target: Target, data: dict, errors: records.FieldErrors) -> None:
    amount_text = data.get("amount")
    target.amount = None
    if amount_text not in (None, ""):
        try:
            target.amount = parse_amount(amount_text)
        except ValidationFailed as exc:
            for message in exc.errors.get("amount", []):
                errors.add("amount", message)
    target.currency = ""
    if target.amount is not None:
        try:
            target.currency = parse_currency(data.get("currency"))
        except ValidationFailed as exc:
            for message in exc.errors.get("currency", []):
                errors.add("currency", message)
    count = data.get("won_count")
    target.won_count = None
    if count not in (None, ""):
        text = str(count).strip()
        if not text.isdigit() or int(text) < 1 or int(text) > 1_000_000:
            errors.add("won_count", _("Enter a whole number of deals from 1 to 1,000,000."))
        else:
            target.won_count = int(text)
    if amount_text in (None, "") and count in (None, ""):
        errors.add("amount", _("Give an amount, a count of won deals, or both."))


def _clean(target: Target, data: dict, actor) -> None:
    """Fill ``target`` from ``data`` (every field, as a form sends them) or raise
    ValidationFailed with every problem; PermissionDenied when ``actor`` may not set it."""
    errors = records.FieldErrors()
    _subject(target, data, errors)
    period = str(data.get("period") or "").strip()
    if period not in Target.Period.values:
        errors.add("period", _("Choose month or quarter."))
    else:
        target.period = period
    starts_on = _starts_on(data.get("starts_on"), period, errors)
    _figures(target, data, errors)
    if "user_id" not in errors.by_field and not may_set(
        actor, user_id=target.user_id, department_id=target.department_id
    ):
        raise PermissionDenied(_("You cannot set a target for this user or department."))
    if starts_on is not None and "starts_on" not in errors.by_field:
        target.starts_on = starts_on
        same = Target.objects.filter(
            user_id=target.user_id,
            department_id=target.department_id,
            period=target.period,
            starts_on=starts_on,
        ).exclude(pk=target.pk)
        if same.exists():
            errors.add("starts_on", _("There is a target for this period already."))
    errors.raise_if_any()


def create_target(data: dict, *, actor) -> Target:
    target = Target()
    with transaction.atomic():
        _clean(target, data, actor)
        target.save()
        audit.record(
            "sales.target.created", target, actor=actor, changes=audit.diff({}, _snapshot(target))
        )
    return target


def update_target(target: Target, data: dict, *, actor) -> Target:
    """Write every field anew from ``data`` (merged with the target's own by the API)."""
    if not may_set(actor, user_id=target.user_id, department_id=target.department_id):
        raise PermissionDenied(_("You cannot change this target."))
    before = _snapshot(target)
    with transaction.atomic():
        _clean(target, data, actor)
        target.save()
        changes = audit.diff(before, _snapshot(target))
        if changes:
            audit.record("sales.target.updated", target, actor=actor, changes=changes)
    return target


def delete_target(target: Target, *, actor) -> None:
    if not may_set(actor, user_id=target.user_id, department_id=target.department_id):
        raise PermissionDenied(_("You cannot delete this target."))
    with transaction.atomic():
        audit.record(
            "sales.target.deleted", target, actor=actor, changes=audit.diff(_snapshot(target), {})
        )
        target.delete()


def as_input(target: Target) -> dict:
    """A target's fields as a form or a patch sends them."""
    return {
        "user_id": target.user_id,
        "department_id": target.department_id,
        "period": target.period,
        "starts_on": target.starts_on.isoformat() if target.starts_on else "",
        "amount": target.amount if target.amount is not None else "",
        "currency": target.currency,
        "won_count": target.won_count if target.won_count is not None else "",
    }
