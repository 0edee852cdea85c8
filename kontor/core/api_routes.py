"""API routes that know no business domain: /search, /audit, /attachments, /exports.

They reach records only through the search registry (``kontor.core.search``) and each
model's ``visible_to``; domain apps add their per-record attachment routes with
``add_attachment_routes``.
"""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from . import customfields, files, search, timeline, types
from .api import MAX_LIMIT, MAX_OFFSET, ErrorOut, Page, page
from .errors import NotFound, ValidationFailed
from .models import Attachment, AuditEntry, ExportJob

router = Router()


# -- search --------------------------------------------------------------------------------


class SearchMatch(Schema):
    field: str = Field(description="A stable code: name, company, phone, email, ...")
    label: str = Field(description="The field's name in the request's language")
    text: str = Field(description="The field's value, as the UI shows it")


class SearchHit(Schema):
    id: int
    type: str
    title: str
    subtitle: str
    url: str | None
    matched: list[SearchMatch] = Field(
        description="Why it matched: for each word searched, the first field containing it"
    )


class SearchGroup(Schema):
    type: str
    label: str
    items: list[SearchHit]


class SearchOut(Schema):
    q: str
    groups: list[SearchGroup]


def _hit(entry: search.SearchType, obj) -> dict:
    return {
        "id": obj.pk,
        "type": entry.object_type,
        "title": str(obj),
        "subtitle": (entry.subtitle(obj) if entry.subtitle else "") or "",
        "url": types.url_of(obj) or None,
        "matched": [
            {"field": m.field, "label": str(m.label), "text": m.text} for m in obj.match_reasons
        ],
    }


@router.get("/search", response=SearchOut, tags=["search"], operation_id="search")
def global_search(request, q: str = "", limit: int = Query(10, ge=1, le=50)):
    """Every registered type's first matches for ``q`` (name, email, phone in any form, tax id)."""
    groups = [
        {
            "type": entry.object_type,
            "label": str(entry.label),
            "items": [_hit(entry, obj) for obj in hits],
        }
        for entry, hits in search.search(request.user, q, limit=limit)
    ]
    return {"q": q, "groups": groups}


# -- audit ---------------------------------------------------------------------------------


class AuditOut(Schema):
    id: int
    at: datetime.datetime
    actor: str
    actor_id: int | None
    channel: str
    action: str
    object_type: str
    object_id: int
    object_repr: str
    changes: dict


class AuditPage(Page):
    items: list[AuditOut]


def audit_page(entries, user, limit: int, offset: int) -> dict:
    """A page of audit rows, each with only the changes ``user`` may read."""
    result = page(entries.order_by("-at", "-id"), limit, offset)
    reader = customfields.ChangeReader(user)
    result["items"] = [audit_out(e, reader) for e in result["items"]]
    return result


def audit_out(entry: AuditEntry, reader: customfields.ChangeReader) -> dict:
    return {
        "id": entry.pk,
        "at": entry.at,
        "actor": entry.actor_label,
        "actor_id": entry.actor_id,
        "channel": entry.channel,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": reader.changes(entry.object_type, entry.changes),
    }


def _visible_record(user, reference: str):
    """The record named ``type:id`` ("contacts.person:12") if ``user`` can see it."""
    object_type, _sep, raw_id = reference.strip().rpartition(":")
    if not object_type or not raw_id.isdigit():
        raise ValidationFailed(
            errors={"object": [_("Name a record as type:id, e.g. contacts.person:12.")]}
        )
    entry = types.get(object_type.lower())
    if entry is None:
        raise NotFound()
    return entry.visible(user).get_visible(user, int(raw_id))


def _visible_audit(user):
    """Audit rows of every object of a registered type that ``user`` can see.

    Users, departments and roles are registered types too: their history is readable
    by whoever may view them.
    """
    visible = Q(pk__in=[])
    for entry in types.all_types():
        records = entry.visible(user)
        if records.query.is_empty():
            continue
        of_type = Q(object_type=entry.object_type)
        if records.query.where:
            # Correlated, not IN (subquery): the database can walk the "at" index newest
            # first and stop after one page instead of sorting every visible row's history.
            of_type &= Q(Exists(records.filter(pk=OuterRef("object_id"))))
        visible |= of_type
    return AuditEntry.objects.filter(visible)


@router.get(
    "/audit", response={200: AuditPage, 404: ErrorOut}, tags=["audit"], operation_id="audit_list"
)
def audit_log(
    request,
    object: str = Query("", description="type:id, e.g. contacts.person:12"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """One record's history (404 unless visible), or the history of every visible record."""
    if object:
        record = _visible_record(request.user, object)
        entries = AuditEntry.objects.for_object(record)
    else:
        entries = _visible_audit(request.user)
    return audit_page(entries, request.user, limit, offset)


# -- attachments ---------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    uploaded_at: datetime.datetime
    uploaded_by: str | None = Field(description="Who uploaded it; null once they are deleted")
    download_url: str


def attachment_out(attachment: Attachment) -> dict:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "uploaded_at": attachment.uploaded_at,
        "uploaded_by": str(attachment.uploaded_by) if attachment.uploaded_by_id else None,
        "download_url": reverse("api:attachment_download", args=[attachment.pk]),
    }


def add_attachment_routes(domain_router: Router, model, *, path: str, load) -> None:
    """Give ``model``'s records ``{path}/{id}/attachments`` (list and upload) on its router.

    One implementation for every record type; the record is loaded by ``load(user, id)``
    (its type's access-scoped read), so a record outside the user's scope is 404 here
    as everywhere.
    """
    name = model._meta.model_name

    def list_attachments(request, record_id: int):
        record = load(request.user, record_id)
        rows = files.attachments_of(record).select_related("uploaded_by")
        return [attachment_out(a) for a in rows]

    def upload_attachment(request, record_id: int, file: File[UploadedFile]):
        record = load(request.user, record_id)
        attachment = files.add_attachment(record, file, actor=request.user)
        return Status(201, attachment_out(attachment))

    domain_router.add_api_operation(
        f"{path}/{{int:record_id}}/attachments",
        ["GET"],
        list_attachments,
        response=list[AttachmentOut],
        operation_id=f"{name}_attachments_list",
        summary=f"List a {name}'s attachments",
    )
    domain_router.add_api_operation(
        f"{path}/{{int:record_id}}/attachments",
        ["POST"],
        upload_attachment,
        response={201: AttachmentOut},
        operation_id=f"{name}_attachments_upload",
        summary=f"Attach a file to a {name}",
    )


@router.get(
    "/attachments/{int:attachment_id}/download",
    url_name="attachment_download",
    tags=["attachments"],
    operation_id="attachment_download",
    response={200: None},
)
def download_attachment(request, attachment_id: int):
    """The file itself, only if its record is visible to you (404 otherwise)."""
    attachment = files.attachment_for(request.user, attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )


@router.delete(
    "/attachments/{int:attachment_id}",
    response={204: None},
    tags=["attachments"],
    operation_id="attachment_delete",
)
def delete_attachment(request, attachment_id: int):
    attachment = files.attachment_for(request.user, attachment_id)
    files.delete_attachment(attachment, actor=request.user)
    return Status(204, None)


# -- timelines -------------------------------------------------------------------------------


class TimelineLinkOut(Schema):
    type: str
    id: int
    name: str
    url: str


class TimelineItem(Schema):
    type: str = Field(description="The entry's type: note, call, email, meeting, task, ...")
    id: int
    title: str
    occurred_at: datetime.datetime = Field(description="Where it stands on the timeline")
    url: str
    about: list[TimelineLinkOut] = Field(
        description="The other records it is about that you may see"
    )


class TimelineFilters(Schema):
    record: str = Field(description='The record whose timeline to read: "person:12"')
    kind: list[str] = Field([], description="Only these entry types (note, call, ...)")
    q: str = Field("", description="Only entries whose text matches")
    after: str = Field("", description="The `next` of the page before")
    limit: int = Field(timeline.PAGE_SIZE, ge=1, le=100)


class TimelineOut(Schema):
    items: list[TimelineItem]
    next: str = Field(description="Pass as `after` for the next (older) page; empty at the end")


@router.get(
    "/activities",
    response={200: TimelineOut, 404: ErrorOut},
    tags=["activities"],
    operation_id="timeline",
)
def record_timeline(request, filters: Query[TimelineFilters]):
    """A record's timeline, newest first: the entries about it you may see (a company's
    include its people's)."""
    name, pk = timeline.parse_link(filters.record)
    rt = types.by_name(name)
    if rt is None or pk is None:
        raise ValidationFailed(errors={"record": [_("Name a record as type:id.")]})
    obj = rt.one(request.user, pk)
    unknown = [k for k in filters.kind if k not in {t.name for t in timeline.entry_types()}]
    if unknown:
        raise ValidationFailed(
            errors={"kind": [_("Unknown kind: %(kind)s.") % {"kind": unknown[0]}]}
        )
    found = timeline.feed(
        request.user,
        obj,
        kinds=filters.kind,
        text=filters.q.strip(),
        cursor=filters.after,
        limit=filters.limit,
    )
    return {
        "items": [
            {
                "type": entry.rt.name,
                "id": entry.obj.pk,
                "title": str(entry.obj),
                "occurred_at": entry.occurred_at,
                "url": entry.rt.url_of(entry.obj),
                "about": [link._asdict() for link in entry.about],
            }
            for entry in found.entries
        ],
        "next": found.next_cursor,
    }


# -- exports ---------------------------------------------------------------------------------


class ExportJobOut(Schema):
    id: int
    type: str = Field(description="The exported type, e.g. contacts.person")
    format: str
    state: str = Field(description="queued, running, done or failed")
    total: int = Field(description="Rows to write")
    done: int = Field(description="Rows written so far")
    file_url: str | None = Field(description="The file, once done")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


def job_out(job: ExportJob) -> dict:
    done = job.state == ExportJob.State.DONE and bool(job.file)
    return {
        "id": job.pk,
        "type": job.object_type,
        "format": job.format,
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "file_url": f"/api/v1/exports/{job.pk}/file" if done else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def finished_export_file(user, job_id: int) -> FileResponse:
    """The file of ``user``'s own finished export; NotFound until it is done."""
    job = own_export(user, job_id)
    if job.state != ExportJob.State.DONE or not job.file:
        raise NotFound()
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
    )


def own_export(user, job_id: int) -> ExportJob:
    """An export job of ``user``'s own; anyone else's is not there."""
    job = ExportJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise NotFound()
    return job


@router.get("/exports/{int:job_id}", response=ExportJobOut, operation_id="exports_get")
def get_export(request, job_id: int):
    """A big export's progress (your own exports only)."""
    return job_out(own_export(request.user, job_id))


@router.get("/exports/{int:job_id}/file", response={200: None}, operation_id="exports_file")
def export_download(request, job_id: int):
    """The finished export's file (404 until it is done)."""
    return finished_export_file(request.user, job_id)
