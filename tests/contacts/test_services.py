"""Company changes that reach the company's people: search by its name, their
``company_name`` (the list's sort), and the employer link the database clears when the
company is deleted; and what creating a person writes beside it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.contacts import bulk, queries, services
from kontor.contacts.models import Company, Person
from kontor.contacts.queries import ListFilters
from kontor.core import audit, search
from kontor.core.context import Channel, acting
from kontor.core.models import AuditEntry, SearchDocument
from kontor.core.services import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer(org):
    company = services.create_company({"name": "Betonstroy"}, actor=org.admin)
    people = [
        services.create_person(
            {
                "first_name": name,
                "company_id": company.pk,
                "phones": [{"number": phone}],
                "department_id": department.pk,
            },
            actor=org.admin,
        )
        for name, phone, department in (
            ("Vera", "+7 916 100-00-01", org.dept.team1),
            ("Oleg", "+7 916 100-00-02", org.dept.support),
        )
    ]
    return company, people


def found(user, q):
    return sorted(p.first_name for p in search.search_model(user, Person, q))


def test_renaming_a_company_finds_its_people_by_the_new_name(org, employer):
    company, people = employer
    assert found(org.admin, "betonstroy vera") == ["Vera"]

    services.update_company(company, {"name": "Kirpichmontazh"}, actor=org.admin)

    assert found(org.admin, "kirpichmontazh") == ["Oleg", "Vera"]
    assert found(org.admin, "kirpichmontazh vera") == ["Vera"]
    assert found(org.admin, "betonstroy") == []
    # Their own data did not change: no new version, no history entry.
    for person in people:
        fresh = Person.objects.get(pk=person.pk)
        assert fresh.version == person.version
        assert AuditEntry.objects.for_object(fresh).count() == 1


def test_renaming_a_company_rewrites_no_persons_search_document(org, employer):
    """People are found by the company's own document: theirs does not quote its name."""
    company, _people = employer
    documents = SearchDocument.objects.filter(object_type="contacts.person")
    before = dict(documents.values_list("object_id", "body"))

    services.update_company(company, {"name": "Betonstroy 2"}, actor=org.admin)

    assert dict(documents.values_list("object_id", "body")) == before
    assert found(org.admin, "betonstroy 2") == ["Oleg", "Vera"]


def test_deleting_a_company_detaches_its_people_with_history(org, employer):
    company, people = employer
    company_id = company.pk

    with acting(Channel.API):
        services.delete_company(company, actor=org.admin)

    for before in people:
        person = Person.objects.get(pk=before.pk)
        assert person.company_id is None
        assert person.version == before.version + 1
        entry = AuditEntry.objects.for_object(person).order_by("-id").first()
        assert entry.action == "contacts.person.updated"
        assert entry.changes == {"company_id": [company_id, None]}
        assert (entry.actor, entry.channel) == (org.admin, "api")
    assert found(org.admin, "betonstroy") == []
    assert found(org.admin, "vera") == ["Vera"]
    assert found(org.admin, "916 100 00 02") == ["Oleg"]


def test_each_person_carries_the_name_of_the_company_they_work_for(org, employer):
    company, (vera, oleg) = employer
    other = services.create_company({"name": "Alpha Glass"}, actor=org.admin)
    imported = bulk.import_people(
        [{"first_name": "Ilya", "company_id": other.pk}, {"first_name": "Free"}], actor=org.admin
    )

    def names():
        return dict(Person.objects.values_list("first_name", "company_name"))

    assert names() == {
        "Vera": "Betonstroy",
        "Oleg": "Betonstroy",
        "Ilya": "Alpha Glass",
        "Free": "",
    }
    services.update_person(vera, {"company_id": other.pk}, actor=org.admin)
    services.update_person(
        Person.objects.get(first_name="Ilya"), {"company_id": None}, actor=org.admin
    )
    services.update_company(company, {"name": "Zeta Beton"}, actor=org.admin)
    assert names() == {"Vera": "Alpha Glass", "Oleg": "Zeta Beton", "Ilya": "", "Free": ""}
    services.delete_company(Company.objects.get(pk=company.pk), actor=org.admin)
    assert names() == {"Vera": "Alpha Glass", "Oleg": "", "Ilya": "", "Free": ""}
    # Whatever the path, the copy equals the employer's name.
    for person in Person.objects.select_related("company"):
        assert person.company_name == (person.company.name if person.company else "")
    assert imported.created == 2


def test_people_sort_by_company_then_last_name_both_ways(org, employer):
    other = services.create_company({"name": "Alpha Glass"}, actor=org.admin)
    for first, last, company_id in (
        ("Ilya", "Zorin", other.pk),
        ("Anna", "Abramova", other.pk),
        ("Free", "Agent", None),
    ):
        services.create_person(
            {"first_name": first, "last_name": last, "company_id": company_id}, actor=org.admin
        )

    def order(sort):
        return [p.first_name for p in queries.people(org.admin, ListFilters(sort=sort))]

    # Vera and Oleg share company and (empty) last name: the id decides.
    assert order("company") == ["Free", "Anna", "Ilya", "Vera", "Oleg"]
    assert order("-company") == ["Oleg", "Vera", "Ilya", "Anna", "Free"]


def test_a_new_persons_audit_and_search_document_are_those_of_the_record_read_back(org, employer):
    data = {
        "first_name": "Vera",
        "last_name": "Lebedeva",
        "company_id": employer[0].pk,
        "phones": [{"number": "+7 916 123-45-67"}, {"number": "8 (495) 765-43-21", "kind": "work"}],
        "emails": [{"address": "vera@example.com"}],
        "addresses": [{"city": "Kazan", "country": "ru"}],
        "family": [{"relation": "son", "name": "Ilya"}, {"relation": "wife", "name": "Olga"}],
        # Not in date order: the audit lists them as the database returns them.
        "important_dates": [
            {"label": "founded", "date": "2020-05-01"},
            {"label": "met", "date": "2019-01-02"},
        ],
        "tags": ["VIP", "Fair 2026"],
    }
    with CaptureQueriesContext(connection) as queries_run:
        person = services.create_person(data, actor=org.admin)
    # The lists just written are not read back, nor the links just checked.
    read_back = [
        q["sql"]
        for q in queries_run.captured_queries
        if q["sql"].startswith("SELECT")
        and any(t in q["sql"] for t in ("contacts_phone", "contacts_email", "accounts_department"))
    ]
    assert read_back == []

    fresh = Person.objects.get(pk=person.pk)
    entry = AuditEntry.objects.get(object_type="contacts.person", object_id=person.pk)
    filled = {k: v for k, v in snapshot(fresh).items() if v not in (None, "", [], {})}
    assert entry.changes == audit.diff({}, filled)
    assert entry.changes["important_dates"][1] == ["met: 2019-01-02", "founded: 2020-05-01"]
    document = SearchDocument.objects.get(object_type="contacts.person", object_id=person.pk)
    assert document.body == search.document_body(fresh)
    # The record handed back reads its lists live, not as they were when written.
    fresh.phones.all().delete()
    assert list(person.phones.all()) == []
