import pytest

from kontor.core import phones


@pytest.mark.parametrize(
    "typed,region,e164",
    [
        ("8 (916) 123-45-67", "RU", "+79161234567"),
        ("+7 916 123 45 67", "DE", "+79161234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("+39 06 1234 5678", "RU", "+390612345678"),  # Italy keeps its leading zero
        ("12", "RU", None),
        ("call me", "RU", None),
        ("", "RU", None),
    ],
)
def test_to_e164_reads_every_written_form(typed, region, e164):
    assert phones.to_e164(typed, region) == e164


@pytest.mark.parametrize(
    "text,expected",
    [("8 (916) 123-45-67", True), ("+49.30.12", True), ("1234", False), ("Petrov 12345", False)],
)
def test_looks_like_phone(text, expected):
    assert phones.looks_like_phone(text) is expected


def test_pretty_is_the_international_form():
    assert phones.pretty("+79161234567") == "+7 916 123-45-67"
    assert phones.pretty("") == ""
