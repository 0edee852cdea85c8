"""One API for every registered record type: ``add_record_routes(router, record_type)``.

List, export, get, create, patch, delete, the record's history and its attachments, at
``/api/v1/<path>``, with the type's schemas in the OpenAPI document. Reads go through
the type's ``list_query``/``one`` (the access-scoped door), writes through its services.
Lists use limit/offset and answer ``{items, count, limit, offset}``; updates need the
version the client edited (body ``version`` or ``If-Match``).
"""

from typing import Annotated, Literal

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import (
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from . import customfields, exports
from .access import Action, may
from .api import MAX_LIMIT, MAX_OFFSET, DbInt, ErrorOut, Page, etag, expected_version, page
from .api_routes import AuditPage, ExportJobOut, add_attachment_routes, audit_page, job_out
from .errors import PermissionDenied, ValidationFailed
from .grouping import NO_VALUE
from .inputs import DB_INT_MAX
from .models import AuditEntry
from .types import FilterKind, ListFilters, RecordType

_DB_INT = TypeAdapter(DbInt)


def _id_or_no_value(value):
    # One validator, not a union of an id and "none": a union reports one error per
    # alternative, under keys naming pydantic's branches instead of the field.
    if value == NO_VALUE:
        return value
    try:
        return _DB_INT.validate_python(value)
    except ValidationError:
        raise ValueError(f"Input should be a 64-bit integer or '{NO_VALUE}'") from None


IdOrNoValue = Annotated[
    int | str,
    PlainValidator(_id_or_no_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": -DB_INT_MAX - 1, "maximum": DB_INT_MAX},
                {"type": "string", "enum": [NO_VALUE]},
            ]
        }
    ),
]


def _class_name(record_type: RecordType) -> str:
    return record_type.name.title().replace("_", "")


def filters_schema(record_type: RecordType) -> type[Schema]:
    """The list's query parameters: the common filters, the type's own, its sorts."""
    fields: dict = {
        "q": (str, Field("", description=record_type.search_description)),
        "owner_id": (
            IdOrNoValue | None,
            Field(None, description="A user's id, or none: the records without an owner"),
        ),
        "department_id": (
            IdOrNoValue | None,
            Field(None, description="A department's id, or none: the records without one"),
        ),
        "mine": (bool, Field(False, description="Only the records you own")),
        "sort": (
            str,
            Field(
                record_type.default_sort,
                description=f"One of {', '.join(record_type.sorts)}, or cf.<custom field>;"
                " a leading - reverses it",
            ),
        ),
        "custom": (
            list[str],
            Field(
                [],
                description="Custom field conditions, repeatable: name:value or name__op:value"
                " (op: eq, lt, lte, gt, gte, range a,b, in a,b, contains, icontains, has,"
                " empty, not_empty)",
            ),
        ),
    }
    if record_type.has_tags:
        fields["tag"] = (str, "")
    for spec in record_type.filters:
        kind = DbInt | None if spec.kind == FilterKind.RECORD else str
        default = None if spec.kind == FilterKind.RECORD else ""
        fields[spec.name] = (kind, Field(default, description=str(spec.description)))
    return create_model(f"{_class_name(record_type)}Filters", __base__=Schema, **fields)


def to_list_filters(record_type: RecordType, sent, user) -> ListFilters:
    """The list's filters as the API received them; an unknown sort is a 422."""
    values = sent.model_dump()
    if not record_type.sort_allowed(user, values["sort"]):
        choices = ", ".join([*record_type.sorts, "cf.<field>"])
        raise ValidationFailed(
            errors={"sort": [_("Sort by one of: %(sorts)s.") % {"sorts": choices}]}
        )
    extra = {spec.name: values.pop(spec.name) for spec in record_type.filters}
    return ListFilters(**values, extra=extra)


# -- what each route does, for a type known statically or named in the path ----------------


def list_page(rt: RecordType, request, filters: ListFilters, limit: int, offset: int) -> dict:
    result = page(rt.list_query(request.user, filters), limit, offset)
    fields = customfields.visible_fields(request.user, rt.object_type)
    result["items"] = [
        {**item, "custom": customfields.values_for(request.user, obj, fields)}
        for obj, item in zip(result["items"], rt.list_items(result["items"]), strict=True)
    ]
    return result


def export_file(rt: RecordType, request, filters: ListFilters, format: str):
    """The export streamed now, or, for a big one, 202 with its job (the browser goes to
    the job's page, which shows its progress)."""
    if not may(request.user, rt.object_type, Action.EXPORT):
        raise PermissionDenied()
    if format not in rt.export_formats:
        raise ValidationFailed(
            errors={
                "format": [
                    _("Choose one of: %(formats)s.") % {"formats": ", ".join(rt.export_formats)}
                ]
            }
        )
    job, queryset = exports.start(rt, request.user, filters, format)
    if queryset is not None:
        return exports.stream(queryset, rt, user=request.user, format=format)
    page_url = reverse("web:export_job", args=[job.pk])
    if "text/html" in request.headers.get("Accept", ""):
        return HttpResponseRedirect(page_url)
    return Status(202, job_out(job))


def get_one(rt: RecordType, request, record_id: int, response: HttpResponse) -> dict:
    obj = rt.api_one(request.user, record_id)
    response["ETag"] = etag(obj.version)
    # Custom values for every type alike, only the fields this reader may see.
    return {**rt.to_out(obj), "custom": customfields.values_for(request.user, obj)}


def create_one(rt: RecordType, request, data: dict, response: HttpResponse):
    obj = rt.create(data, actor=request.user)
    return Status(201, get_one(rt, request, obj.pk, response))


def update_one(rt: RecordType, request, record_id: int, data: dict, response: HttpResponse):
    version = expected_version(request, data.pop("version", None))
    obj = rt.one(request.user, record_id)
    rt.update(obj, data, actor=request.user, expected_version=version)
    return get_one(rt, request, record_id, response)


def delete_one(rt: RecordType, request, record_id: int, version: int | None):
    obj = rt.one(request.user, record_id)
    rt.delete(
        obj, actor=request.user, expected_version=expected_version(request, version, required=False)
    )
    return Status(204, None)


def history_page(rt: RecordType, request, record_id: int, limit: int, offset: int) -> dict:
    obj = rt.one(request.user, record_id)
    return audit_page(AuditEntry.objects.for_object(obj), request.user, limit, offset)


def add_record_routes(router: Router, record_type: RecordType) -> None:
    """List, export, get, create, update, delete, history and attachments of a type."""
    rt = record_type
    name, path = rt.name, f"/{rt.path}"
    filters_in = filters_schema(rt)
    page_out = create_model(
        f"{_class_name(rt)}Page", __base__=Page, items=(list[rt.list_schema], ...)
    )

    @router.get(path, response=page_out, operation_id=f"{name}_list")
    def list_records(
        request,
        filters: Query[filters_in],
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ):
        return list_page(rt, request, to_list_filters(rt, filters, request.user), limit, offset)

    @router.get(
        f"{path}/export",
        operation_id=f"{name}_export",
        response={200: None, 202: ExportJobOut, 403: ErrorOut},
    )
    def export_records(
        request, filters: Query[filters_in], format: Literal["csv", "xlsx", "vcf"] = "csv"
    ):
        """The list's rows (same filters and sort, no paging) within your export scope; vcf
        (vCard 4.0) for people. Over 5,000 rows: 202 and the job (``/exports/{id}``)."""
        return export_file(rt, request, to_list_filters(rt, filters, request.user), format)

    @router.get(f"{path}/{{int:record_id}}", response=rt.out_schema, operation_id=f"{name}_get")
    def get_record(request, record_id: int, response: HttpResponse):
        return get_one(rt, request, record_id, response)

    @router.post(path, response={201: rt.out_schema}, operation_id=f"{name}_create")
    def create_record(request, payload: rt.create_schema, response: HttpResponse):
        return create_one(rt, request, payload.model_dump(exclude_unset=True), response)

    @router.patch(
        f"{path}/{{int:record_id}}", response=rt.out_schema, operation_id=f"{name}_update"
    )
    def update_record(request, record_id: int, payload: rt.patch_schema, response: HttpResponse):
        """Change the sent fields; lists sent replace the whole list. 409 if someone saved first."""
        data = payload.model_dump(exclude_unset=True)
        return update_one(rt, request, record_id, data, response)

    @router.delete(f"{path}/{{int:record_id}}", response={204: None}, operation_id=f"{name}_delete")
    def delete_record(request, record_id: int, version: DbInt | None = None):
        """Delete the record; with ``version`` (or If-Match), only if nobody changed it since."""
        return delete_one(rt, request, record_id, version)

    @router.get(
        f"{path}/{{int:record_id}}/history", response=AuditPage, operation_id=f"{name}_history"
    )
    def record_history(
        request,
        record_id: int,
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ):
        """The record's audit entries, newest first (404 unless you can see the record)."""
        return history_page(rt, request, record_id, limit, offset)

    add_attachment_routes(router, rt.model, path=path, load=rt.one)
