"""Deal and task rows linked to their clients: a person by an email or the full name,
a company by its tax id or name (created when missing), a deal's pipeline and stage by
their names."""

import pytest

from kontor.activities.models import Task
from kontor.contacts import services as contacts
from kontor.contacts.models import Company, Person
from kontor.core import types
from kontor.core.models import TimelineLink
from kontor.imports import mapping
from kontor.imports.services import Problem
from kontor.sales.models import Deal, Pipeline, Stage

from . import files


@pytest.fixture
def clients(org):
    romashka = contacts.create_company({"name": "Ромашка", "tax_id": "7707083893"}, actor=org.admin)
    ivan = contacts.create_person(
        {"first_name": "Ivan", "middle_name": "Petrovich", "last_name": "Sidorov",
         "emails": [{"address": "Ivan.Sidorov@Example.com"}], "company_id": romashka.pk},
        actor=org.admin,
    )  # fmt: skip
    olga = contacts.create_person({"first_name": "Olga", "last_name": "Ray"}, actor=org.admin)
    return romashka, ivan, olga


def _keys(type_name, org):
    return {t.key for t in mapping.targets(types.by_name(type_name), org.admin)}


def test_deal_and_task_targets_come_from_the_linked_types(org):
    assert {"company.name", "company.tax_id", "person.email", "person.name", "pipeline",
            "stage"} <= _keys("deal", org)  # fmt: skip
    assert {"links.person.email", "links.person.name", "links.company.name",
            "links.company.tax_id"} <= _keys("task", org)  # fmt: skip
    # A person's company only: people are never found by the name of a person.
    assert not any(key.startswith(("person.", "links.")) for key in _keys("person", org))


def test_suggested_from_an_export_s_headers(org):
    headers = ["Title", "Pipeline", "Stage", "Company", "Contact person", "Contact email"]
    deal = types.by_name("deal")
    suggested = mapping.suggest(headers, mapping.targets(deal, org.admin))
    assert list(suggested.values()) == [
        "title", "pipeline", "stage", "company.name", "person.name", "person.email"
    ]  # fmt: skip
    task = types.by_name("task")
    suggested = mapping.suggest(["Title", "Client", "Company"], mapping.targets(task, org.admin))
    assert list(suggested.values()) == ["title", "links.person.name", "links.company.name"]


def test_deal_rows_link_person_and_company_and_stage_by_name(run, org, clients):
    romashka, ivan, olga = clients
    data = files.csv_bytes(
        ["Title", "Amount", "Currency", "Stage", "Contact email", "Contact person", "ИНН",
         "Company"],
        [
            ["Big order", "1000", "EUR", "proposal", "ivan.sidorov@example.COM", "", "", ""],
            ["By name", "5", "EUR", "Won", "", " Olga  Ray", "7707083893", ""],
            ["New client", "7", "EUR", "", "", "", "", "Лютик"],
        ],
    )  # fmt: skip
    outcome = run(data, "deal")
    assert (outcome.created, outcome.failed, outcome.problems) == (3, 0, [])
    assert outcome.linked_created == 1  # the company named on the third row
    big = Deal.objects.get(title="Big order")
    assert (big.person, big.stage.name, big.pipeline.name) == (ivan, "Proposal", "Sales")
    by_name = Deal.objects.get(title="By name")
    assert (by_name.person, by_name.company, by_name.stage.name) == (olga, romashka, "Won")
    new = Deal.objects.get(title="New client")
    assert new.company.name == "Лютик" and new.person is None
    assert new.stage.name == "Lead"  # the default pipeline's first stage, as in a form
    # What a deal is about is on its client's timeline, as a deal made in a form.
    assert TimelineLink.objects.filter(
        entry_type="sales.deal", entry_id=big.pk, subject_type="contacts.person"
    ).exists()


def test_unknown_person_and_stage_are_the_cells_errors(run, org, clients):
    data = files.csv_bytes(
        ["Title", "Currency", "Stage", "Contact email"],
        [["A", "EUR", "Lead", "nobody@example.com"], ["B", "EUR", "Signed", ""]],
    )
    outcome = run(data, "deal")
    assert outcome.created == 0 and outcome.failed == 2
    assert outcome.problems == [
        Problem(3, "Stage", "Unknown stage: Signed (the pipeline's stages: Lead, Qualified, "
                "Proposal, Negotiation, Won, Lost)."),
        Problem(2, "Contact email", "Unknown person."),
    ]  # fmt: skip
    # A person is never created from a deal's row, even when companies are.
    assert Person.objects.count() == 2 and Company.objects.count() == 1


def test_stage_named_within_the_row_s_pipeline(run, org):
    tenders = Pipeline.objects.create(name="Tenders", position=1)
    Stage.objects.create(pipeline=tenders, name="Bid", position=0)
    data = files.csv_bytes(
        ["Title", "Currency", "Pipeline", "Stage"],
        [["T", "EUR", "tenders", "bid"], ["U", "EUR", "", "Bid"], ["V", "EUR", "Retail", ""]],
    )
    outcome = run(data, "deal")
    assert Deal.objects.get(title="T").stage.pipeline == tenders
    assert [p.line for p in outcome.problems] == [3, 4]
    assert outcome.problems[1].message == "Unknown pipeline: Retail (known: Sales, Tenders)."


def test_people_are_found_only_among_those_the_importer_sees(run, org):
    contacts.create_person(
        {"first_name": "Hidden", "emails": [{"address": "h@example.com"}]},
        actor=org.support_member,
    )
    data = files.csv_bytes(["Title", "Currency", "Contact email"], [["X", "EUR", "h@example.com"]])
    outcome = run(data, "deal", actor=org.member_a)
    assert outcome.problems == [Problem(2, "Contact email", "Unknown person.")]


def test_task_rows_are_about_their_client(run, org, clients):
    romashka, ivan, olga = clients
    data = files.csv_bytes(
        ["Title", "Client", "Company"],
        [["Call Ivan", "Ivan Petrovich Sidorov", ""], ["Visit", "olga ray", "Ромашка"],
         ["Lost", "Nobody Known", ""]],
    )  # fmt: skip
    outcome = run(data, "task")
    assert (outcome.created, outcome.failed) == (2, 1)
    assert outcome.problems == [Problem(4, "Client", "Unknown person.")]

    def about(title):
        task = Task.objects.get(title=title)
        return set(
            TimelineLink.objects.filter(entry_type="activities.task", entry_id=task.pk).values_list(
                "subject_type", "subject_id", "direct"
            )
        )

    # Ivan's company sees the task about him, as for a task made in a form.
    assert about("Call Ivan") == {
        ("contacts.person", ivan.pk, True), ("contacts.company", romashka.pk, False)
    }  # fmt: skip
    assert about("Visit") == {
        ("contacts.person", olga.pk, True), ("contacts.company", romashka.pk, True)
    }  # fmt: skip


def test_a_task_s_missing_company_is_created_unless_told_not_to(run, org):
    data = files.csv_bytes(["Title", "Company"], [["Call", "Лютик"]])
    assert run(data, "task", create_links=False).problems == [
        Problem(2, "Company", "Unknown company.")
    ]
    outcome = run(data, "task")
    assert (outcome.created, outcome.linked_created) == (1, 1)
    company = Company.objects.get(name="Лютик")
    assert TimelineLink.objects.filter(subject_type="contacts.company", subject_id=company.pk)


def test_a_batch_written_again_links_the_companies_created_the_second_time(run, org):
    # The second row fails when written: the batch is written again without it, and
    # the first row's company, created again, is the one its task is about.
    data = files.csv_bytes(["Title", "Company"], [["Call", "Лютик"], ["", "Ромашка"]])
    outcome = run(data, "task")
    assert (outcome.created, outcome.failed, outcome.linked_created) == (1, 1, 1)
    assert Company.objects.get().name == "Лютик"
    task = Task.objects.get()
    assert list(
        TimelineLink.objects.filter(entry_type="activities.task", entry_id=task.pk).values_list(
            "subject_type", "subject_id"
        )
    ) == [("contacts.company", Company.objects.get().pk)]
