"""Imports as recorded jobs: started with a stored file, run in the background a batch
per transaction (each batch commits with the list of what it created and updated, and
the job's counts the UI and CLI show), undone record by record within access rules.
"""

from __future__ import annotations

import functools

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from kontor.core import audit, types
from kontor.core.access import Action, may
from kontor.core.errors import KontorError, NotFound, PermissionDenied, ValidationFailed
from kontor.core.files import stored_name

from . import mapping, services, templates
from .models import ImportedRecord, ImportJob, may_manage_imports
from .reading import ReadError, open_table

# Records undone per transaction.
UNDO_CHUNK = 500


def prepare(
    file, record_type, *, actor, columns: dict | None, reading: dict, options: dict, template=None
):
    """The table in ``file``, its mapping (``columns``: header -> field; None: the
    ``template`` applied to the headers, or suggested from them) and the import's
    options, as a job saves them; a mistake in any of them is a ``ValidationFailed``
    for the user."""
    try:
        table = open_table(file, **reading)
        available = mapping.targets(record_type, actor)
        if columns is None and template is not None:
            columns = templates.columns_for(template, table.headers, available)
        elif columns is None:
            columns = mapping.Mapping.of(
                mapping.suggest(table.headers, available), available
            ).saved(table.headers)
        chosen = mapping.Mapping.by_headers(
            columns, table.headers, available, day_first=options.get("day_first", True)
        )
    except (ReadError, mapping.CellError) as exc:
        raise ValidationFailed(str(exc)) from None
    return (
        table,
        chosen,
        services.Options(
            match_on=tuple(options.get("match_on", ())),
            on_match=options.get("on_match", services.OnMatch.SKIP),
            create_links=options.get("create_links", True),
            batch_size=options.get("batch_size", services.DEFAULT_BATCH_SIZE),
        ),
    )


def upload(uploaded, record_type, *, actor, reading: dict, template=None) -> ImportJob:
    """Record a file to import (a draft: mapped next, then started), with the mapping
    of ``template`` or suggested from its headers; a file that cannot be read is
    refused now."""
    if not may(actor, record_type.object_type, Action.CREATE):
        raise PermissionDenied()
    uploaded.seek(0)
    table, chosen, _options = prepare(
        uploaded, record_type, actor=actor, columns=None, reading=reading, options={},
        template=template,
    )  # fmt: skip
    try:
        total = sum(1 for _row in services.nonblank(table.rows))
    except ReadError as exc:  # found further down than the headers
        raise ValidationFailed(str(exc)) from None
    job = ImportJob(
        created_by=actor,
        object_type=record_type.object_type,
        file_name=(uploaded.name or "import")[:255],
        reading=reading,
        mapping=chosen.saved(table.headers),
        total_rows=total,
    )
    uploaded.seek(0)
    with transaction.atomic():
        job.file.save(stored_name(job.file_name), uploaded, save=False)
        job.save()
        audit.record(
            "imports.importjob.created",
            job,
            actor=actor,
            changes={"file_name": [None, job.file_name], "object_type": [None, job.object_type]},
        )
    return job


def headers_of(job: ImportJob) -> list[str]:
    with job.file.open("rb") as file:
        return open_table(file, **job.reading).headers


def start(job: ImportJob, *, actor, columns: dict | None, options: dict) -> ImportJob:
    """Start a draft with its mapping (None: as suggested) and options, checked now;
    it runs in the background after commit."""
    if job.state != ImportJob.State.DRAFT or job.created_by_id != actor.pk:
        raise PermissionDenied()
    record_type = types.get(job.object_type)
    with job.file.open("rb") as file:
        table, chosen, _options = prepare(
            file, record_type, actor=actor, columns=columns if columns is not None else job.mapping,
            reading=job.reading, options=options,
        )  # fmt: skip
    job.mapping, job.options, job.state = (
        chosen.saved(table.headers),
        options,
        ImportJob.State.WAITING,
    )
    with transaction.atomic():
        job.save(update_fields=["mapping", "options", "state"])
        audit.record(
            "imports.importjob.started", job, actor=actor, changes={"state": ["draft", "waiting"]}
        )
        transaction.on_commit(functools.partial(run_import_job.enqueue, job.pk))
    return job


def preview(job: ImportJob, *, actor, columns: dict, options: dict) -> services.Outcome:
    """A dry run of a draft with this mapping and these options."""
    record_type = types.get(job.object_type)
    with job.file.open("rb") as file:
        table, chosen, run_options = prepare(
            file, record_type, actor=actor, columns=columns, reading=job.reading, options=options
        )
        return services.run_import(
            table, chosen, record_type, actor=actor, options=run_options, dry_run=True
        )


def start_import(
    uploaded,
    record_type,
    *,
    actor,
    columns: dict | None,
    reading: dict,
    options: dict,
    template=None,
) -> ImportJob:
    """Upload and start at once (the API, scripts); the mapping and options are checked
    before anything is stored."""
    uploaded.seek(0)
    prepare(
        uploaded,
        record_type,
        actor=actor,
        columns=columns,
        reading=reading,
        options=options,
        template=template,
    )
    job = upload(uploaded, record_type, actor=actor, reading=reading, template=template)
    return start(job, actor=actor, columns=columns, options=options)


@task()
def run_import_job(job_id: int) -> None:
    """Run a waiting import (the background job)."""
    job = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.WAITING).first()
    if job is not None:
        run(job)


def run(job: ImportJob) -> ImportJob:
    """Run ``job`` now, as its creator; its counts are saved with each batch."""
    actor = job.created_by
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)

    def record(outcome: services.Outcome, done: services.BatchDone) -> None:
        ImportedRecord.objects.bulk_create(
            [
                ImportedRecord(job=job, object_type=object_type, object_id=pk, created=True)
                for object_type, ids in done.created
                for pk in ids
            ]
            + [
                ImportedRecord(
                    job=job, object_type=object_type, object_id=pk, created=False, previous=before
                )
                for object_type, pk, before in done.updated
            ]
        )
        ImportJob.objects.filter(pk=job.pk).update(last_line=done.last_line, **_counts(outcome))

    try:
        record_type = types.get(job.object_type)
        with job.file.open("rb") as file:
            table, chosen, options = prepare(
                file, record_type, actor=actor, columns=job.mapping, reading=job.reading,
                options=job.options,
            )  # fmt: skip
            outcome = services.run_import(
                table, chosen, record_type, actor=actor, options=options, record=record
            )
    except (KontorError, ReadError) as exc:
        # A line further down that cannot be read, say. The batches written so far
        # stay, counted and recorded by each batch: the job is failed, and undoable.
        return _failed(job, exc.message if isinstance(exc, KontorError) else exc)
    except Exception:
        _failed(job, _("The import stopped unexpectedly."))
        raise
    job.state, job.finished_at = ImportJob.State.DONE, timezone.now()
    job.problems = [[p.line, p.column, p.message] for p in outcome.problems]
    for name, value in _counts(outcome).items():
        setattr(job, name, value)
    job.save(update_fields=["state", "problems", "finished_at", *COUNTS])
    return job


def _failed(job: ImportJob, message) -> ImportJob:
    job.state, job.message, job.finished_at = ImportJob.State.FAILED, str(message), timezone.now()
    job.save(update_fields=["state", "message", "finished_at"])
    return job


COUNTS = ("rows", "created", "updated", "skipped", "failed", "linked_created")


def _counts(outcome: services.Outcome) -> dict:
    return {name: getattr(outcome, name) for name in COUNTS}


def write_error_file(job: ImportJob, out) -> None:
    """The job's rows not imported, as CSV (UTF-8 with the mark Excel reads it by), an
    error column last."""
    out.write("\ufeff")
    problems = [services.Problem(*problem) for problem in job.problems]
    with job.file.open("rb") as file:
        services.write_error_rows(open_table(file, **job.reading), problems, out)


def job_for(user, job_id) -> ImportJob:
    job = ImportJob.objects.visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def may_undo(user, job: ImportJob) -> bool:
    return job.state in (ImportJob.State.DONE, ImportJob.State.FAILED) and (
        job.created_by_id == getattr(user, "pk", None) or may_manage_imports(user)
    )


def undo(job: ImportJob, *, actor) -> dict:
    """Remove what ``job`` created and restore what it updated, through each type's own
    services (the undoer's permissions, audit, events), a chunk per transaction, each
    record forgotten by the job once undone. A record the undoer may not delete or change
    is left and counted, and the job stays undoable (by an administrator, say) for those;
    one that is gone is forgotten. Answers the counts."""
    if not may_undo(actor, job):
        raise PermissionDenied()
    counts = {"deleted": 0, "restored": 0, "gone": 0, "left": 0}
    # Updates first (restoring may name a company the import created), then creations
    # newest first (people before the companies created for them).
    for created, order in ((False, "id"), (True, "-id")):
        entries = job.records.filter(created=created).order_by(order)
        last = None
        while True:
            chunk = list(entries.filter(**_after(last, order))[:UNDO_CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            with transaction.atomic():
                finished = []
                for entry in chunk:
                    outcome = _undo_one(entry, actor)
                    counts[outcome] += 1
                    if outcome != "left":
                        finished.append(entry.pk)
                ImportedRecord.objects.filter(pk__in=finished).delete()
    with transaction.atomic():
        changes = dict(counts)
        if not counts["left"]:
            job.state, job.undone_at, job.undone_by = ImportJob.State.UNDONE, timezone.now(), actor
            job.save(update_fields=["state", "undone_at", "undone_by"])
            changes["state"] = [ImportJob.State.DONE, ImportJob.State.UNDONE]
        audit.record("imports.importjob.undone", job, actor=actor, changes=changes)
    return counts


def _after(last, order: str) -> dict:
    if last is None:
        return {}
    return {"pk__lt": last} if order.startswith("-") else {"pk__gt": last}


def _undo_one(entry: ImportedRecord, actor) -> str:
    """ "deleted", "restored", "gone" or "left"."""
    record_type = types.get(entry.object_type)
    action = Action.DELETE if entry.created else Action.EDIT
    if not record_type.model._default_manager.filter(pk=entry.object_id).exists():
        return "gone"
    try:
        with transaction.atomic():
            obj = record_type.one(actor, entry.object_id, action=action)
            if entry.created:
                record_type.delete(obj, actor=actor)
                return "deleted"
            record_type.update(obj, entry.previous, actor=actor)
            return "restored"
    except KontorError:  # not theirs to change, gone, or changed since beyond restoring
        return "left"
