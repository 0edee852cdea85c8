"""/api/v1/views: saved views of record lists (list for a type, create, get, patch,
delete), with the rules of ``savedviews.services``: yours and those shared with you;
shared as far as your grants on the record type allow; changed by you or an administrator."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core import types
from kontor.core.api import DbInt, ErrorOut, Ref, StrictIn, ref
from kontor.core.errors import PermissionDenied

from . import services
from .models import SavedView, may_manage_views

router = Router(tags=["views"])

TYPE = "The record type: people, companies, deals, ..."
QUERY = (
    'The list\'s query parameters, each a text or a list of texts ({"q": "smith", "custom": '
    '["region:north"], "sort": "-name"}): q, tag, owner_id, department_id, mine, the type\'s '
    "own filters, custom (custom field conditions, may repeat) and sort"
)
COLUMNS = "Column keys shown, in order; empty: the user's own choice of columns"
SHARING = "personal, department (with department_id) or everyone"
Sharing = Literal["personal", "department", "everyone"]


class ViewOut(Schema):
    id: int
    name: str
    object_type: str
    query: dict[str, list[str]]
    columns: list[str]
    sharing: Sharing
    department: Ref | None
    owner: Ref
    created_at: datetime.datetime
    updated_at: datetime.datetime
    may_change: bool
    url: str = Field(description="The list page opened in this view")


class ViewIn(StrictIn):
    name: str
    type: str = Field(description=TYPE)
    query: dict[str, str | list[str]] = Field({}, description=QUERY)
    columns: list[str] = Field([], description=COLUMNS)
    sharing: Sharing = Field("personal", description=SHARING)
    department_id: DbInt | None = None


class ViewPatch(StrictIn):
    name: str | None = None
    query: dict[str, str | list[str]] | None = Field(None, description=QUERY)
    columns: list[str] | None = Field(None, description=COLUMNS)
    sharing: Sharing | None = Field(None, description=SHARING)
    department_id: DbInt | None = None


def _out(view: SavedView, user) -> dict:
    rt = services.record_type(view)
    return {
        **{
            name: getattr(view, name)
            for name in (
                "id",
                "name",
                "object_type",
                "query",
                "columns",
                "sharing",
                "created_at",
                "updated_at",
            )
        },  # fmt: skip
        "department": ref(view.department),
        "owner": ref(view.owner),
        "may_change": services.may_change(user, view),
        "url": rt.url("list") + services.open_query(view) if rt else "",
    }


@router.get("/views", response=list[ViewOut], operation_id="views_list")
def list_views(
    request,
    type: str = Query(..., description=TYPE),
    every_owner: bool = Query(False, description="Everyone's views (administrators of views)"),
):
    """The views of a record type you see: yours and those shared with you."""
    rt = types.record_type_named(type)
    found = services.seen_for_type(request.user, rt, every_owner=every_owner)
    return [_out(view, request.user) for view in found]


@router.post("/views", response={201: ViewOut}, operation_id="views_create")
def create_view(request, body: ViewIn):
    data = body.model_dump()
    rt = types.record_type_named(data.pop("type"))
    return Status(201, _out(services.create(rt, data, actor=request.user), request.user))


@router.get("/views/{int:view_id}", response=ViewOut, operation_id="views_get")
def get_view(request, view_id: int):
    return _out(services.view_for(request.user, view_id), request.user)


@router.patch("/views/{int:view_id}", response=ViewOut, operation_id="views_update")
def update_view(request, view_id: int, body: ViewPatch):
    """Change the fields sent (yours; an administrator: anyone's)."""
    view = services.view_for(request.user, view_id)
    changes = body.model_dump(exclude_none=True)
    return _out(services.update(view, changes, actor=request.user), request.user)


@router.delete("/views/{int:view_id}", response={204: None}, operation_id="views_delete")
def delete_view(request, view_id: int):
    services.delete(services.view_for(request.user, view_id), actor=request.user)
    return Status(204, None)


# -- your own defaults and menu, and the roles' defaults ---------------------------------------


class PreferenceIn(StrictIn):
    on: bool = Field(description="true: set; false: unset")


class PreferenceOut(Schema):
    default_view: ViewOut | None = Field(description="The view this type's list opens in for you")
    pinned: list[ViewOut] = Field(description="Your views in the main menu, every type")


def _preferences(user, rt) -> dict:
    default = services.default_view(user, rt)
    return {
        "default_view": _out(default, user) if default else None,
        "pinned": [_out(view, user) for view in services.pinned_views(user)],
    }


@router.get("/views/preferences", response=PreferenceOut, operation_id="views_preferences")
def view_preferences(request, type: str = Query(..., description=TYPE)):
    """The view a type's list opens in for you (your own default, else your role's) and
    the views you keep in the main menu."""
    return _preferences(request.user, types.record_type_named(type))


@router.put("/views/{int:view_id}/default", response=PreferenceOut, operation_id="views_default")
def set_default(request, view_id: int, body: PreferenceIn):
    """Open this view's list in it by default (for you), or stop doing so."""
    view = services.view_for(request.user, view_id)
    services.set_own_default(request.user, view, body.on)
    return _preferences(request.user, services.record_type(view))


@router.put("/views/{int:view_id}/pin", response=PreferenceOut, operation_id="views_pin")
def set_pin(request, view_id: int, body: PreferenceIn):
    """Keep this view in your main menu (at most 20), or take it out."""
    view = services.view_for(request.user, view_id)
    services.set_pinned(request.user, view, body.on)
    return _preferences(request.user, services.record_type(view))


class RoleDefaultOut(Schema):
    id: int
    object_type: str
    role: Ref
    view: Ref


class RoleDefaultIn(StrictIn):
    role_id: DbInt
    view_id: DbInt = Field(description="A view shared with everyone")


def _role_default(default) -> dict:
    return {
        "id": default.pk,
        "object_type": default.object_type,
        "role": ref(default.role),
        "view": ref(default.view),
    }


def _require_admin(user) -> None:
    if not may_manage_views(user):
        raise PermissionDenied()


@router.get(
    "/views/role-defaults",
    response={200: list[RoleDefaultOut], 403: ErrorOut},
    operation_id="views_role_defaults",
)
def list_role_defaults(request):
    """Each role's default view per record type (administrators of views)."""
    _require_admin(request.user)
    return [_role_default(default) for default in services.role_defaults()]


@router.post(
    "/views/role-defaults",
    response={200: RoleDefaultOut, 404: ErrorOut},
    operation_id="views_role_default_set",
)
def set_role_default(request, body: RoleDefaultIn):
    """Make a view shared with everyone the default of a role's members for its record
    type (replacing the role's default for that type)."""
    _require_admin(request.user)
    view = services.view_for(request.user, body.view_id)
    return _role_default(services.set_role_default(view, body.role_id, actor=request.user))


@router.delete(
    "/views/role-defaults/{int:default_id}",
    response={204: None},
    operation_id="views_role_default_remove",
)
def remove_role_default(request, default_id: int):
    services.remove_role_default(default_id, actor=request.user)
    return Status(204, None)
