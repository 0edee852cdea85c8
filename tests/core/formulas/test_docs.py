"""Every example of docs/formulas.md gives the result the page says, on the page's record."""

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from kontor.core import formulas

PAGE = Path(__file__).resolve().parents[3] / "docs" / "formulas.md"
SCHEMA = {
    "amount": "money",
    "price": "money",
    "quantity": "number",
    "discount": "number",
    "probability": "number",
    "title": "text",
    "stage": "choice",
    "close_date": "date",
    "vip": "boolean",
    "company.name": "text",
}
RECORD = {
    "amount": Decimal("1200.00"),
    "price": Decimal("19.99"),
    "quantity": 3,
    "discount": Decimal("12.5"),
    "title": "  Annual licence ",
    "stage": "won",
    "close_date": datetime.date(2026, 1, 31),
    "vip": True,
    "company.name": "Acme",
}
TODAY = datetime.date(2026, 3, 15)
_CODE = re.compile(r"`([^`]+)`")
_LOCATED = re.compile(r".+ \(\d+:\d+\)")


def _rows():
    for line in PAGE.read_text().splitlines():
        if line.startswith("|") and not line.startswith("| ---"):
            yield [cell.strip() for cell in line.strip().strip("|").split("|")]


def _code(cell: str) -> str | None:
    match = _CODE.fullmatch(cell)
    return match.group(1) if match else None


def _examples():
    for cells in _rows():
        pairs = [
            (_code(cells[i - 1]), cells[i])
            for i in range(1, len(cells))
            if _code(cells[i - 1]) and (_code(cells[i]) or cells[i] == "empty")
        ]
        if pairs:
            yield pairs[-1]


def _errors():
    for cells in _rows():
        if len(cells) == 2 and _code(cells[0]) and _LOCATED.fullmatch(cells[1]):
            yield _code(cells[0]), cells[1]


def _expected(shown: str):
    if shown == "empty":
        return None
    shown = _code(shown)
    if shown in ("true", "false"):
        return shown == "true"
    if shown.startswith('"'):
        return json.loads(shown)
    if re.fullmatch(r"\d{4}-\d\d-\d\d", shown):
        return datetime.date.fromisoformat(shown)
    return Decimal(shown)


EXAMPLES = list(_examples())
ERRORS = list(_errors())


def test_the_page_has_its_examples():
    assert len(EXAMPLES) >= 60 and len(ERRORS) >= 10


@pytest.mark.parametrize(("source", "shown"), EXAMPLES)
def test_example(source, shown):
    result = formulas.compile(source, SCHEMA).evaluate(RECORD, today=TODAY)
    expected = _expected(shown)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("source", "shown"), ERRORS)
def test_error(source, shown):
    with pytest.raises(formulas.FormulaError) as caught:
        formulas.compile(source, SCHEMA).evaluate(RECORD, today=TODAY)
    assert str(caught.value) == shown
