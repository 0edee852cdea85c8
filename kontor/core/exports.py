"""CSV, XLSX (and, for a type that has it, vCard) exports of any registered record type.

The rows come from the type's ``list_query(user, filters, action="export")``: exactly the
list rows the user can see and may export. The type's ``export_columns`` give typed
values (text, dates, times); each format writes them its own way:

- CSV has no types, so a text cell starting with = + - @ tab or CR gets a leading quote
  (formula injection): a name typed as ``=HYPERLINK(...)`` stays text in Excel.
- XLSX cells are typed: every text is written as a string cell, which a spreadsheet never
  evaluates, so it needs no quote and keeps its exact text; dates are date cells.

Every export is an ``ExportJob``, audited (who, which type, filters, format, rows). Up to
``INLINE_ROWS`` rows it is streamed at once; a bigger one is written in the background
(``run_export``), counting its progress on the job, and downloaded from the job by the
one who asked for it (``/exports/<id>/``, ``/api/v1/exports/<id>``).
"""

import csv
import dataclasses
import datetime
import io
import itertools
import tempfile
from collections.abc import Callable, Iterator

from django.core.files import File
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django_tasks import task
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from . import audit
from .access import Action, may
from .models import ExportJob
from .pagination import capped_count

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000
# Up to this many rows an export streams at once; more go to the background.
INLINE_ROWS = 5_000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}


def neutralise(value):
    """The CSV cell a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        # Control characters are dropped first (as in XLSX), so that removing them
        # cannot uncover a leading "=".
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_TRIGGERS):
            return "'" + value
    return value


def xlsx_cell(sheet, value):
    """The XLSX cell of ``value``: text as a string cell, never a formula; dates as dates."""
    if isinstance(value, str):
        # Control characters are invalid in XLSX's XML.
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        # openpyxl makes a formula of any text starting with "="; the type says text.
        cell.data_type = "s"
        return cell
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: the time as the reader's clock shows it.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _chunks(queryset, progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """The records in chunks (memory stays flat), counting each chunk done."""
    records = queryset.iterator(chunk_size=CHUNK_ROWS)
    done = 0
    while chunk := list(itertools.islice(records, CHUNK_ROWS)):
        yield chunk
        done += len(chunk)
        if progress:
            progress(done)


def rows(queryset, record_type, user, progress=None) -> Iterator[list]:
    """The header, then one row of typed values per record."""
    columns = record_type.export_columns_for(user)
    yield [str(c.header) for c in columns]
    for chunk in _chunks(queryset, progress):
        extra = record_type.export_extra([obj.pk for obj in chunk])
        for obj in chunk:
            yield [c.value(obj, extra[obj.pk]) for c in columns]


def vcards(queryset, record_type, progress=None) -> Iterator[str]:
    """One vCard per record (``RecordType.vcard``)."""
    for chunk in _chunks(queryset, progress):
        extra = record_type.export_extra([obj.pk for obj in chunk])
        for obj in chunk:
            yield record_type.vcard(obj, extra[obj.pk])


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def _csv_lines(queryset, record_type, user, progress=None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The BOM makes Excel read the file as UTF-8 (Cyrillic names stay readable).
    yield "\ufeff"
    for row in rows(queryset, record_type, user, progress):
        yield writer.writerow([neutralise(value) for value in row])


def _xlsx_file(queryset, record_type, user, stem: str, progress=None):
    """The workbook in a temporary file (write_only keeps openpyxl's memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=stem[:31])
    for row in rows(queryset, record_type, user, progress):
        sheet.append([xlsx_cell(sheet, value) for value in row])
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return target


def _text_lines(queryset, record_type, user, format: str, progress=None) -> Iterator[str]:
    if format == "vcf":
        return vcards(queryset, record_type, progress)
    return _csv_lines(queryset, record_type, user, progress)


def stream(queryset, record_type, *, user, format: str):
    """The export as a response, written while it is sent."""
    filename = _filename(record_type.export_stem, format)
    if format == "xlsx":
        return FileResponse(
            _xlsx_file(queryset, record_type, user, record_type.export_stem),
            as_attachment=True,
            filename=filename,
            content_type=CONTENT_TYPES["xlsx"],
        )
    response = StreamingHttpResponse(
        _text_lines(queryset, record_type, user, format), content_type=CONTENT_TYPES[format]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def start(record_type, user, filters, format: str) -> tuple[ExportJob, object]:
    """Record and audit an export of the list ``filters`` select; answer the job and the
    queryset when it is small enough to stream now (None: it runs in the background)."""
    queryset = record_type.list_query(user, filters, action=Action.EXPORT)
    counted = capped_count(queryset)
    inline = not counted.capped and counted.count <= INLINE_ROWS
    now = timezone.now()
    job = ExportJob.objects.create(
        user=user,
        object_type=record_type.object_type,
        filters=dataclasses.asdict(filters),
        format=format,
        state=ExportJob.State.DONE if inline else ExportJob.State.QUEUED,
        total=counted.count,
        done=counted.count if inline else 0,
        finished_at=now if inline else None,
    )
    narrowed = {k: v for k, v in job.filters.items() if v not in ("", None, False, [], {})}
    narrowed.update({k: v for k, v in narrowed.pop("extra", {}).items() if v not in ("", None)})
    audit.record(
        "core.exportjob.created",
        job,
        actor=user,
        changes={
            "type": [None, record_type.object_type],
            "format": [None, format],
            "filters": [None, audit.json_safe(narrowed)],
            "rows": [None, counted.count],
        },
    )
    if inline:
        return job, queryset
    transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job, None


@task()
def run_export(job_id: int) -> None:
    """Write a big export to its job's file, counting progress as it goes. The rows are
    read as the user may export them now (rights lost meanwhile: the export fails)."""
    from .types import ListFilters, get

    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.state != ExportJob.State.QUEUED:
        return
    record_type, user = get(job.object_type), job.user
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING)
    if user is None or not user.is_active or not may(user, job.object_type, Action.EXPORT):
        _finish(job, ExportJob.State.FAILED, error="no export rights")
        return
    queryset = record_type.list_query(user, ListFilters(**job.filters), action=Action.EXPORT)
    total = queryset.count()
    ExportJob.objects.filter(pk=job.pk).update(total=total)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done)

    name = _filename(record_type.export_stem, job.format)
    if job.format == "xlsx":
        content = _xlsx_file(queryset, record_type, user, record_type.export_stem, progress)
    else:
        content = tempfile.TemporaryFile()
        text = io.TextIOWrapper(content, encoding="utf-8", newline="")
        for line in _text_lines(queryset, record_type, user, job.format, progress):
            text.write(line)
        text.flush()
        text.detach()
        content.seek(0)
    with content:
        job.file.save(name, File(content), save=False)
    job.total = job.done = total
    _finish(job, ExportJob.State.DONE)


def _finish(job: ExportJob, state: str, *, error: str = "") -> None:
    job.state, job.error, job.finished_at = state, error, timezone.now()
    job.save()
