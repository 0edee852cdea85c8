"""/api/v1/fields: custom field definitions, for administrators (may_manage_fields).

The same services as the settings pages: every error is the API's ``{"detail", "errors"}``
with messages keyed by attribute. Anyone else gets 403 on every route, whatever the id,
so the routes tell nothing about which fields exist.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from ..api import DbInt, ErrorOut
from ..errors import NotFound, PermissionDenied
from ..models import CustomField
from . import kinds, services
from .kinds import Kind

router = Router(tags=["fields"])

_KINDS = ", ".join(Kind.values)


class Choice(Schema):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Stored in records; letters, digits, '-' and '_'")
    label: str


class _Options(Schema):
    """The attributes a definition is made of, each optional (a PATCH sends some)."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    name: str | None = Field(None, description="The API name records use: lowercase, _")
    kind: str | None = Field(None, description=f"One of: {_KINDS}. Changing it converts values")
    help_text: str | None = None
    required: bool | None = None
    unique: bool | None = None
    default: Any = Field(None, description="Filled in on new records, typed as the kind's values")
    minimum: Any = Field(None, description="A number or date; text: length; options: count")
    maximum: Any = None
    pattern: str | None = Field(None, description="Text kinds: a regular expression")
    choices: list[Choice] | None = Field(None, description="Choice kinds: the options, in order")
    currency: str | None = Field(None, description="Money: a three-letter code")
    related_type: str | None = Field(None, description="Relation: the linked object type")
    formula: str | None = Field(
        None,
        description="Formula: what it computes (docs/formulas.md); money results need a currency",
    )
    section: str | None = None
    position: DbInt | None = None
    view_roles: list[DbInt] | None = Field(None, description="Role ids; empty: everyone")
    edit_roles: list[DbInt] | None = Field(None, description="Role ids; empty: everyone")


class FieldIn(_Options):
    object_type: str = Field(description="The type the field belongs to: contacts.person")
    label: str
    name: str
    kind: str = Field(description=f"One of: {_KINDS}")


class FieldPatch(_Options):
    version: DbInt | None = Field(None, description="The version you edited: 409 if older")


class FieldOut(Schema):
    id: int
    object_type: str
    name: str
    label: str
    kind: str
    help_text: str
    required: bool
    unique: bool
    default: Any
    minimum: Any
    maximum: Any
    pattern: str
    choices: list[Choice]
    currency: str
    related_type: str
    formula: str
    result_kind: str = Field(
        description="Formula: the kind its values are stored and filtered as (decimal, money, "
        "text, date, boolean); empty for other kinds"
    )
    section: str
    position: int
    view_roles: list[int]
    edit_roles: list[int]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def _require_manager(user) -> None:
    if not services.may_manage_fields(user):
        raise PermissionDenied()


def _field(user, field_id: int) -> CustomField:
    _require_manager(user)
    field = CustomField.objects.visible_to(user).filter(pk=field_id).first()
    if field is None:
        raise NotFound()
    return field


def _attributes(payload: Schema) -> dict:
    data = payload.model_dump(exclude_unset=True)
    # An attribute sent as null is its empty value (the model's columns hold no nulls).
    empty = {"help_text": "", "pattern": "", "currency": "", "related_type": "", "section": ""}
    empty["formula"] = ""
    empty |= {"choices": [], "view_roles": [], "edit_roles": []}
    return {k: (empty.get(k) if v is None and k in empty else v) for k, v in data.items()}


@router.get("/fields", response={200: list[FieldOut], 403: ErrorOut}, operation_id="fields_list")
def list_fields(
    request, object_type: str = Query("", description="Only this type's: contacts.person")
):
    """The custom fields of every type, or of ``object_type``, in form order."""
    _require_manager(request.user)
    fields = CustomField.objects.visible_to(request.user)
    if object_type:
        fields = fields.filter(object_type=object_type)
    return list(fields.order_by("object_type", "section", "position", "id"))


@router.get(
    "/fields/{int:field_id}", response={200: FieldOut, 403: ErrorOut}, operation_id="fields_get"
)
def get_field(request, field_id: int):
    return _field(request.user, field_id)


@router.post("/fields", response={201: FieldOut}, operation_id="fields_create")
def create_field(request, payload: FieldIn):
    """Define a field: no migration, no restart; every channel has it at once."""
    attributes = _attributes(payload)
    object_type = attributes.pop("object_type")
    field = services.create_field(actor=request.user, object_type=object_type, **attributes)
    return Status(201, field)


@router.patch("/fields/{int:field_id}", response=FieldOut, operation_id="fields_update")
def update_field(request, field_id: int, payload: FieldPatch):
    """Change the sent attributes. A new kind is taken only if every stored value converts;
    an option in use cannot be removed. 409 if someone saved first."""
    field = _field(request.user, field_id)
    attributes = _attributes(payload)
    version = attributes.pop("version", None)
    if "kind" in attributes:
        # Options the new kind has not are emptied, unless sent (then the service says why).
        for name, (applicable, empty) in kinds.OPTION_KINDS.items():
            if attributes["kind"] not in applicable:
                attributes.setdefault(name, empty)
    return services.update_field(field, actor=request.user, expected_version=version, **attributes)


@router.delete("/fields/{int:field_id}", response={204: None}, operation_id="fields_delete")
def delete_field(request, field_id: int, version: DbInt | None = None):
    """Remove the field. Records keep its values, which are never read again."""
    field = _field(request.user, field_id)
    services.delete_field(field, actor=request.user, expected_version=version)
    return Status(204, None)
