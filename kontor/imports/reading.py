"""Reading a spreadsheet a user uploads: CSV in whatever encoding and delimiter it came
in, or an Excel workbook (XLSX, also XLS and ODS) with several sheets.

``open_table(file, ...)`` answers a ``Table``: the header row, and the data rows as an
iterator (each row its line or row number in the file and its cells), read as the
import goes. CSV streams in constant memory; a workbook is read by python-calamine
(Rust: a sheet of 100,000 rows in about a second, several times openpyxl's speed), but
an XLSX sheet too large to hold in memory is streamed by openpyxl.
Anything that cannot be read raises ``ReadError`` with a sentence for the user, never
an exception from a parser.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import openpyxl
import python_calamine
from django.utils.translation import gettext as _

# Encodings offered (and detected): what spreadsheets are saved in where Kontor is used.
ENCODINGS = ("utf-8", "utf-8-sig", "cp1251", "latin-1", "utf-16")
DELIMITERS = (",", ";", "\t", "|")
# How much of a CSV file the detection reads.
SAMPLE_BYTES = 64 * 1024

_ZIP_MAGIC = b"PK\x03\x04"  # XLSX and ODS are zip archives
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary XLS


class ReadError(Exception):
    """The file cannot be read; ``str()`` says why, for the user."""


@dataclass
class Table:
    """One sheet (or the CSV file): headers and an iterator of (row number, cells)."""

    kind: str  # "csv" or "workbook"
    headers: list[str]
    rows: Iterator[tuple[int, list]]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    # The rows below the header as the file states them, blank ones included, when
    # counting them would mean reading the file (a streamed sheet's dimension).
    stated_rows: int | None = None


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV file's first bytes: UTF-8 (with or without its byte order
    mark) if they decode as such, else cp1251 or latin-1, told apart by where their
    letters above ASCII stand: Russian words are made of them, while in French or German
    text they sit one at a time among ASCII letters."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    try:
        # A sample may end inside a character: the incremental decoder waits for it.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    among_high = among_ascii = 0
    for previous, current in zip(sample, sample[1:], strict=False):
        if current >= 0xC0:
            if previous >= 0xC0:
                among_high += 1
            elif chr(previous).isalpha():
                among_ascii += 1
    return "cp1251" if among_high >= among_ascii else "latin-1"


def detect_delimiter(text: str) -> str:
    """The delimiter of a CSV sample: the one of ``DELIMITERS`` that splits its lines
    into the same number of fields (more than one), most fields first; csv.Sniffer
    where that does not decide (quoted fields holding delimiters)."""
    # Lines with some text: a row of empty cells says nothing of the columns.
    lines = [line for line in text.splitlines()[:50] if any(c.isalnum() for c in line)]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample's last line may be cut
    best, best_count = "", 1
    for delimiter in DELIMITERS:
        counts = {len(next(csv.reader([line], delimiter=delimiter))) for line in lines}
        if len(counts) == 1 and (count := counts.pop()) > best_count:
            best, best_count = delimiter, count
    if best:
        return best
    try:
        return csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def open_table(
    file,
    *,
    encoding: str = "",
    delimiter: str = "",
    sheet: str = "",
) -> Table:
    """The table in ``file`` (a binary file object, seekable): a workbook's ``sheet``
    (default: the first with data), or CSV in ``encoding`` with ``delimiter`` (each
    detected when not given)."""
    head = file.read(SAMPLE_BYTES)
    file.seek(0)
    if not head.strip():
        raise ReadError(_("The file is empty."))
    if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return _open_workbook(file, sheet)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(_("This is not a spreadsheet: save it as CSV or XLSX."))
    return _open_csv(file, head, encoding, delimiter)


def _open_csv(file, head: bytes, encoding: str, delimiter: str) -> Table:
    if encoding and encoding not in ENCODINGS:
        raise ReadError(_("Unknown encoding: %(name)s.") % {"name": encoding})
    encoding = encoding or detect_encoding(head)
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"  # a BOM is no part of the first header
    sample = head.decode(encoding, errors="ignore")
    if delimiter and delimiter not in DELIMITERS:
        raise ReadError(_("Unknown delimiter: %(name)s.") % {"name": delimiter})
    delimiter = delimiter or detect_delimiter(sample)
    reader = csv.reader(_Lines(file, encoding), delimiter=delimiter, strict=True)
    rows = _csv_rows(reader)
    headers = _header_row(rows)
    return Table("csv", headers, rows, encoding=encoding, delimiter=delimiter)


class _Lines:
    """The file's lines as text, counted, so an error names its line; decoded line by
    line (strict), so a wrong encoding is caught where it shows."""

    def __init__(self, file, encoding: str):
        self.number = 0
        self.encoding = encoding
        if encoding == "utf-16":  # its newline is two bytes: let Python split it
            self._lines = io.TextIOWrapper(file, encoding=encoding, newline="")
            self._decode = None
        else:
            self._lines = iter(file)
            self._decode = codecs.getdecoder(encoding)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
            self.number += 1
            return line if self._decode is None else self._decode(line)[0]
        except UnicodeDecodeError:
            raise ReadError(
                _("Line %(line)d is not in %(encoding)s: choose the file's encoding.")
                % {"line": self.number, "encoding": self.encoding}
            ) from None


def _lines(file, encoding: str) -> _Lines:
    return _Lines(file, encoding)


def _csv_rows(reader) -> Iterator[tuple[int, list]]:
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        # csv says "field larger than field limit": its limit is the one on cells.
        if "field limit" in str(exc):
            reason = _("a cell is longer than %(max)d characters") % {"max": csv.field_size_limit()}
        else:
            reason = str(exc)
        raise ReadError(
            _("Line %(line)d cannot be read as CSV: %(reason)s.")
            % {"line": reader.line_num, "reason": reason}
        ) from None


def _header_row(rows: Iterator[tuple[int, list]]) -> list[str]:
    """The first row with any text: the column names."""
    for _number, cells in rows:
        if any(cell_text(cell) for cell in cells):
            return [cell_text(cell) for cell in cells]
    raise ReadError(_("The file has no header row."))


# A workbook with a sheet larger than this (its XML, unpacked) is streamed by openpyxl in
# constant memory, about five times slower; python-calamine holds a whole sheet in
# memory (424 MB at 1,000,000 rows of 7 cells, docs/benchmarks.md).
STREAMED_SHEET_BYTES = 64 * 1024 * 1024


def _open_workbook(file, sheet: str) -> Table:
    try:
        if _largest_sheet_bytes(file) > STREAMED_SHEET_BYTES:
            return _open_streamed(file, sheet)
        workbook = python_calamine.CalamineWorkbook.from_filelike(file)
        names = workbook.sheet_names
        _check_sheet(sheet, names)
        chosen = None
        for name in [sheet] if sheet else names:
            found = workbook.get_sheet_by_name(name)
            if found.height:
                chosen = found
                break
        if chosen is None:
            raise ReadError(_("The workbook has no data."))
        rows = _sheet_rows(chosen)
        headers = _header_row(rows)
    except ReadError:
        raise
    except Exception:  # noqa: BLE001 - the readers raise their own kinds and Python's for broken files
        raise _unreadable() from None
    return Table("workbook", headers, rows, sheet=chosen.name, sheets=names)


def _unreadable() -> ReadError:
    return ReadError(_("This workbook cannot be read: save it again as XLSX or CSV."))


def _check_sheet(sheet: str, names: list[str]) -> None:
    if sheet and sheet not in names:
        raise ReadError(_("The workbook has no sheet named %(name)s.") % {"name": sheet})


def _largest_sheet_bytes(file) -> int:
    """The unpacked size of an XLSX file's largest sheet (0: not an XLSX file)."""
    try:
        with zipfile.ZipFile(file) as archive:
            return max(
                (
                    i.file_size
                    for i in archive.infolist()
                    if i.filename.startswith("xl/worksheets/")
                ),
                default=0,
            )
    except zipfile.BadZipFile:
        return 0
    finally:
        file.seek(0)


def _open_streamed(file, sheet: str) -> Table:
    workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    names = workbook.sheetnames
    _check_sheet(sheet, names)
    for name in [sheet] if sheet else names:
        rows = _streamed_rows(workbook[name])
        try:
            headers = _header_row(rows)
        except ReadError:
            continue  # no data: the next sheet
        stated = workbook[name].max_row
        return Table(
            "workbook", headers, rows, sheet=name, sheets=names,
            stated_rows=stated - 1 if stated else None,
        )  # fmt: skip
    raise ReadError(_("The workbook has no data."))


def _streamed_rows(worksheet) -> Iterator[tuple[int, list]]:
    """A sheet's rows as openpyxl reads them, one at a time; a fault found further down
    the file is a ``ReadError`` too."""
    try:
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            # An empty cell as calamine gives it.
            yield number, ["" if cell is None else cell for cell in cells]
    except Exception:  # noqa: BLE001 - as in _open_workbook
        raise _unreadable() from None


def _sheet_rows(sheet) -> Iterator[tuple[int, list]]:
    # Row numbers as the spreadsheet shows them (the used range may start below row 1).
    first = sheet.start[0] + 1 if sheet.start else 1
    for index, cells in enumerate(sheet.iter_rows()):
        yield first + index, cells


def cell_text(value) -> str:
    """A cell as text: a whole number without ".0" (a phone number Excel kept as a
    number), a date as ISO."""
    if type(value) is str:  # most cells: first, before the tests for the other kinds
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()
