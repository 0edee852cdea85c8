"""Importing real files end to end: Google and Outlook contacts, a Russian workbook and
its cp1251 twin; preview errors; matching existing records; access."""

import datetime

import pytest

from kontor.contacts.models import Company, Person
from kontor.core.customfields.values import values_for
from kontor.core.errors import PermissionDenied
from kontor.imports.services import Problem

from . import files

GOOGLE_ROWS = [
    {
        "First Name": "Grace", "Last Name": "Hopper", "Organization Name": "Navy Labs",
        "Organization Title": "Rear Admiral", "Birthday": "1906-12-09", "Notes": "COBOL",
        "Labels": "Clients ::: VIP", "E-mail 1 - Label": "* Work",
        "E-mail 1 - Value": "grace@navy.example", "E-mail 2 - Value": "g.hopper@home.example",
        "Phone 1 - Label": "Mobile", "Phone 1 - Value": "+1 202-555-0143",
        "Address 1 - City": "Arlington", "Address 1 - Country": "US",
    },
    {
        "First Name": "Alan", "Last Name": "Turing", "Organization Name": "navy labs",
        "E-mail 1 - Value": "alan@example.org", "Phone 1 - Value": "+44 20 7946 0958",
    },
]  # fmt: skip


def person(email):
    return Person.objects.get(emails__normalized=email)


def test_google_contacts_csv(run, org):
    outcome = run(files.google_contacts(GOOGLE_ROWS))
    assert (outcome.created, outcome.failed, outcome.problems) == (2, 0, [])
    # One company, created from the first row and linked from the second whatever its case.
    assert outcome.linked_created == 1
    grace = person("grace@navy.example")
    assert (grace.first_name, grace.last_name, grace.position) == (
        "Grace",
        "Hopper",
        "Rear Admiral",
    )
    assert grace.company.name == "Navy Labs" and person("alan@example.org").company == grace.company
    assert grace.birthday == datetime.date(1906, 12, 9)
    assert [e.address for e in grace.emails.all()] == [
        "grace@navy.example",
        "g.hopper@home.example",
    ]
    assert [p.e164 for p in grace.phones.all()] == ["+12025550143"]
    assert [(a.city, a.country) for a in grace.addresses.all()] == [("Arlington", "US")]
    assert sorted(t.name for t in grace.tags.all()) == ["Clients", "VIP"]
    assert grace.owner == org.admin


def test_outlook_contacts_csv_in_latin1_with_us_dates(run):
    rows = [
        {
            "First Name": "Amélie", "Last Name": "Poulain", "Company": "Café des 2 Moulins",
            "Job Title": "Serveuse", "Business Phone": "+33 1 42 54 90 00",
            "Mobile Phone": "+33 6 12 34 56 78", "E-mail Address": "amelie@moulins.example",
            "Business City": "Paris", "Business Country/Region": "FR", "Birthday": "9/13/1973",
            "Categories": "Paris;Clients",
        },
    ]  # fmt: skip
    outcome = run(files.outlook_contacts(rows), day_first=False)
    assert (outcome.created, outcome.problems) == (1, [])
    amelie = person("amelie@moulins.example")
    assert amelie.first_name == "Amélie" and amelie.company.name == "Café des 2 Moulins"
    assert [(p.kind, p.e164) for p in amelie.phones.all()] == [
        ("work", "+33142549000"),
        ("mobile", "+33612345678"),
    ]
    assert amelie.birthday == datetime.date(1973, 9, 13)


def _people():
    return sorted(
        (p.last_name, p.first_name, p.middle_name, p.position, p.company.name, p.company.tax_id,
         [x.e164 for x in p.phones.all()], [e.address for e in p.emails.all()],
         [a.city for a in p.addresses.all()], p.birthday, p.notes)
        for p in Person.objects.all()
    )  # fmt: skip


def test_russian_workbook_and_its_cp1251_twin_import_the_same(run):
    outcome = run(files.russian_workbook(), reading={"sheet": "Клиенты"})
    assert (outcome.created, outcome.linked_created, outcome.problems) == (3, 2, [])
    from_workbook = _people()
    assert from_workbook[0][:6] == (
        "Иванов", "Иван", "Петрович", "Директор", "ООО «Ромашка»", "7707083893"
    )  # fmt: skip
    assert from_workbook[0][6] == ["+79161234567"]
    Person.objects.all().delete()
    Company.objects.all().delete()
    outcome = run(files.russian_csv())
    assert (outcome.created, outcome.linked_created, outcome.problems) == (3, 2, [])
    assert _people() == from_workbook


def test_preview_reports_each_bad_cell_and_writes_nothing(run):
    data = files.csv_bytes(
        ["Имя", "Эл. почта", "Телефон", "Дата рождения"],
        [
            ["Ok", "ok@example.com", "+7 916 123-45-67", "17.05.1980"],
            ["Bad email", "not-an-email", "", ""],
            ["Bad phone", "", "call me", ""],
            ["Bad date", "", "", "the 5th of Mayish"],
            ["Twice", "OK@example.com", "", ""],
        ],
    )
    outcome = run(data, dry_run=True, match_on=("email",))
    assert (outcome.rows, outcome.created, outcome.failed) == (5, 1, 4)
    by_line = {p.line: p for p in outcome.problems}
    assert by_line[3].column == "Эл. почта"
    assert by_line[4].column == "Телефон"
    assert by_line[5] == Problem(
        5, "Дата рождения", "Unknown date format: the 5th of Mayish (use 2024-05-17 or 17.05.2024)."
    )
    assert by_line[6] == Problem(6, "Эл. почта", "Duplicate of line 2 (ok@example.com).")
    assert not Person.objects.exists()


def test_unknown_choice_in_a_task_status(run):
    data = files.csv_bytes(["Title", "Status"], [["Call back", "Открыта"], ["Write", "someday"]])
    outcome = run(data, "task", dry_run=True)
    assert outcome.created == 1
    assert outcome.problems == [Problem(3, "Status", "Unknown choice: someday.")]


@pytest.fixture
def existing(org):
    from kontor.contacts import services as contacts

    return contacts.create_person(
        {"first_name": "Ivan", "position": "", "notes": "old note",
         "emails": [{"address": "ivan@example.com"}]},
        actor=org.admin,
    )  # fmt: skip


ROW = files.csv_bytes(
    ["First name", "Position", "Notes", "Email"],
    [["Иван", "Director", "new note", "IVAN@example.com"]],
)


@pytest.mark.parametrize(
    ("on_match", "counts", "expected"),
    [
        ("skip", (0, 0, 1), ("Ivan", "", "old note")),
        ("fill", (0, 1, 0), ("Ivan", "Director", "old note")),
        ("overwrite", (0, 1, 0), ("Иван", "Director", "new note")),
        ("create", (1, 0, 0), ("Ivan", "", "old note")),
    ],
)
def test_matching_existing_records(run, existing, on_match, counts, expected):
    outcome = run(ROW, match_on=("email",), on_match=on_match)
    assert (outcome.created, outcome.updated, outcome.skipped) == counts
    existing.refresh_from_db()
    assert (existing.first_name, existing.position, existing.notes) == expected
    assert Person.objects.count() == 1 + counts[0]


def test_matching_by_phone_and_by_tax_id(run, org):
    from kontor.contacts import services as contacts

    contacts.create_company({"name": "Romashka", "tax_id": "7707083893"}, actor=org.admin)
    data = files.csv_bytes(
        ["Название", "ИНН", "Отрасль"], [["ООО «Ромашка»", "7707083893", "Retail"]]
    )
    outcome = run(data, "company", match_on=("tax_id",), on_match="fill")
    assert (outcome.created, outcome.updated) == (0, 1)
    assert Company.objects.get().industry == "Retail"
    contacts.create_person(
        {"first_name": "P", "phones": [{"number": "+7 916 000-00-01"}]}, actor=org.admin
    )
    data = files.csv_bytes(["Имя", "Телефон"], [["P2", "8 (916) 000-00-01"]])
    assert run(data, match_on=("phone",)).skipped == 1


def test_matches_only_records_the_importer_sees(run, org):
    from kontor.contacts import services as contacts

    contacts.create_person(
        {"first_name": "Hidden", "emails": [{"address": "h@example.com"}]}, actor=org.support_member
    )
    data = files.csv_bytes(["First name", "Email"], [["Mine", "h@example.com"]])
    outcome = run(data, actor=org.member_a, match_on=("email",), on_match="overwrite")
    assert (outcome.created, outcome.updated) == (1, 0)
    assert Person.objects.get(first_name="Hidden").first_name == "Hidden"


def test_no_create_right_no_import(run, org):
    with pytest.raises(PermissionDenied):
        run(files.csv_bytes(["First name"], [["X"]]), actor=org.nobody)


def test_custom_field_by_label_with_choice_labels(run, org):
    from kontor.core.customfields import services as custom

    custom.create_field(
        object_type="contacts.person", name="segment", label="Сегмент", kind="choice",
        choices=[{"key": "a", "label": "Крупный"}, {"key": "b", "label": "Малый"}],
        actor=org.admin,
    )  # fmt: skip
    data = files.csv_bytes(["Имя", "Сегмент"], [["A", "крупный"], ["B", "средний"]])
    outcome = run(data)
    assert outcome.created == 1
    assert outcome.problems == [Problem(3, "Сегмент", "Unknown choice: средний.")]
    assert values_for(org.admin, Person.objects.get())["segment"] == "a"
