"""Reading spreadsheets: encodings, delimiters, workbooks, and malformed files explained."""

import io

import openpyxl
import pytest

from kontor.imports import reading
from kontor.imports.reading import ReadError, cell_text, detect_encoding, open_table

from . import files


@pytest.fixture(params=["held", "streamed"])
def workbook_reader(request, monkeypatch):
    """Each workbook test twice: read by python-calamine (a sheet held in memory), and
    as a sheet too large to hold, streamed by openpyxl."""
    if request.param == "streamed":
        monkeypatch.setattr(reading, "STREAMED_SHEET_BYTES", 0)
    return request.param


def read(data: bytes, **options):
    table = open_table(io.BytesIO(data), **options)
    return table, [cells for _number, cells in table.rows]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251"), ("utf-16", "utf-16")],
)
def test_russian_text_in_each_encoding(encoding, expected):
    data = files.csv_bytes(
        ["Имя", "Город"], [["Ёжик", "Москва"], ["Анна", "Тверь"]], encoding=encoding
    )
    table, rows = read(data)
    assert table.encoding == expected
    assert table.headers == ["Имя", "Город"]
    assert rows == [["Ёжик", "Москва"], ["Анна", "Тверь"]]


def test_french_latin1_is_not_taken_for_cp1251():
    data = files.csv_bytes(
        ["Prénom", "Société"], [["Hélène", "Crème brûlée SARL"]], encoding="latin-1"
    )
    table, rows = read(data)
    assert table.encoding == "latin-1"
    assert rows == [["Hélène", "Crème brûlée SARL"]]


def test_detection_of_a_sample_cut_inside_a_character():
    text = ("Привет, " * 10).encode()
    assert detect_encoding(text[:-1]) == "utf-8"


def test_the_user_overrides_a_wrong_guess():
    data = files.csv_bytes(["Name"], [["Ведро"]], encoding="cp1251")
    _table, rows = read(data, encoding="latin-1")
    assert rows == [["Âåäðî"]]  # what they asked for
    _table, rows = read(data, encoding="cp1251")
    assert rows == [["Ведро"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter):
    data = files.csv_bytes(
        ["a", "b", "c"], [["1", "x, y; z", "3"], ["4", "5", "6"]], delimiter=delimiter
    )
    table, rows = read(data)
    assert table.delimiter == delimiter
    assert rows == [["1", "x, y; z", "3"], ["4", "5", "6"]]


def test_rows_keep_their_line_numbers_and_blank_lines_before_the_header_are_skipped():
    table = open_table(io.BytesIO(b"\r\n;;\r\nname;city\r\nA;B\r\n\r\nC;D\r\n"))
    assert table.headers == ["name", "city"]
    assert list(table.rows) == [(4, ["A", "B"]), (5, []), (6, ["C", "D"])]


def test_workbook_sheets_and_typed_cells(workbook_reader):
    table, rows = read(files.russian_workbook())
    assert table.kind == "workbook"
    assert table.sheets == ["Сводка", "Клиенты"]
    # The first sheet with data is the title sheet; a sheet is chosen by name.
    assert table.headers == ["Выгрузка клиентов"]
    table, rows = read(files.russian_workbook(), sheet="Клиенты")
    assert table.headers == files.RUSSIAN_HEADERS
    assert rows[0][0] == "Иванов" and rows[0][9].isoformat().startswith("1980-05-17")
    assert len(rows) == 3


def test_the_russian_csv_twin_reads_the_same_texts(workbook_reader):
    _table, workbook_rows = read(files.russian_workbook(extra_sheet=False))
    table, csv_rows = read(files.russian_csv())
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert [row[:9] for row in csv_rows] == [[str(c) for c in row[:9]] for row in workbook_rows]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b"\x00\x01\x02binary\x00garbage", "not a spreadsheet"),
        (b"PK\x03\x04 not really a zip", "cannot be read"),
        (b'name\r\n"never closed\r\nmore', "cannot be read as CSV"),
    ],
)
def test_malformed_files_are_explained(data, message):
    with pytest.raises(ReadError, match=message):
        read(data)


def test_a_broken_encoding_further_down_names_its_line():
    data = b"name\r\n" + b"ok\r\n" * 3 + "Ёлка\r\n".encode("cp1251")
    with pytest.raises(ReadError, match="Line 5 is not in utf-8"):
        read(data, encoding="utf-8")


def test_a_huge_cell_is_refused_with_its_line():
    data = b"name\r\n" + b"x" * 200_000 + b"\r\n"
    with pytest.raises(ReadError, match="Line 2 cannot be read as CSV: a cell is longer"):
        read(data)


def test_unknown_sheet_and_empty_workbook(workbook_reader):
    with pytest.raises(ReadError, match="no sheet named"):
        read(files.russian_workbook(), sheet="Nope")
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    with pytest.raises(ReadError, match="no data"):
        read(out.getvalue())


def test_a_streamed_sheet_reads_as_a_held_one(monkeypatch):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Amount", "Phone", "Total"])
    sheet.append(["Anna", 12.5, 79161234567, "=B2*2"])
    sheet.append([])
    sheet.append(["Boris", 3, "+7 916 000-00-00"])
    out = io.BytesIO()
    workbook.save(out)

    def texts(table):
        return [(n, [cell_text(c) for c in cells]) for n, cells in table.rows]

    held = open_table(io.BytesIO(out.getvalue()))
    monkeypatch.setattr(reading, "STREAMED_SHEET_BYTES", 0)
    streamed = open_table(io.BytesIO(out.getvalue()))
    assert held.headers == streamed.headers == ["Name", "Amount", "Phone", "Total"]
    # A formula's value is what Excel saved with it (openpyxl saves none here).
    rows = [(n, [t for t in cells if t]) for n, cells in texts(streamed)]
    assert rows == [(n, [t for t in cells if t]) for n, cells in texts(held)]
    assert rows[0] == (2, ["Anna", "12.5", "79161234567"])
    # The progress bar's end, from the sheet's dimension: the blank row counted.
    assert (held.stated_rows, streamed.stated_rows) == (None, 3)
