"""/api/v1/imports: a spreadsheet into records of any registered type.

``POST /imports/preview`` reads an uploaded file and answers its headers, the fields it
may go to, the suggested (or given) mapping and a dry run's counts and errors; ``POST
/imports`` records the import and runs it in the background; ``GET /imports/{id}`` is
what a client polls; ``/imports/{id}/errors`` the rows not imported, as CSV with an
error column; ``POST /imports/{id}/undo``. Importers see their own imports,
administrators everyone's. ``/imports/templates``: saved mappings (list, create, get,
patch, delete), each applied by ``template`` in the preview and the import.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from kontor.core import types
from kontor.core.api import Ref, StrictIn, ref
from kontor.core.errors import NotFound, ValidationFailed

from . import jobs, mapping, services, templates
from .models import ImportJob, ImportTemplate

router = Router(tags=["imports"])

MAPPING = 'JSON: column header -> field key ({"E-mail": "emails"}); default: suggested'
MATCH_ON = 'Comma-separated: "email", "phone", or a mapped field ("tax_id", "custom.ext_id")'
OnMatch = Literal["skip", "fill", "overwrite", "create"]


class TargetOut(Schema):
    key: str
    label: str


class ProblemOut(Schema):
    line: int = Field(description="The line (CSV) or row (workbook) in the file")
    column: str = Field(description="The column's header; empty for the row as a whole")
    message: str


class CountsOut(Schema):
    rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    linked_created: int = Field(description="Records of linked types created (companies)")


class PreviewOut(Schema):
    headers: list[str]
    sheets: list[str]
    encoding: str
    delimiter: str
    targets: list[TargetOut] = Field(description="Every field a column may go to")
    match_keys: list[str] = Field(description="What this mapping can match existing records on")
    mapping: dict[str, str]
    counts: CountsOut
    problems: list[ProblemOut] = Field(description=f"The first {jobs.PROBLEMS_SHOWN}")


class ImportOut(Schema):
    id: int
    object_type: str
    file_name: str
    created_by: Ref
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    state: str
    mapping: dict[str, str]
    options: dict
    counts: CountsOut
    problems: list[ProblemOut]
    message: str = Field(description="Why a run failed as a whole")
    may_undo: bool


def _counts(source) -> dict:
    return {name: getattr(source, name) for name in jobs.COUNTS}


def _out(job: ImportJob, user) -> dict:
    return {
        "id": job.pk,
        "object_type": job.object_type,
        "file_name": job.file_name,
        "created_by": ref(job.created_by),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "state": job.state,
        "mapping": job.mapping,
        "options": job.options,
        "counts": _counts(job),
        "problems": [
            {"line": line, "column": column, "message": message}
            for line, column, message in jobs.shown_problems(job)
        ],
        "message": job.message,
        "may_undo": jobs.may_undo(user, job),
    }


class ImportForm(Schema):
    """The form fields beside the file (multipart/form-data)."""

    type: str = Field(description="The record type: people, companies, deals, ...")
    mapping: str = Field("", description=MAPPING)
    encoding: str = Field("", description="utf-8, utf-8-sig, cp1251, latin-1, utf-16")
    delimiter: str = Field("", description="A CSV's delimiter; default: detected")
    sheet: str = Field("", description="A workbook's sheet; default: the first with data")
    match_on: str | None = Field(None, description=MATCH_ON)
    on_match: OnMatch | None = Field(None, description="Default: the template's, else skip")
    create_links: bool | None = Field(
        None, description="Create a row's company when not found; default: yes"
    )
    day_first: bool | None = Field(
        None, description="31/12/2024 rather than 12/31/2024; default: yes"
    )
    template: int | None = Field(
        None, description="An import template's id: its mapping, reading and options"
    )

    def chosen_template(self, user) -> ImportTemplate | None:
        """The template named, one the user sees; another id is the field's error."""
        if self.template is None:
            return None
        try:
            return templates.template_for(user, self.template)
        except NotFound:
            raise ValidationFailed(errors={"template": [_("Unknown import template.")]}) from None

    def reading(self, template: ImportTemplate | None = None) -> dict:
        given = {"encoding": self.encoding, "delimiter": self.delimiter, "sheet": self.sheet}
        return templates.reading_with(template, given)

    def options(self, template: ImportTemplate | None = None) -> dict:
        """The options sent, the template's (or the defaults) for those not sent."""
        match_on = None
        if self.match_on is not None:
            match_on = [key.strip() for key in self.match_on.split(",") if key.strip()]
        given = {"match_on": match_on, "on_match": self.on_match,
                 "create_links": self.create_links, "day_first": self.day_first}  # fmt: skip
        return templates.options_with(template, given)

    def columns(self) -> dict | None:
        if not self.mapping:
            return None
        try:
            columns = json.loads(self.mapping)
        except ValueError:
            columns = None
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise ValidationFailed(errors={"mapping": [MAPPING]})
        return columns


@router.post("/imports/preview", response=PreviewOut, operation_id="imports_preview")
def preview(
    request,
    file: File[UploadedFile],
    form: Form[ImportForm],
):
    """What importing this file would do: nothing is written."""
    record_type = types.record_type_named(form.type)
    template = form.chosen_template(request.user)
    table, chosen, run_options = jobs.prepare(
        io.BytesIO(file.read()), record_type, actor=request.user, columns=form.columns(),
        reading=form.reading(template), options=form.options(template), template=template,
    )  # fmt: skip
    outcome = services.run_import(
        table, chosen, record_type, actor=request.user, options=run_options, dry_run=True
    )
    return {
        "headers": table.headers,
        "sheets": table.sheets,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "targets": [
            {"key": t.key, "label": t.label} for t in mapping.targets(record_type, request.user)
        ],
        "match_keys": services.match_keys(record_type, chosen),
        "mapping": chosen.saved(table.headers),
        "counts": _counts(outcome),
        "problems": outcome.problems[: jobs.PROBLEMS_SHOWN],
    }


@router.post("/imports", response={201: ImportOut}, operation_id="imports_create")
def create(
    request,
    file: File[UploadedFile],
    form: Form[ImportForm],
):
    """Record the import and run it in the background: poll ``GET /imports/{id}``."""
    template = form.chosen_template(request.user)
    job = jobs.start_import(
        file,
        types.record_type_named(form.type),
        actor=request.user,
        columns=form.columns(),
        reading=form.reading(template),
        options=form.options(template),
        template=template,
    )
    return Status(201, _out(job, request.user))


@router.get("/imports", response=list[ImportOut], operation_id="imports_list")
def list_imports(request, limit: int = Query(50, ge=1, le=200)):
    """The newest imports you may see (yours; an administrator's: everyone's)."""
    found = ImportJob.objects.visible_to(request.user).select_related("created_by")[:limit]
    return [_out(job, request.user) for job in found]


@router.get("/imports/{int:job_id}", response=ImportOut, operation_id="imports_get")
def get_import(request, job_id: int):
    return _out(jobs.job_for(request.user, job_id), request.user)


@router.get("/imports/{int:job_id}/errors", response={200: None}, operation_id="imports_errors")
def error_rows(request, job_id: int):
    """The rows not imported, as they were, with an error column: CSV in UTF-8."""
    job = jobs.job_for(request.user, job_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    jobs.write_error_file(job, response)
    return response


class UndoOut(Schema):
    deleted: int
    restored: int
    gone: int = Field(description="Deleted meanwhile by someone else")
    left: int = Field(description="Not yours to delete or change: the import stays undoable")


@router.post("/imports/{int:job_id}/undo", response=UndoOut, operation_id="imports_undo")
def undo(request, job_id: int):
    return jobs.undo(jobs.job_for(request.user, job_id), actor=request.user)


# -- templates ----------------------------------------------------------------------------------

TEMPLATE_MAPPING = 'Column header -> field key ({"E-mail": "emails"}); "" leaves a column out'
TEMPLATE_READING = "encoding, delimiter, sheet (each optional)"
TEMPLATE_OPTIONS = "match_on (a list), on_match, create_links, day_first (each optional)"


class TemplateOut(Schema):
    id: int
    name: str
    object_type: str
    mapping: dict[str, str]
    reading: dict[str, str]
    options: dict
    shared: bool = Field(description="Offered to everyone; otherwise to its creator only")
    created_by: Ref
    created_at: datetime.datetime
    updated_at: datetime.datetime
    may_change: bool


class TemplateIn(StrictIn):
    name: str
    type: str = Field(description="The record type: people, companies, deals, ...")
    mapping: dict[str, str] = Field(description=TEMPLATE_MAPPING)
    reading: dict[str, str] = Field({}, description=TEMPLATE_READING)
    options: dict = Field({}, description=TEMPLATE_OPTIONS)
    shared: bool = False


class TemplatePatch(StrictIn):
    name: str | None = None
    mapping: dict[str, str] | None = Field(None, description=TEMPLATE_MAPPING)
    reading: dict[str, str] | None = Field(None, description=TEMPLATE_READING)
    options: dict | None = Field(None, description=TEMPLATE_OPTIONS)
    shared: bool | None = None


def _template_out(template: ImportTemplate, user) -> dict:
    return {
        **{
            name: getattr(template, name)
            for name in (
                "id",
                "name",
                "object_type",
                "mapping",
                "reading",
                "options",
                "shared",
                "created_at",
                "updated_at",
            )
        },  # fmt: skip
        "created_by": ref(template.created_by),
        "may_change": templates.may_change(user, template),
    }


@router.get("/imports/templates", response=list[TemplateOut], operation_id="import_templates_list")
def list_templates(request, type: str = Query("", description="Only those of a record type")):
    """Your templates and the shared ones (an administrator's: all)."""
    object_type = types.record_type_named(type).object_type if type else None
    return [_template_out(t, request.user) for t in templates.visible(request.user, object_type)]


@router.post(
    "/imports/templates", response={201: TemplateOut}, operation_id="import_templates_create"
)
def create_template(request, body: TemplateIn):
    data = body.model_dump()
    data["object_type"] = data.pop("type")
    template = templates.create(data, actor=request.user)
    return Status(201, _template_out(template, request.user))


@router.get(
    "/imports/templates/{int:template_id}",
    response=TemplateOut,
    operation_id="import_templates_get",
)
def get_template(request, template_id: int):
    return _template_out(templates.template_for(request.user, template_id), request.user)


@router.patch(
    "/imports/templates/{int:template_id}",
    response=TemplateOut,
    operation_id="import_templates_update",
)
def update_template(request, template_id: int, body: TemplatePatch):
    """Change the fields sent (yours; an administrator: anyone's)."""
    template = templates.template_for(request.user, template_id)
    changes = body.model_dump(exclude_none=True)
    return _template_out(templates.update(template, changes, actor=request.user), request.user)


@router.delete(
    "/imports/templates/{int:template_id}",
    response={204: None},
    operation_id="import_templates_delete",
)
def delete_template(request, template_id: int):
    templates.delete(templates.template_for(request.user, template_id), actor=request.user)
    return Status(204, None)
