"""Access-scoped reads of users, departments, roles and tokens: the one door for UI and API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q

from kontor.core import types
from kontor.core.access import (
    ANY_OBJECT_TYPE,
    Action,
    placement_departments,
    placement_owners_q,
)

from .models import ApiToken, Department, Role, RoleGrant, User


@dataclass
class UserFilters:
    q: str = ""
    department_id: int | None = None
    active: bool | None = None


def users(actor, filters: UserFilters | None = None, *, action: str = Action.VIEW):
    """Users ``actor`` may ``action``, narrowed by name/email text, department and active flag."""
    filters = filters or UserFilters()
    qs = User.objects.visible_to(actor, action).select_related("department")
    if filters.q:
        for term in filters.q.split():
            qs = qs.filter(
                Q(email__icontains=term)
                | Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
            )
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    return qs.prefetch_related("roles").order_by("last_name", "first_name", "email", "id")


def department_tree(actor, *, action: str = Action.VIEW) -> list[Department]:
    """Departments ``actor`` may see, depth-first with siblings by name.

    Each carries ``tree_depth``: its depth below the highest department the actor sees,
    so a head's tree starts at their own department; and ``tree_label``, its name
    indented by that depth, so a select reads as the tree.
    """
    return _as_tree(Department.objects.visible_to(actor, action))


def _as_tree(departments) -> list[Department]:
    departments = list(departments)
    by_id = {d.pk: d for d in departments}
    children: dict[int | None, list[Department]] = {}
    for d in departments:
        parent_key = d.parent_id if d.parent_id in by_id else None
        children.setdefault(parent_key, []).append(d)
    ordered: list[Department] = []

    def walk(parent_key, depth):
        for d in sorted(children.get(parent_key, []), key=lambda d: (d.name.casefold(), d.pk)):
            d.tree_depth = depth
            d.tree_label = "\u2003" * depth + d.name
            ordered.append(d)
            walk(d.pk, depth + 1)

    walk(None, 0)
    return ordered


def placement_department_tree(actor, object_type: str, action: str, *, keep=None):
    """The departments ``actor`` may put a record of ``object_type`` in for ``action``, as a tree.

    With "view", the departments a list of that type may be filtered by. ``keep`` (a
    record's current department id) is listed too, so editing a record placed by
    someone else does not move it.
    """
    reach = placement_departments(actor, object_type, action)
    departments = Department.objects.all()
    if reach is not None:
        departments = departments.filter(pk__in=[d for d in [*reach, keep] if d is not None])
    return _as_tree(departments)


def assignable_owners(actor, object_type: str, action: str, *, keep=None):
    """Active users ``actor`` may make owner of a record of ``object_type`` for ``action``.

    See ``core.access.placement_owners_q``: themselves, the users of the departments
    they may place records in, everyone with "all". With "view", whom a list of that
    type may be filtered by. ``keep`` (a record's current owner id) is listed too.
    """
    owners = placement_owners_q(actor, object_type, action)
    users = User.objects.filter(owners if owners is not None else Q(pk__in=[]), is_active=True)
    if keep is not None:
        users = users | User.objects.filter(pk=keep)
    return users.only("id", "first_name", "last_name", "email").order_by(
        "last_name", "first_name", "email", "id"
    )


def member_counts(actor) -> dict[int, int]:
    """Per department id, how many of its users ``actor`` can see."""
    rows = (
        User.objects.visible_to(actor)
        .exclude(department_id=None)
        .values("department_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["department_id"]: row["n"] for row in rows}


def roles(actor, *, action: str = Action.VIEW):
    return Role.objects.visible_to(actor, action).prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.order_by("object_type", "action"))
    )


def assignable_roles(actor):
    """Roles whose names a role manager picks from on the user form."""
    return Role.objects.visible_to(actor).order_by("name")


def tokens_of(user):
    """The API tokens of ``user`` (their own list; nobody reads another's)."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )


def object_types() -> list[str]:
    """Every object type a grant can name: "*" first, then every registered type."""
    return [ANY_OBJECT_TYPE, *types.grantable()]
