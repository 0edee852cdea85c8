"""CSV and XLSX exports of any registered record type.

The rows come from the type's ``list_query(user, filters, action="export")``: exactly the
list rows the user can see and may export. The type's ``export_columns`` give typed
values (text, dates, times); each format writes them its own way:

- CSV has no types, so a text cell starting with = + - @ tab or CR gets a leading quote
  (formula injection): a name typed as ``=HYPERLINK(...)`` stays text in Excel.
- XLSX cells are typed: every text is written as a string cell, which a spreadsheet never
  evaluates, so it needs no quote and keeps its exact text; dates are date cells.
"""

import csv
import datetime
import itertools
import tempfile
from collections.abc import Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000


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


def rows(queryset, record_type, user) -> Iterator[list]:
    """The header, then one row of typed values per record, read in chunks (memory stays flat)."""
    columns = record_type.export_columns_for(user)
    yield [str(c.header) for c in columns]
    records = queryset.iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(itertools.islice(records, CHUNK_ROWS)):
        extra = record_type.export_extra([obj.pk for obj in chunk])
        for obj in chunk:
            yield [c.value(obj, extra[obj.pk]) for c in columns]


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(queryset, record_type, *, user, stem: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        # The BOM makes Excel read the file as UTF-8 (Cyrillic names stay readable).
        yield "\ufeff"
        for row in rows(queryset, record_type, user):
            yield writer.writerow([neutralise(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    return response


def xlsx_response(queryset, record_type, *, user, stem: str) -> FileResponse:
    # write_only keeps openpyxl's memory flat; the workbook goes to a temporary file
    # that FileResponse streams and closes (deleting it) when sent.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=stem[:31])
    for row in rows(queryset, record_type, user):
        sheet.append([xlsx_cell(sheet, value) for value in row])
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=_filename(stem, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
