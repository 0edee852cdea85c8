import importlib

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
    assert phones.pretty("+79161234567", "105") == "+7 916 123-45-67 ext. 105"
    assert phones.pretty("") == ""


@pytest.mark.parametrize(
    "typed,e164,extension",
    [
        ("+7 916 123-45-67 доб. 105", "+79161234567", "105"),
        ("8 (495) 123-45-67, доб.7", "+74951234567", "7"),
        ("+1 212 555 0100 ext. 12", "+12125550100", "12"),
        ("+49 30 1234567 x12", "+49301234567", "12"),
        ("+7 916 123 45 67 #12", "+79161234567", "12"),
        ("+7 916 123 45 67", "+79161234567", ""),
    ],
)
def test_parse_keeps_the_extension_apart_from_the_main_number(typed, e164, extension):
    assert phones.parse(typed, "RU") == phones.ParsedPhone(e164, extension)
    assert phones.to_e164(typed, "RU") == e164


def test_the_migration_reads_extensions_typed_before_they_were_kept(org):
    from django.apps import apps

    from kontor.contacts import services
    from kontor.contacts.models import Phone

    backfill = importlib.import_module(
        "kontor.contacts.migrations.0005_phone_extension"
    ).backfill_extensions
    services.create_person(
        {
            "first_name": "Ivan",
            "phones": [{"number": "+7 495 123-45-67 доб. 105"}, {"number": "8 916 123 45 67"}],
        },
        actor=org.admin,
    )
    Phone.objects.update(extension="")

    backfill(apps, None)

    assert list(Phone.objects.order_by("position").values_list("extension", flat=True)) == [
        "105",
        "",
    ]


def test_a_tel_link_dials_the_extension_too():
    assert phones.tel_uri("+79161234567", "105") == "tel:+79161234567;ext=105"
    assert phones.tel_uri("+79161234567") == "tel:+79161234567"


def test_a_text_is_parsed_once_per_region(monkeypatch):
    phones._understood.cache_clear()
    calls = []
    original = phones.phonenumbers.parse
    monkeypatch.setattr(
        phones.phonenumbers, "parse", lambda *args: calls.append(args) or original(*args)
    )
    for _ in range(3):
        assert phones.to_e164(" 8 (916) 123-45-67 ", "RU") == "+79161234567"
        assert phones.parse("8 (916) 123-45-67", "RU").e164 == "+79161234567"
    assert phones.to_e164("030 1234567", "DE") == "+49301234567"
    assert phones.parse("12", "RU") is None and phones.parse("12", "RU") is None
    assert calls == [("8 (916) 123-45-67", "RU"), ("030 1234567", "DE"), ("12", "RU")]
