"""Saved views: create, change, delete, and the views a user sees for a record type.

Any registered record type, through the registry alone. A view is its owner's; sharing
it further takes a grant on its record type (``sharing_choices``):
- with a department: "edit" at scope "department" or wider (a head), and only with a
  department the owner may place such records in (``access.placement_departments``:
  their own, their subtree, any with "all");
- with everyone: "edit" with scope "all" (an administrator of that type).
Its owner changes and deletes it, and so does an administrator of views
(``may_manage_views``). Each write is one transaction with its audit row
(``savedviews.savedview.created``, ``updated``, ``deleted``: the fields changed).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kontor.accounts.models import Department, Role
from kontor.core import modules
from kontor.core import services as records
from kontor.core.access import Action, Scope, may, placement_departments, placement_scope
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id, text_problem
from kontor.core.types import RecordType
from kontor.core.types import get as type_of

from .models import DefaultView, PinnedView, SavedView, may_manage_views

NAME_LIMIT = SavedView._meta.get_field("name").max_length
VALUE_LIMIT = 500  # characters of one parameter's value
VALUES_LIMIT = 50  # values of one parameter (custom field conditions)
CHANGEABLE = ("name", "query", "columns", "sharing", "department_id")
Sharing = SavedView.Sharing


def seen_for_type(user, rt: RecordType, *, every_owner: bool = False):
    """The views of a type the user sees: their own and those shared with them; with
    ``every_owner``, an administrator of views gets everyone's (others still their own)."""
    if not may(user, rt.object_type, Action.VIEW):
        return SavedView.objects.none()
    found = SavedView.objects.visible_to(user) if every_owner else SavedView.objects.seen_by(user)
    return (
        found.filter(object_type=rt.object_type)
        .select_related("owner", "department")
        .order_by(Lower("name"), "id")
    )


def view_for(user, pk) -> SavedView:
    """A view the user may open, by id; one of a type they cannot view does not exist."""
    pk = as_db_id(pk)
    found = SavedView.objects.visible_to(user).select_related("owner", "department")
    view = found.filter(pk=pk).first() if pk is not None else None
    if view is None or not may(user, view.object_type, Action.VIEW):
        raise NotFound()
    return view


def record_type(view: SavedView) -> RecordType | None:
    found = type_of(view.object_type)
    return found if isinstance(found, RecordType) else None


def may_change(user, view: SavedView) -> bool:
    return view.owner_id == getattr(user, "pk", None) or may_manage_views(user)


def sharing_choices(user, object_type: str) -> list[str]:
    """How far ``user`` may share a view of this type."""
    scope = placement_scope(user, object_type, Action.EDIT)
    return [
        Sharing.PERSONAL,
        *([Sharing.DEPARTMENT] if scope >= Scope.DEPARTMENT else []),
        *([Sharing.EVERYONE] if scope == Scope.ALL else []),
    ]


def open_query(view: SavedView) -> str:
    """The list's query string that opens the view (with its columns, if it keeps any)."""
    pairs = [(key, value) for key, values in view.query.items() for value in values]
    pairs += [("cols", key) for key in view.columns]
    return "?" + urlencode(pairs) if pairs else ""


def state_of(rt: RecordType, params) -> dict[str, list[str]]:
    """A list's state from its query string (a ``QueryDict``): the parameters the list
    reads, empty ones left out (and "mine" unless checked, the sort the list has anyway);
    of a parameter that does not repeat, the last value (the list form sends "mine"
    unchecked before checked)."""
    state = {}
    for key in rt.list_params():
        values = [v for v in params.getlist(key) if v.strip()]
        if values:
            state[key] = values if key == "custom" else values[-1:]
    if state.get("mine", ["true"]) != ["true"]:
        del state["mine"]
    if state.get("sort") == [rt.default_sort]:
        del state["sort"]
    return state


def create(rt: RecordType, data: dict, *, actor) -> SavedView:
    """A view of ``rt`` from ``{"name", "query"?, "columns"?, "sharing"?,
    "department_id"?}``; the actor must be able to view such records."""
    if not may(actor, rt.object_type, Action.VIEW):
        raise PermissionDenied()
    view = SavedView(owner=actor, object_type=rt.object_type)
    with transaction.atomic():
        _clean(view, {"query": {}, "columns": [], **data}, rt, actor)
        view.save(force_insert=True)
        records.audit_write("created", view, {}, actor=actor)
    return view


def update(view: SavedView, data: dict, *, actor) -> SavedView:
    """Change the sent fields (of ``CHANGEABLE``): the owner's, or an administrator's."""
    rt = record_type(view)
    if not may_change(actor, view) or rt is None:
        raise PermissionDenied()
    with transaction.atomic():
        view = SavedView.objects.select_for_update().get(pk=view.pk)
        before = records.field_snapshot(view)
        _clean(view, {k: v for k, v in data.items() if k in CHANGEABLE}, rt, actor)
        view.save()
        records.audit_write("updated", view, before, actor=actor)
    return view


def delete(view: SavedView, *, actor) -> None:
    if not may_change(actor, view):
        raise PermissionDenied()
    records.delete_audited(view, actor=actor)


# -- defaults and pins ------------------------------------------------------------------------

PINS_LIMIT = 20  # views one user keeps in the main menu


def default_view(user, rt: RecordType) -> SavedView | None:
    """The view ``rt``'s list opens in for ``user``: their own default, else their roles'
    (the first role by name); one they no longer see is passed over."""
    found = (
        DefaultView.objects.filter(object_type=rt.object_type, view__in=seen_for_type(user, rt))
        .filter(Q(user_id=user.pk) | Q(role_id__in=user.access_role_ids()))
        .select_related("view", "role")
    )
    mine = [d for d in found if d.user_id == user.pk]
    by_role = sorted((d for d in found if d.role_id), key=lambda d: d.role.name.lower())
    chosen = (mine or by_role or [None])[0]
    return chosen.view if chosen else None


def own_default_id(user, rt: RecordType) -> int | None:
    found = DefaultView.objects.filter(object_type=rt.object_type, user_id=user.pk)
    return found.values_list("view_id", flat=True).first()


def set_own_default(user, view: SavedView, on: bool) -> None:
    """Make ``view`` (one the user sees) the list's default for them, or stop it being so."""
    mine = DefaultView.objects.filter(object_type=view.object_type, user_id=user.pk)
    with transaction.atomic():
        if not on:
            mine.filter(view=view).delete()
        elif not mine.update(view=view):
            DefaultView.objects.create(object_type=view.object_type, user=user, view=view)


def role_defaults():
    return DefaultView.objects.filter(role__isnull=False).select_related("view", "role")


def set_role_default(view: SavedView, role_id, *, actor) -> DefaultView:
    """An administrator of views makes ``view`` the default of a role's members; the view
    must be shared with everyone (a role spans departments). It replaces the role's
    default for that record type."""
    if not may_manage_views(actor):
        raise PermissionDenied()
    errors = records.FieldErrors()
    role = Role.objects.filter(pk=as_db_id(role_id)).first()
    if role is None:
        errors.add("role_id", _("Choose a role."))
    if view.sharing != Sharing.EVERYONE:
        errors.add("view_id", _("A role's default view must be shared with everyone."))
    errors.raise_if_any()
    with transaction.atomic():
        default = DefaultView.objects.filter(object_type=view.object_type, role=role).first()
        before = records.field_snapshot(default) if default else {}
        default = default or DefaultView(object_type=view.object_type, role=role)
        default.view = view
        default.save()
        records.audit_write("updated" if before else "created", default, before, actor=actor)
    return default


def remove_role_default(default_id, *, actor) -> None:
    if not may_manage_views(actor):
        raise PermissionDenied()
    default = role_defaults().filter(pk=as_db_id(default_id)).first()
    if default is None:
        raise NotFound()
    records.delete_audited(default, actor=actor)


def pinned_views(user) -> list[SavedView]:
    """The views the user keeps in the main menu, of the types they may still view."""
    found = (
        SavedView.objects.seen_by(user).filter(pins__user_id=user.pk).order_by("pins__pinned_at")
    )
    return [
        view
        for view in found
        if (rt := record_type(view))
        and may(user, rt.object_type, Action.VIEW)
        and modules.type_enabled(user, rt.object_type)
    ]


def pinned_ids(user) -> set[int]:
    return set(PinnedView.objects.filter(user_id=user.pk).values_list("view_id", flat=True))


def set_pinned(user, view: SavedView, on: bool) -> None:
    if not on:
        PinnedView.objects.filter(user_id=user.pk, view=view).delete()
        return
    mine = PinnedView.objects.filter(user_id=user.pk)
    if mine.filter(view=view).exists():
        return
    if mine.count() >= PINS_LIMIT:
        message = _("Keep at most %(limit)d views in the menu.") % {"limit": PINS_LIMIT}
        raise ValidationFailed(message, errors={"pinned": [message]})
    PinnedView.objects.create(user=user, view=view)


# -- checking input ---------------------------------------------------------------------------


def _clean(view: SavedView, data: dict, rt: RecordType, actor) -> None:
    errors = records.FieldErrors()
    if "name" in data or view.pk is None:
        view.name = _name(data.get("name"), view, errors)
    if "query" in data:
        view.query = _query(data["query"], rt, errors)
    if "columns" in data:
        view.columns = _columns(data["columns"], rt, actor, errors)
    if "sharing" in data or "department_id" in data:
        _sharing(view, data, rt, actor, errors)
    errors.raise_if_any()


def _name(value, view: SavedView, errors) -> str:
    mine = SavedView.objects.filter(owner_id=view.owner_id, object_type=view.object_type)
    taken = _("You have a view of this name for these records already.")
    return records.unique_name(
        value, mine.exclude(pk=view.pk), errors, limit=NAME_LIMIT, taken=taken
    )


def _query(value, rt: RecordType, errors) -> dict[str, list[str]]:
    """Parameter -> its values (a text alone is one value); only parameters the list reads."""
    if not isinstance(value, dict):
        errors.add("query", _("The list's state is a JSON object: parameter -> values."))
        return {}
    known = rt.list_params()
    state = {}
    for key, given in value.items():
        values = [given] if isinstance(given, str) else given
        if key not in known:
            errors.add(
                "query",
                _("Unknown parameter: %(name)s (one of: %(names)s).")
                % {"name": key, "names": ", ".join(known)},
            )
        elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            errors.add("query", _("The values of %(name)s are texts.") % {"name": key})
        elif len(values) > (VALUES_LIMIT if key == "custom" else 1):
            errors.add("query", _("Too many values of %(name)s.") % {"name": key})
        elif any(len(v) > VALUE_LIMIT for v in values):
            errors.add(
                "query", _("Keep each value to %(limit)d characters.") % {"limit": VALUE_LIMIT}
            )
        elif problem := next(filter(None, map(text_problem, values)), None):
            errors.add("query", problem)
        elif values:
            state[key] = values
    return state


def _columns(value, rt: RecordType, actor, errors) -> list[str]:
    available = [column.key for column in rt.list_columns(actor)]
    if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
        errors.add("columns", _("Columns are a list of column keys."))
        return []
    unknown = [key for key in value if key not in available]
    if unknown:
        errors.add(
            "columns",
            _("Unknown columns: %(keys)s (available: %(names)s).")
            % {"keys": ", ".join(unknown[:10]), "names": ", ".join(available)},
        )
    return list(dict.fromkeys(value))


def _sharing(view: SavedView, data: dict, rt: RecordType, actor, errors) -> None:
    """Who else sees the view; only as far as the actor may share it (an administrator of
    views changing another's view keeps its sharing unless they may share that far too)."""
    sharing = data.get("sharing", view.sharing)
    if sharing not in Sharing.values:
        errors.add("sharing", _("Unknown choice: %(value)s.") % {"value": sharing})
        return
    changed = sharing != view.sharing or (sharing == Sharing.DEPARTMENT and "department_id" in data)
    if changed and sharing not in sharing_choices(actor, rt.object_type):
        raise PermissionDenied(_("You may not share views of these records this far."))
    view.sharing = sharing
    if sharing != Sharing.DEPARTMENT:
        view.department = None
        return
    department_id = as_db_id(data.get("department_id", view.department_id))
    if department_id is None:
        errors.add("department_id", _("Choose the department to share the view with."))
        return
    allowed = placement_departments(actor, rt.object_type, Action.EDIT)
    if changed and allowed is not None and department_id not in allowed:
        raise PermissionDenied(_("You cannot share views with this department."))
    if not Department.objects.filter(pk=department_id).exists():
        errors.add("department_id", str(records.PLACEMENT_UNKNOWN["department_id"]))
        return
    view.department_id = department_id
