"""Kontor's own export imports back unchanged: the headers map by themselves and every
exported value comes back (people and companies, CSV and XLSX)."""

import datetime

import pytest

from kontor.contacts import services as contacts
from kontor.contacts.models import Company, Person

from ..utils.clients import Api

pytestmark = pytest.mark.django_db


def exported(org, path: str, format: str) -> bytes:
    answer = Api(org.admin).get(f"/{path}/export?format={format}")
    assert answer.status_code == 200
    return b"".join(answer.streaming_content)


def people_as_values():
    return sorted(
        (
            p.first_name,
            p.middle_name,
            p.last_name,
            p.position,
            p.company.name if p.company else "",
            tuple(ph.e164 for ph in p.phones.all()),
            tuple(e.address for e in p.emails.all()),
            p.birthday,
            tuple(sorted(t.name for t in p.tags.all())),
        )
        for p in Person.objects.all()
    )


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_exported_people_import_back_unchanged(run, org, format):
    acme = contacts.create_company({"name": "Acme"}, actor=org.admin)
    for first, last, extra in [
        ("Ольга", "Ivanova", {"middle_name": "Петровна", "birthday": "1980-03-05"}),
        ("Grace", "Hopper", {"position": "Rear Admiral", "tags": ["VIP", "navy"]}),
    ]:
        contacts.create_person(
            {
                "first_name": first,
                "last_name": last,
                "company_id": acme.pk,
                "phones": [
                    {"number": "+7 916 123-45-67" if first == "Ольга" else "+1 202-555-0143"}
                ],
                "emails": [{"address": f"{last.lower()}@example.com"}],
                **extra,
            },
            actor=org.admin,
        )
    before = people_as_values()
    data = exported(org, "people", format)
    Person.objects.all().delete()
    Company.objects.all().delete()

    outcome = run(data)

    assert (outcome.created, outcome.failed, outcome.problems) == (2, 0, [])
    assert people_as_values() == before
    assert Person.objects.filter(birthday=datetime.date(1980, 3, 5)).count() == 1


def companies_as_values():
    return sorted(
        (
            c.name,
            c.legal_name,
            c.tax_id,
            c.industry,
            c.website,
            tuple(ph.e164 for ph in c.phones.all()),
            tuple(e.address for e in c.emails.all()),
            tuple(sorted(t.name for t in c.tags.all())),
        )
        for c in Company.objects.all()
    )


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_exported_companies_import_back_unchanged(run, org, format):
    contacts.create_company(
        {
            "name": "Стройинвест",
            "legal_name": "ООО «Стройинвест»",
            "tax_id": "7701234567",
            "industry": "Construction",
            "website": "https://stroy.example",
            "phones": [{"number": "+7 495 765-43-21"}],
            "emails": [{"address": "info@stroy.example"}],
            "tags": ["key account"],
        },
        actor=org.admin,
    )
    contacts.create_company({"name": "Acme"}, actor=org.admin)
    before = companies_as_values()
    data = exported(org, "companies", format)
    Company.objects.all().delete()

    outcome = run(data, "company")

    assert (outcome.created, outcome.failed, outcome.problems) == (2, 0, [])
    assert companies_as_values() == before
