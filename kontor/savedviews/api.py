"""/api/v1/views: saved views of record lists (list for a type, create, get, patch,
delete), with the rules of ``savedviews.services``: yours and those shared with you;
shared as far as your grants on the record type allow; changed by you or an administrator."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core import types
from kontor.core.api import DbInt, Ref, StrictIn, ref

from . import services
from .models import SavedView

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
