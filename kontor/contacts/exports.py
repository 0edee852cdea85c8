"""CSV and XLSX exports of people and companies.

The rows come from ``queries.people/companies(user, filters, action="export")``: exactly
the list rows the user can see and may export. Every text cell is neutralised against
formula injection (a cell starting with = + - @ tab or CR gets a leading quote), so a
name typed as ``=HYPERLINK(...)`` stays text in Excel and LibreOffice.
"""

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[object], object]


def neutralise(value):
    """The cell value a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    if isinstance(value, str):
        # Control characters are invalid in XLSX's XML; dropped first, so that removing
        # them cannot uncover a leading "=".
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_TRIGGERS):
            return "'" + value
    return value


def _joined(items: Iterable) -> str:
    return "; ".join(str(i) for i in items)


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _name(obj) -> str:
    return str(obj) if obj is not None else ""


def _visible_company(person) -> str:
    # The employer's name is shown only when the company itself is visible (annotated).
    return person.company.name if person.company_id and person.company_visible else ""


PERSON_COLUMNS = (
    Column(_("ID"), lambda p: p.pk),
    Column(_("First name"), lambda p: p.first_name),
    Column(_("Middle name"), lambda p: p.middle_name),
    Column(_("Last name"), lambda p: p.last_name),
    Column(_("Position"), lambda p: p.position),
    Column(_("Company"), _visible_company),
    Column(_("Phones"), lambda p: _joined(x.raw for x in p.phones.all())),
    Column(_("Emails"), lambda p: _joined(x.address for x in p.emails.all())),
    Column(_("Birthday"), lambda p: _iso(p.birthday)),
    Column(_("Tags"), lambda p: _joined(t.name for t in p.tags.all())),
    Column(_("Source"), lambda p: p.source),
    Column(_("Owner"), lambda p: _name(p.owner)),
    Column(_("Department"), lambda p: _name(p.department)),
    Column(_("Created"), lambda p: _iso(p.created_at)),
)

COMPANY_COLUMNS = (
    Column(_("ID"), lambda c: c.pk),
    Column(_("Name"), lambda c: c.name),
    Column(_("Legal name"), lambda c: c.legal_name),
    Column(_("Tax id"), lambda c: c.tax_id),
    Column(_("Industry"), lambda c: c.industry),
    Column(_("Website"), lambda c: c.website),
    Column(_("Phones"), lambda c: _joined(x.raw for x in c.phones.all())),
    Column(_("Emails"), lambda c: _joined(x.address for x in c.emails.all())),
    Column(_("Tags"), lambda c: _joined(t.name for t in c.tags.all())),
    Column(_("Owner"), lambda c: _name(c.owner)),
    Column(_("Department"), lambda c: _name(c.department)),
    Column(_("Created"), lambda c: _iso(c.created_at)),
)


def rows(queryset, columns) -> Iterator[list]:
    """The header, then one neutralised row per record, read in chunks (memory stays flat)."""
    yield [str(c.header) for c in columns]
    for obj in queryset.iterator(chunk_size=CHUNK_ROWS):
        yield [neutralise(c.value(obj)) for c in columns]


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(queryset, columns, *, stem: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        # The BOM makes Excel read the file as UTF-8 (Cyrillic names stay readable).
        yield "\ufeff"
        for row in rows(queryset, columns):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    return response


def xlsx_response(queryset, columns, *, stem: str) -> FileResponse:
    # write_only keeps openpyxl's memory flat; the workbook goes to a temporary file
    # that FileResponse streams and closes (deleting it) when sent.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=stem[:31])
    for row in rows(queryset, columns):
        sheet.append(row)
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=_filename(stem, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
