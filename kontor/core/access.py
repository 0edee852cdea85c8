"""Record-level access control: the one door every read and write of business data passes.

A user's roles grant, per object type ("contacts.person", or "*" for every type) and
action, a scope: own records, my department, my department and its sub-departments,
or everything. Several roles combine to the widest scope. Superusers bypass.

Every scope also covers the records the user owns. A record with no department is seen
only through "all" or by its owner.

``core`` knows no domain app: it reads grants through the user object's
``access_grants()`` and ``department_subtree_ids()`` (see ``kontor.accounts.models.User``).
A model names the attributes that place it: ``access_owner_field`` ("owner_id") and
``access_department_field`` ("department_id"); either may be None.
"""

from __future__ import annotations

import time
from enum import IntEnum

from django.db import connections, models
from django.db.models import F, Func, Q
from django.db.models.lookups import Exact, In
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .errors import NotFound, PermissionDenied


class Action:
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    EXPORT = "export"

    all = (VIEW, CREATE, EDIT, DELETE, EXPORT)
    # "permission": a column of the role matrix ("Editing"), not a button ("Edit").
    choices = [
        (VIEW, pgettext_lazy("permission", "View")),
        (CREATE, pgettext_lazy("permission", "Create")),
        (EDIT, pgettext_lazy("permission", "Edit")),
        (DELETE, pgettext_lazy("permission", "Delete")),
        (EXPORT, pgettext_lazy("permission", "Export")),
    ]


class Scope(IntEnum):
    """Ordered: a wider scope includes every narrower one."""

    NONE = 0
    OWN = 1
    DEPARTMENT = 2
    SUBTREE = 3
    ALL = 4

    @classmethod
    def choices(cls):
        return [
            (cls.OWN.value, _("Own records")),
            (cls.DEPARTMENT.value, _("My department")),
            (cls.SUBTREE.value, _("My department and sub-departments")),
            (cls.ALL.value, _("Everything")),
        ]


ANY_OBJECT_TYPE = "*"


class SystemActor:
    """Kontor itself acting (CLI, demo loader, scheduled jobs): every scope, no user row."""

    pk = None
    id = None
    department_id = None
    is_authenticated = True
    is_active = True
    is_superuser = True

    def get_username(self) -> str:
        return "system"

    def __str__(self):
        return "system"


SYSTEM = SystemActor()


def object_type_of(model_or_obj) -> str:
    return model_or_obj._meta.label_lower


def scope_for(user, object_type: str, action: str) -> Scope:
    """The widest scope any of the user's roles grant for this action on this type."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope.NONE
    if user.is_superuser:
        return Scope.ALL
    grants = user.access_grants()
    return max(
        grants.get((object_type, action), Scope.NONE),
        grants.get((ANY_OBJECT_TYPE, action), Scope.NONE),
    )


def scope_q(user, model, action: str, *, sorted_page: bool = False) -> Q | None:
    """A filter selecting the rows of ``model`` within the user's scope, or None for no rows.

    ``sorted_page``: the rows are read as a page sorted along an index (a list); on SQLite
    a large department scope then leaves that index to the sort (see ``_walks_sort_index``).
    """
    scope = scope_for(user, object_type_of(model), action)
    if scope == Scope.NONE:
        return None
    if scope == Scope.ALL:
        return Q()
    owner_field = model.access_owner_field
    department_field = model.access_department_field
    # Q(pk__in=[]) matches nothing: the neutral start for "own OR department".
    own = Q(**{owner_field: user.pk}) if owner_field else Q(pk__in=[])
    # A user without a department has no department records: only their own, as in
    # record_in_scope (tests/test_permission_matrix.py holds the two to one answer).
    if scope == Scope.OWN or department_field is None or user.department_id is None:
        return own
    if scope == Scope.DEPARTMENT:
        departments = [user.department_id]
        indexed = own | Q(**{department_field: user.department_id})
    else:
        departments = user.department_subtree_ids()
        indexed = own | Q(**{f"{department_field}__in": departments})
    if not (sorted_page and owner_field and _walks_sort_index(model, indexed)):
        return indexed
    return Q(Exact(PageColumn(F(owner_field)), user.pk)) | Q(
        In(PageColumn(F(department_field)), departments)
    )


class PageColumn(Func):
    """A column kept out of SQLite's index choice in a page, so that the page walks the
    index of its sort instead of reading every row the column's index finds.

    Rendered ``+column`` (no index may serve it) only in a query that is ordered and
    sliced, a page; a count, an existence test or a read by id of the same queryset keeps
    the column's index.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        query = compiler.query
        ordered = query.order_by or (query.default_ordering and query.get_meta().ordering)
        if query.is_sliced and ordered:
            extra["template"] = "+%(expressions)s"
        return self.as_sql(compiler, connection, **extra)


# SQLite does not weigh LIMIT: for "owner is me OR department is mine" it reads the whole
# scope through those two indexes and sorts it, even where the sort's own index would
# find a page among the first few hundred rows (a member's page of a million people, 277
# -> 5 ms, docs/benchmarks.md). Walking the sort's index reads about 50 x table / scope
# rows before a page is full, sorting reads the scope: the walk wins for a scope holding
# at least this share of the table (a 1,000-row scope would walk 50,000 rows instead).
WALK_SHARE = 1 / 20
# Below this many rows every plan is fast; nothing is counted.
WALK_MIN_ROWS = 50_000
# How long a scope's size is trusted: scopes grow and shrink slowly, a count costs up to
# table x WALK_SHARE index entries.
WALK_TTL_SECONDS = 300.0
_walk_decisions: dict[tuple, tuple[float, bool]] = {}


def analyzed_rows(model) -> int:
    """The rows of ``model``'s table as SQLite's last ANALYZE counted them (``sqlite_stat1``,
    written after imports); 0 when not known or not SQLite."""
    connection = connections[model.objects.db]
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return 0
        cursor.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [model._meta.db_table]
        )
        row = cursor.fetchone()
    return int(row[0].split()[0]) if row else 0


def _walks_sort_index(model, scope: Q) -> bool:
    """Whether a sorted page of ``scope`` should walk the sort's index (SQLite, a scope
    holding at least WALK_SHARE of a table of WALK_MIN_ROWS or more).

    The table's size is read from ``sqlite_stat1`` (written by ANALYZE after imports; no
    statistics, no walk), the scope's by a count that stops at the share.
    """
    alias = model.objects.db
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return False  # PostgreSQL weighs LIMIT itself
    table = model._meta.db_table
    key = (alias, table, repr(scope))
    now = time.monotonic()
    known = _walk_decisions.get(key)
    if known is not None and known[0] > now:
        return known[1]
    rows = analyzed_rows(model)
    walks = False
    if rows >= WALK_MIN_ROWS:
        share = int(rows * WALK_SHARE)
        walks = model.objects.filter(scope).order_by()[:share].count() >= share
    if len(_walk_decisions) > 10_000:
        _walk_decisions.clear()
    _walk_decisions[key] = (now + WALK_TTL_SECONDS, walks)
    return walks


def record_in_scope(user, obj, action: str) -> bool:
    """The Python twin of ``scope_q`` for one (possibly unsaved) record."""
    scope = scope_for(user, object_type_of(obj), action)
    if scope == Scope.NONE:
        return False
    if scope == Scope.ALL:
        return True
    owner_id = getattr(obj, obj.access_owner_field) if obj.access_owner_field else None
    department_id = (
        getattr(obj, obj.access_department_field) if obj.access_department_field else None
    )
    if owner_id is not None and owner_id == user.pk:
        return True
    if department_id is None or user.department_id is None:
        return False
    if scope == Scope.DEPARTMENT:
        return department_id == user.department_id
    if scope == Scope.SUBTREE:
        return department_id in user.department_subtree_ids()
    return False


def require(user, action: str, obj) -> None:
    """Raise unless ``user`` may do ``action`` on ``obj``.

    Every action is bounded by the view scope. A record the user cannot even view is
    NotFound (404), never PermissionDenied: its existence is not disclosed. A new record
    may not be placed where its creator could not see it (PermissionDenied: nothing
    exists yet to hide).
    """
    if not record_in_scope(user, obj, Action.VIEW):
        if obj.pk is None and action == Action.CREATE:
            raise PermissionDenied()
        raise NotFound()
    if not record_in_scope(user, obj, action):
        raise PermissionDenied()


def placement_scope(user, object_type: str, action: str) -> Scope:
    """How far ``user`` may place a record for ``action``: that scope, bounded by view."""
    return min(scope_for(user, object_type, action), scope_for(user, object_type, Action.VIEW))


def placement_departments(user, object_type: str, action: str) -> list[int | None] | None:
    """The department ids a record may be put in for ``action``; None means any, or none.

    Unlike reading, owning a record widens nothing here: "own" and "department" place in
    the user's department, "subtree" in its subtree; a user without a department places
    records without one.
    """
    scope = placement_scope(user, object_type, action)
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return []
    if scope == Scope.SUBTREE and user.department_id is not None:
        return user.department_subtree_ids()
    return [user.department_id]


def placement_owners_q(user, object_type: str, action: str) -> Q | None:
    """A filter on users: whom ``user`` may make owner of a record for ``action``.

    Themselves, and with a department-wide scope the users of the departments they may
    place records in; everyone with "all". None: nobody.
    """
    scope = placement_scope(user, object_type, action)
    if scope == Scope.NONE:
        return None
    if scope == Scope.ALL:
        return Q()
    themselves = Q(pk=user.pk)
    departments = [d for d in placement_departments(user, object_type, action) if d is not None]
    if scope == Scope.OWN or not departments:
        return themselves
    return themselves | Q(department_id__in=departments)


def require_placement(user, action: str, obj, *, department_changed: bool = True) -> None:
    """Raise PermissionDenied unless ``obj``, as it will be saved, sits where ``user`` may put it.

    Its owner or department must be inside the action's scope, as ``record_in_scope``
    says (so a member edits the records they own); and a department set or changed must
    be one ``placement_departments`` allows: owning a record does not widen where it
    may go. A department left as it was is not asked about again.
    """
    if not record_in_scope(user, obj, action):
        raise PermissionDenied(_("You cannot move this record out of your own scope."))
    field = obj.access_department_field
    if not department_changed or field is None:
        return
    allowed = placement_departments(user, object_type_of(obj), action)
    if allowed is not None and getattr(obj, field) not in allowed:
        raise PermissionDenied(_("You cannot place a record in this department."))


def sees_all(user, model) -> bool:
    """Whether ``user`` views every row of ``model`` (no scope to check per row)."""
    return scope_for(user, object_type_of(model), Action.VIEW) == Scope.ALL


def may(user, object_type: str, action: str) -> bool:
    """Whether the user holds ``action`` on ``object_type`` at any scope (menus, buttons)."""
    return scope_for(user, object_type, action) > Scope.NONE


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = Action.VIEW, *, sorted_page: bool = False):
        """The rows ``user`` may ``action``: the only entry point for reading business data.

        Every action stays inside what the user may view (an export never reaches
        further than the list), so a wider grant for another action is cut to the view scope.
        ``sorted_page``: see ``scope_q``.
        """
        q = scope_q(user, self.model, action, sorted_page=sorted_page)
        if q is None:
            return self.none()
        if action != Action.VIEW:
            view = scope_q(user, self.model, Action.VIEW)
            if view is None:
                return self.none()
            q &= view
        return self.filter(q)

    def get_visible(self, user, pk, action: str = Action.VIEW):
        """One row by primary key, or NotFound if absent or outside the user's scope."""
        try:
            return self.visible_to(user, action).get(pk=pk)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
