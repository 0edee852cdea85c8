"""Column suggestions from headers in English, Russian and French; cell conversion."""

import datetime

import pytest

from kontor.core import types
from kontor.imports import mapping
from kontor.imports.mapping import CellError, parse_date

from . import files


def suggested(type_name, headers, user):
    available = mapping.targets(types.by_name(type_name), user)
    return {headers[i]: key for i, key in mapping.suggest(headers, available).items()}


def test_google_headers(org):
    assert suggested("person", files.GOOGLE_HEADERS, org.admin) == {
        "First Name": "first_name", "Middle Name": "middle_name", "Last Name": "last_name",
        "Organization Name": "company.name", "Organization Title": "position",
        "Birthday": "birthday", "Notes": "notes", "Labels": "tags",
        "E-mail 1 - Value": "emails", "E-mail 2 - Value": "emails", "Phone 1 - Value": "phones",
        "Address 1 - Street": "addresses.street", "Address 1 - City": "addresses.city",
        "Address 1 - Region": "addresses.region",
        "Address 1 - Postal Code": "addresses.postal_code",
        "Address 1 - Country": "addresses.country",
    }  # fmt: skip


def test_outlook_headers(org):
    found = suggested("person", files.OUTLOOK_HEADERS, org.admin)
    assert found["Company"] == "company.name" and found["Job Title"] == "position"
    assert (found["Business Phone"], found["Mobile Phone"], found["Home Phone"]) == (
        "phones:work", "phones:mobile", "phones:home"
    )  # fmt: skip
    assert found["E-mail Address"] == found["E-mail 2 Address"] == "emails"
    assert found["Categories"] == "tags"
    assert "Title" not in found and "Department" not in found  # no such person field


def test_russian_and_french_headers(org):
    assert suggested("person", files.RUSSIAN_HEADERS, org.admin) == {
        "Фамилия": "last_name", "Имя": "first_name", "Отчество": "middle_name",
        "Должность": "position", "Компания": "company.name", "ИНН": "company.tax_id",
        "Телефон": "phones", "Эл. почта": "emails", "Город": "addresses.city",
        "Дата рождения": "birthday", "Примечание": "notes",
    }  # fmt: skip
    french = ["Prénom", "Nom", "Société", "Téléphone portable", "Courriel", "Code postal"]
    assert suggested("person", french, org.admin) == {
        "Prénom": "first_name", "Nom": "last_name", "Société": "company.name",
        "Téléphone portable": "phones:mobile", "Courriel": "emails",
        "Code postal": "addresses.postal_code",
    }  # fmt: skip
    # The same words name a company's own fields on a company.
    assert suggested("company", ["Название", "ИНН", "Сайт", "Nom"], org.admin) == {
        "Название": "name", "ИНН": "tax_id", "Сайт": "website"
    }  # fmt: skip


def test_other_types_by_their_labels(org, rates):
    assert suggested("deal", ["Название", "Сумма", "Валюта", "Компания"], org.admin) == {
        "Название": "title", "Сумма": "amount", "Валюта": "currency", "Компания": "company.name"
    }  # fmt: skip
    assert suggested("product", ["Артикул", "Name", "Prix"], org.admin) == {
        "Артикул": "sku", "Name": "name", "Prix": "price"
    }  # fmt: skip
    assert suggested("task", ["Titre", "Échéance", "Statut"], org.admin) == {
        "Titre": "title", "Échéance": "due_date", "Statut": "status"
    }  # fmt: skip


def test_custom_object_types_and_custom_fields(org, define_type):
    site = define_type("site", "Construction site", "Construction sites")
    keys = [t.key for t in mapping.targets(site, org.admin)]
    assert "name" in keys


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2024-05-17", True, datetime.date(2024, 5, 17)),
        ("17.05.2024", False, datetime.date(2024, 5, 17)),
        ("05/06/2024", True, datetime.date(2024, 6, 5)),
        ("05/06/2024", False, datetime.date(2024, 5, 6)),
        ("5/17/2024", True, datetime.date(2024, 5, 17)),
        ("17/5/24", False, datetime.date(2024, 5, 17)),
        (datetime.datetime(2024, 5, 17, 0, 0), True, datetime.date(2024, 5, 17)),
    ],
)
def test_dates(text, day_first, expected):
    assert parse_date(text, day_first=day_first) == expected


@pytest.mark.parametrize("text", ["31.02.2024", "yesterday", "2024", "--05-17"])
def test_unknown_dates(text):
    with pytest.raises(CellError, match="Unknown date format"):
        parse_date(text)


def test_a_saved_mapping_naming_an_unknown_field_is_refused(org):
    available = mapping.targets(types.by_name("person"), org.admin)
    with pytest.raises(CellError, match="Unknown fields: custom.gone"):
        mapping.Mapping.of({0: "first_name", 1: "custom.gone"}, available)
    with pytest.raises(CellError, match="one column only"):
        mapping.Mapping.of({0: "first_name", 1: "first_name"}, available)
    assert mapping.Mapping.of({0: "emails", 1: "emails"}, available).columns
