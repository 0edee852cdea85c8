"""CSV and XLSX exports of people and companies.

The rows come from ``queries.people/companies(user, filters, action="export")``: exactly
the list rows the user can see and may export. Columns give typed values (text, dates,
times); each format writes them its own way:

- CSV has no types, so a text cell starting with = + - @ tab or CR gets a leading quote
  (formula injection): a name typed as ``=HYPERLINK(...)`` stays text in Excel.
- XLSX cells are typed: every text is written as a string cell, which a spreadsheet never
  evaluates, so it needs no quote and keeps its exact text; dates are date cells.

Phones come in one format (E.164, ";ext=" and the extension, RFC 3966) beside the text
as typed, in a column of its own.
"""

import csv
import datetime
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .models import Email, Phone

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class Column:
    header: str
    # (record, its contact points) -> cell value
    value: Callable[[object, dict], object]


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


def _joined(items: Iterable) -> str:
    return "; ".join(str(i) for i in items)


def _name(obj) -> str:
    return str(obj) if obj is not None else ""


def _visible_company(person, points) -> str:
    # The employer's name is shown only when the company itself is visible (annotated).
    return person.company.name if person.company_id and person.company_visible else ""


def _points(kind: str):
    return lambda obj, points: _joined(points[kind])


def _phones(obj, points) -> str:
    return _joined(
        f"{e164};ext={extension}" if extension else e164
        for _raw, e164, extension in points["phones"]
    )


def _phones_as_typed(obj, points) -> str:
    return _joined(raw for raw, _e164, _extension in points["phones"])


PERSON_COLUMNS = (
    Column(_("ID"), lambda p, points: p.pk),
    Column(_("First name"), lambda p, points: p.first_name),
    Column(_("Middle name"), lambda p, points: p.middle_name),
    Column(_("Last name"), lambda p, points: p.last_name),
    Column(_("Position"), lambda p, points: p.position),
    Column(_("Company"), _visible_company),
    Column(_("Phones"), _phones),
    Column(_("Phones as typed"), _phones_as_typed),
    Column(_("Emails"), _points("emails")),
    Column(_("Birthday"), lambda p, points: p.birthday),
    Column(_("Tags"), _points("tags")),
    Column(_("Source"), lambda p, points: p.source),
    Column(_("Owner"), lambda p, points: _name(p.owner)),
    Column(_("Department"), lambda p, points: _name(p.department)),
    Column(_("Created"), lambda p, points: p.created_at),
)

COMPANY_COLUMNS = (
    Column(_("ID"), lambda c, points: c.pk),
    Column(_("Name"), lambda c, points: c.name),
    Column(_("Legal name"), lambda c, points: c.legal_name),
    Column(_("Tax id"), lambda c, points: c.tax_id),
    Column(_("Industry"), lambda c, points: c.industry),
    Column(_("Website"), lambda c, points: c.website),
    Column(_("Phones"), _phones),
    Column(_("Phones as typed"), _phones_as_typed),
    Column(_("Emails"), _points("emails")),
    Column(_("Tags"), _points("tags")),
    Column(_("Owner"), lambda c, points: _name(c.owner)),
    Column(_("Department"), lambda c, points: _name(c.department)),
    Column(_("Created"), lambda c, points: c.created_at),
)


def contact_points(model, ids: list[int]) -> dict[int, dict[str, list]]:
    """Phones (typed, E.164, extension), emails and tag names of ``ids``, in three queries.

    Flat ``values_list`` reads instead of ``prefetch_related``: building a related
    manager per row cost more than the query itself (0.9 ms a row at 100,000 rows).
    """
    link = f"{model._meta.model_name}_id"
    points = {pk: {"phones": [], "emails": [], "tags": []} for pk in ids}
    reads = (
        ("phones", Phone.objects, ("raw", "e164", "extension"), ("position", "id")),
        ("emails", Email.objects, ("address",), ("position", "id")),
        ("tags", model.tags.through.objects, ("tag__name",), ("tag__name",)),
    )
    for kind, manager, fields, ordering in reads:
        for owner_id, *values in (
            manager.filter(**{f"{link}__in": ids}).order_by(*ordering).values_list(link, *fields)
        ):
            points[owner_id][kind].append(values[0] if len(values) == 1 else tuple(values))
    return points


def rows(queryset, columns) -> Iterator[list]:
    """The header, then one row of typed values per record, read in chunks (memory stays flat)."""
    yield [str(c.header) for c in columns]
    records = queryset.iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(itertools.islice(records, CHUNK_ROWS)):
        points = contact_points(queryset.model, [obj.pk for obj in chunk])
        for obj in chunk:
            yield [c.value(obj, points[obj.pk]) for c in columns]


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
            yield writer.writerow([neutralise(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    return response


def xlsx_response(queryset, columns, *, stem: str) -> FileResponse:
    # write_only keeps openpyxl's memory flat; the workbook goes to a temporary file
    # that FileResponse streams and closes (deleting it) when sent.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=stem[:31])
    for row in rows(queryset, columns):
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
