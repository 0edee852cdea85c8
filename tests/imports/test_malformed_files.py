"""Property tests: whatever file arrives (random bytes, broken encodings, ragged rows,
huge cells, formula payloads, broken workbooks), reading and a dry run never crash: a
file is either refused with a sentence (``ReadError``) or read, and then every row is
counted once, as created or failed with its reasons, and nothing is written."""

import csv
import io
import string
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kontor.contacts.models import Company, Person
from kontor.imports.reading import ReadError, open_table

pytestmark = pytest.mark.django_db

# Derandomized: the same examples on every run, so CI never fails on a new draw.
EXAMPLES = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADERS = ["First name", "Last name", "Email", "Phone", "Company", "Birthday", "Tags", "Notes"]
PAYLOADS = ["=1+2", "+7 916", "-2", "@SUM(A1)", '=HYPERLINK("http://x")', "\x00", "\ufffe"]
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(PAYLOADS),
    # A huge cell, built from a little entropy (hypothesis refuses inputs too big to shrink).
    st.builds(
        lambda chunk, times: chunk * times,
        st.text(alphabet=string.printable, min_size=1, max_size=8),
        st.integers(min_value=1_000, max_value=5_000),
    ),
    st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
    st.emails(),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=len(HEADERS) + 3), max_size=12)


def read_or_refuse(data: bytes, **reading):
    """The table's rows read to the end, or None when refused with a sentence."""
    try:
        table = open_table(io.BytesIO(data), **reading)
        return table, list(table.rows)
    except ReadError as refused:
        assert str(refused).strip()
        return None


@EXAMPLES
@given(data=st.binary(max_size=4_000))
def test_random_bytes_are_read_or_refused_with_a_reason(data):
    read_or_refuse(data)


@EXAMPLES
@given(
    body=rows,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "latin-1", "utf-16"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    truncate=st.integers(min_value=0, max_value=50),
)
def test_a_dry_run_of_any_csv_counts_each_row_once_and_writes_nothing(
    run, body, encoding, delimiter, truncate
):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(HEADERS)
    writer.writerows(body)
    data = text.getvalue().encode(encoding, errors="replace")
    if truncate:
        data = data[:-truncate]  # a file cut off mid-row, mid-character
    _check_dry_run(run, data)


def _check_dry_run(run, data: bytes):
    people, companies = Person.objects.count(), Company.objects.count()
    read = read_or_refuse(data)
    if read is None:
        return
    try:
        outcome = run(data, dry_run=True)
    except ReadError as refused:  # found further into the file than the first rows
        assert str(refused).strip()
        return
    assert outcome.created + outcome.updated + outcome.skipped + outcome.failed == outcome.rows
    failed_lines = {problem.line for problem in outcome.problems}
    assert len(failed_lines) == outcome.failed
    assert all(problem.message.strip() for problem in outcome.problems)
    assert (Person.objects.count(), Company.objects.count()) == (people, companies)


@EXAMPLES
@given(body=rows, formulas=st.booleans())
def test_a_dry_run_of_any_workbook_counts_each_row_once(run, body, formulas):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in body:
        # A workbook cannot hold control characters: openpyxl refuses them.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    if formulas:
        sheet.append(["=A1&B1", "=1/0", "=SUM(A1:A2)"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _check_dry_run(run, buffer.getvalue())


@EXAMPLES
@given(cut=st.integers(min_value=1, max_value=2_000), noise=st.binary(max_size=64))
def test_a_broken_workbook_is_refused_with_a_reason(cut, noise):
    workbook = Workbook()
    workbook.active.append(HEADERS)
    workbook.active.append(["Olga", "Ivanova", "olga@example.com"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    broken = data[: max(4, len(data) - cut)] + noise
    read_or_refuse(broken)
    # A zip that is no workbook at all.
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hello.txt", noise or b"x")
    read_or_refuse(other.getvalue())
