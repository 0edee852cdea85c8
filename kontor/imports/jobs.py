"""Imports as recorded jobs: started with a stored file, run in the background a batch
per transaction (each batch commits with the list of what it created and updated, and
the job's counts the UI and CLI show), undone record by record within access rules.
"""

from __future__ import annotations

import functools
import itertools

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from kontor.core import audit, bulk, leases, modules, search, types
from kontor.core import services as records
from kontor.core.access import Action, may
from kontor.core.errors import KontorError, NotFound, PermissionDenied, ValidationFailed
from kontor.core.files import stored_name

from . import mapping, services, templates
from .models import ImportedRecord, ImportJob, ImportKey, ImportProblem, may_manage_imports
from .reading import ReadError, open_table

# Records undone per transaction.
UNDO_CHUNK = 1000


def prepare(
    file, record_type, *, actor, columns: dict | None, reading: dict, options: dict, template=None
):
    """The table in ``file``, its mapping (``columns``: header -> field; None: the
    ``template`` applied to the headers, or suggested from them) and the import's
    options, as a job saves them; a mistake in any of them is a ``ValidationFailed``
    for the user. A type whose module is switched off for ``actor`` is not found."""
    if not modules.type_enabled(actor, record_type.object_type):
        raise NotFound()
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
    batch_size = options.get("batch_size", services.DEFAULT_BATCH_SIZE)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationFailed(_("Rows per transaction: a whole number of at least 1."))
    return (
        table,
        chosen,
        services.Options(
            match_on=tuple(options.get("match_on", ())),
            on_match=options.get("on_match", services.OnMatch.SKIP),
            create_links=options.get("create_links", True),
            batch_size=batch_size,
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
        total = table.stated_rows
        if total is None:
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


def start(
    job: ImportJob, *, actor, columns: dict | None, options: dict, background: bool = True
) -> ImportJob:
    """Start a draft with its mapping (None: as suggested) and options, checked now;
    it runs in the background after commit, or (``background=False``) by ``run``."""
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
    # Run here: if this process dies before it runs the job, a worker runs it.
    job.lease_until = None if background else _lease_end()
    with transaction.atomic():
        job.save(update_fields=["mapping", "options", "state", "lease_until"])
        audit.record(
            "imports.importjob.started", job, actor=actor, changes={"state": ["draft", "waiting"]}
        )
        if background:
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
    background: bool = True,
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
    return start(job, actor=actor, columns=columns, options=options, background=background)


@task()
def run_import_job(job_id: int) -> None:
    """Run a waiting import (the background job)."""
    job = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.WAITING).first()
    if job is not None:
        run(job)


class JobKeys(services.KeyBook):
    """A job's match keys in the database (``ImportKey``), written with each batch."""

    def __init__(self, job: ImportJob):
        self.job = job

    def known(self, digests: set[str]) -> dict[str, int]:
        found, digests = {}, sorted(digests)
        for start in range(0, len(digests), KEYS_PER_QUERY):
            found.update(
                ImportKey.objects.filter(
                    search._among("digest", digests[start : start + KEYS_PER_QUERY]), job=self.job
                ).values_list("digest", "line")
            )
        return found

    def add(self, lines: dict[str, int]) -> None:
        bulk.insert(
            ImportKey,
            ({"job_id": self.job.pk, "digest": d, "line": line} for d, line in lines.items()),
        )


# A created record's ``previous``: one object for every row, so that the writer encodes
# it once (it remembers the last value it encoded).
_NOTHING_REPLACED: dict = {}

# Keys looked up per query: within both databases' limits on bound parameters.
KEYS_PER_QUERY = 2000


class ClaimLost(Exception):
    """Another run took the job over (this one's claim lapsed): its batch is not written."""


def _lease_end():
    return leases.lease_end(timezone.now(), settings.KONTOR_IMPORT_LEASE_SECONDS)


def claim(job: ImportJob) -> bool:
    """Take ``job`` to run here: one waiting, or one running whose claim lapsed (the
    process that ran it died). False if another process runs it or it has ended."""
    now = timezone.now()
    runnable = Q(state=ImportJob.State.WAITING) | Q(
        state=ImportJob.State.RUNNING, lease_until__lt=now
    )
    taken = ImportJob.objects.filter(runnable, pk=job.pk).update(
        state=ImportJob.State.RUNNING, lease_until=_lease_end(), attempts=F("attempts") + 1
    )
    if taken:
        job.refresh_from_db()
    return bool(taken)


def resume_abandoned(*, stop=None) -> int:
    """A dispatcher's pass: queue each import whose run died (its claim lapsed, or the
    process that started it died before running it); the new run goes on after the
    last line written."""
    now = timezone.now()
    lapsed = ImportJob.objects.filter(
        state__in=[ImportJob.State.WAITING, ImportJob.State.RUNNING], lease_until__lt=now
    )
    queued = 0
    for pk in lapsed.values_list("pk", flat=True):
        if lapsed.filter(pk=pk).update(state=ImportJob.State.WAITING, lease_until=None):
            run_import_job.enqueue(pk)
            queued += 1
    return queued


def run(job: ImportJob, *, progress=None) -> ImportJob:
    """Run ``job`` now, as its creator, if it is waiting or its last run died (then
    from the line after the last one written, with the counts and keys saved so far).
    Each batch commits with what it created and updated, its problems and the job's
    counts; ``progress(outcome)`` follows each batch."""
    if not claim(job):
        return job
    if job.attempts > settings.KONTOR_IMPORT_ATTEMPTS:
        return _failed(job, _("The import stopped unexpectedly on every attempt."))
    actor, attempt = job.created_by, job.attempts
    mine = ImportJob.objects.filter(pk=job.pk, attempts=attempt)

    def record(outcome: services.Outcome, done: services.BatchDone) -> None:
        if not mine.update(last_line=done.last_line, lease_until=_lease_end(), **_counts(outcome)):
            raise ClaimLost()
        bulk.insert(
            ImportedRecord,
            [
                {"job_id": job.pk, "object_type": object_type, "object_id": pk, "created": True,
                 "previous": _NOTHING_REPLACED}
                for object_type, ids in done.created
                for pk in ids
            ]
            + [
                {"job_id": job.pk, "object_type": object_type, "object_id": pk, "created": False,
                 "previous": before}
                for object_type, pk, before in done.updated
            ],
        )  # fmt: skip
        bulk.insert(
            ImportProblem,
            (
                {"job_id": job.pk, "line": p.line, "column": p.column[:255], "message": p.message}
                for p in outcome.problems
            ),
        )

    try:
        record_type = types.get(job.object_type)
        with job.file.open("rb") as file:
            table, chosen, options = prepare(
                file, record_type, actor=actor, columns=job.mapping, reading=job.reading,
                options=job.options,
            )  # fmt: skip
            outcome = services.run_import(
                table, chosen, record_type, actor=actor, options=options, record=record,
                progress=progress, keys=JobKeys(job), after_line=job.last_line,
                resume=services.Outcome(**_counts(job)),
            )  # fmt: skip
    except ClaimLost:
        job.refresh_from_db()
        return job
    except (KontorError, ReadError) as exc:
        # A line further down that cannot be read, say. The batches written so far
        # stay, counted and recorded by each batch: the job is failed, and undoable.
        return _failed(job, exc.message if isinstance(exc, KontorError) else exc)
    except Exception:
        _failed(job, _("The import stopped unexpectedly."))
        raise
    with transaction.atomic():
        if not mine.update(
            state=ImportJob.State.DONE, finished_at=timezone.now(), lease_until=None,
            **_counts(outcome),
        ):  # fmt: skip
            job.refresh_from_db()
            return job
        ImportKey.objects.filter(job=job).delete()
    job.refresh_from_db()
    return job


def _failed(job: ImportJob, message) -> ImportJob:
    """End the run this process holds (its attempt) as failed; a run that lost its claim
    leaves the job to the run that took it over."""
    with transaction.atomic():
        ended = ImportJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
            state=ImportJob.State.FAILED,
            message=str(message),
            finished_at=timezone.now(),
            lease_until=None,
        )
        if ended:
            ImportKey.objects.filter(job=job).delete()
    job.refresh_from_db()
    return job


COUNTS = ("rows", "created", "updated", "skipped", "failed", "linked_created")


def _counts(outcome: services.Outcome) -> dict:
    return {name: getattr(outcome, name) for name in COUNTS}


def write_error_file(job: ImportJob, out) -> None:
    """The job's rows not imported, as CSV (UTF-8 with the mark Excel reads it by), an
    error column last."""
    out.write("\ufeff")
    problems = (
        services.Problem(*problem)
        for problem in job.problems.values_list("line", "column", "message").iterator()
    )
    with job.file.open("rb") as file:
        services.write_error_rows(open_table(file, **job.reading), problems, out)


# Problems a page or an API answer lists (all of them are in the error rows' file).
PROBLEMS_SHOWN = 200


def shown_problems(job: ImportJob) -> list[tuple[int, str, str]]:
    return list(job.problems.values_list("line", "column", "message")[:PROBLEMS_SHOWN])


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
    """Restore what ``job`` updated (through each type's update service) and remove
    what it created (through each type's ``delete_many``: a chunk of records at once),
    within the undoer's permissions, with audit and events, a chunk per transaction,
    each record forgotten by the job once undone. A record the undoer may not delete or
    change is left and counted, and the job stays undoable (by an administrator, say)
    for those; one that is gone is forgotten. Answers the counts."""
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
                if created:
                    finished = _undo_created(chunk, actor, counts)
                else:
                    finished = _undo_updated(chunk, actor, counts)
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


def _undo_created(chunk: list[ImportedRecord], actor, counts: dict) -> list[int]:
    """Delete the chunk's records, a run of one type at a time in the chunk's order;
    answers the entries done with."""
    finished = []
    for object_type, run in itertools.groupby(chunk, key=lambda entry: entry.object_type):
        run = list(run)
        model = types.get(object_type).model
        ids = {entry.object_id for entry in run}
        existing = set(model._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
        try:
            deleted = records.bulk_delete(types.get(object_type), existing, actor=actor).done
        except PermissionDenied:
            deleted = 0
        left = set(model._default_manager.filter(pk__in=existing).values_list("pk", flat=True))
        counts["deleted"] += deleted
        counts["gone"] += len(ids - existing)
        counts["left"] += len(left)
        finished += [entry.pk for entry in run if entry.object_id not in left]
    return finished


def _undo_updated(chunk: list[ImportedRecord], actor, counts: dict) -> list[int]:
    """Restore the chunk's records one by one; answers the entries done with."""
    finished = []
    for entry in chunk:
        outcome = _restore(entry, actor)
        counts[outcome] += 1
        if outcome != "left":
            finished.append(entry.pk)
    return finished


def _restore(entry: ImportedRecord, actor) -> str:
    """ "restored", "gone" or "left"."""
    record_type = types.get(entry.object_type)
    if not record_type.model._default_manager.filter(pk=entry.object_id).exists():
        return "gone"
    try:
        with transaction.atomic():
            obj = record_type.one(actor, entry.object_id, action=Action.EDIT)
            record_type.update(obj, entry.previous, actor=actor)
            return "restored"
    except KontorError:  # not theirs to change, gone, or changed since beyond restoring
        return "left"
