"""/api/v1/objects/{type}: the API of every custom object type.

The same routes and behaviour as a built-in type's (``kontor.core.api_records``: the
handlers' bodies are shared), with the type named in the path: an unknown or archived
type is 404 like an unknown record. Lists, filters, sorts, history and attachments work
as for people and companies.
"""

from typing import Literal

from django.http import HttpResponse
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from kontor.core import api_records, files
from kontor.core.api import MAX_LIMIT, MAX_OFFSET, DbInt, ErrorOut, Page, ref
from kontor.core.api_routes import AttachmentOut, AuditPage, attachment_out
from kontor.core.errors import NotFound

from . import registry
from .schemas import RecordIn, RecordOut, RecordPatch

router = Router(tags=["objects"])
PATH = "/objects/{type_slug}"


class RecordPage(Page):
    items: list[RecordOut]


class RecordFilters(Schema):
    q: str = Field("", description="Name")
    owner_id: DbInt | None = None
    department_id: DbInt | None = None
    mine: bool = Field(False, description="Only the records you own")
    sort: str = Field(
        "name", description="name, created, updated or cf.<custom field>; '-' first reverses"
    )
    custom: list[str] = Field([], description="Custom field conditions: name[__op]:value")


def record_out(obj) -> dict:
    return {
        "id": obj.pk,
        "type": obj.definition.slug,
        "name": obj.name,
        "notes": obj.notes,
        "owner": ref(obj.owner),
        "department": ref(obj.department),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
    }


def _type(type_slug: str):
    record_type = registry.resolve(type_slug)
    if record_type is None:
        raise NotFound()
    return record_type


@router.get(PATH, response=RecordPage, operation_id="object_list")
def list_records(
    request,
    type_slug: str,
    filters: Query[RecordFilters],
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    rt = _type(type_slug)
    return api_records.list_page(
        rt, request, api_records.to_list_filters(rt, filters, request.user), limit, offset
    )


@router.get(f"{PATH}/export", operation_id="object_export", response={200: None, 403: ErrorOut})
def export_records(
    request, type_slug: str, filters: Query[RecordFilters], format: Literal["csv", "xlsx"] = "csv"
):
    """The list's rows (same filters and sort, no paging) within your export scope."""
    rt = _type(type_slug)
    return api_records.export_file(
        rt, request, api_records.to_list_filters(rt, filters, request.user), format
    )


@router.get(f"{PATH}/{{int:record_id}}", response=RecordOut, operation_id="object_get")
def get_record(request, type_slug: str, record_id: int, response: HttpResponse):
    return api_records.get_one(_type(type_slug), request, record_id, response)


@router.post(PATH, response={201: RecordOut}, operation_id="object_create")
def create_record(request, type_slug: str, payload: RecordIn, response: HttpResponse):
    data = payload.model_dump(exclude_unset=True)
    return api_records.create_one(_type(type_slug), request, data, response)


@router.patch(f"{PATH}/{{int:record_id}}", response=RecordOut, operation_id="object_update")
def update_record(
    request, type_slug: str, record_id: int, payload: RecordPatch, response: HttpResponse
):
    """Change the sent fields. 409 if someone saved first."""
    data = payload.model_dump(exclude_unset=True)
    return api_records.update_one(_type(type_slug), request, record_id, data, response)


@router.delete(f"{PATH}/{{int:record_id}}", response={204: None}, operation_id="object_delete")
def delete_record(request, type_slug: str, record_id: int, version: DbInt | None = None):
    """Delete the record; with ``version`` (or If-Match), only if nobody changed it since."""
    return api_records.delete_one(_type(type_slug), request, record_id, version)


@router.get(f"{PATH}/{{int:record_id}}/history", response=AuditPage, operation_id="object_history")
def record_history(
    request,
    type_slug: str,
    record_id: int,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """The record's audit entries, newest first (404 unless you can see the record)."""
    return api_records.history_page(_type(type_slug), request, record_id, limit, offset)


@router.get(
    f"{PATH}/{{int:record_id}}/attachments",
    response=list[AttachmentOut],
    operation_id="object_attachments_list",
)
def list_attachments(request, type_slug: str, record_id: int):
    record = _type(type_slug).one(request.user, record_id)
    return [attachment_out(a) for a in files.attachments_of(record).select_related("uploaded_by")]


@router.post(
    f"{PATH}/{{int:record_id}}/attachments",
    response={201: AttachmentOut},
    operation_id="object_attachments_upload",
)
def upload_attachment(request, type_slug: str, record_id: int, file: File[UploadedFile]):
    record = _type(type_slug).one(request.user, record_id)
    return Status(201, attachment_out(files.add_attachment(record, file, actor=request.user)))
