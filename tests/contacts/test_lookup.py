"""Caller ID: ``services.lookup_by_phone`` returns only what the actor may see.

The lookup reads candidates with one hand-written query and narrows them in Python
with ``record_in_scope``; these tests hold it to ``visible_to`` for every scope.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.accounts import services as accounts
from kontor.contacts import services
from kontor.contacts.models import Company, Person
from kontor.core.access import SYSTEM, Action, Scope

pytestmark = pytest.mark.django_db

NUMBER = "+79161234567"
TYPED = "8 (916) 123-45-67"


def place(model, name, *, owner, department, number=NUMBER, **extra):
    """A record with ``number``, placed by the system (any owner, any department)."""
    data = {
        "owner_id": owner.pk if owner else None,
        "department_id": department.pk if department else None,
        "phones": [{"number": number}],
        **extra,
    }
    if model is Person:
        return services.create_person({"first_name": name, **data}, actor=SYSTEM)
    return services.create_company({"name": name, **data}, actor=SYSTEM)


@pytest.fixture
def own_viewer(org, make_user):
    role = accounts.create_role(
        name="own only", grants=[("*", Action.VIEW, Scope.OWN)], actor=SYSTEM
    )
    return make_user("own@example.com", department=org.dept.team1, roles=[role.name])


@pytest.fixture
def records(org, own_viewer):
    """People and companies sharing one number, spread over the department tree."""
    d = org.dept
    acme = place(Company, "Acme", owner=org.member_a, department=d.team1)
    return {
        "acme": acme,
        "ivan": place(Person, "Ivan", owner=org.member_a, department=d.team1, company_id=acme.pk),
        "clara": place(Person, "Clara", owner=org.member_c, department=d.team2),
        "sam": place(Person, "Sam", owner=org.support_member, department=d.support),
        "helpdesk": place(Company, "Helpdesk", owner=org.support_member, department=d.support),
        # Owned by the own-scope viewer, placed in another department.
        "olga": place(Person, "Olga", owner=own_viewer, department=d.support),
        # No department: only "all" and its owner see it.
        "loner": place(Person, "Loner", owner=org.member_b, department=None),
        "other_number": place(
            Person, "Other", owner=org.member_a, department=d.team1, number="+79160000000"
        ),
    }


def found(actor, text=TYPED):
    result = services.lookup_by_phone(text, actor=actor)
    return (
        {p.first_name for p in result["people"]},
        {c.name for c in result["companies"]},
    )


def visible(actor):
    """What ``visible_to`` says the actor may see among the records with NUMBER."""
    people = Person.objects.visible_to(actor).filter(phones__e164=NUMBER)
    companies = Company.objects.visible_to(actor).filter(phones__e164=NUMBER)
    return (
        set(people.values_list("first_name", flat=True)),
        set(companies.values_list("name", flat=True)),
    )


@pytest.mark.parametrize(
    "viewer,people,companies",
    [
        ("member_b", {"Ivan", "Loner"}, {"Acme"}),  # department scope, and what they own
        ("member_c", {"Clara"}, set()),
        ("support_member", {"Sam", "Olga"}, {"Helpdesk"}),
        ("sales_head", {"Ivan", "Clara"}, {"Acme"}),  # department and sub-departments
        ("own_viewer", {"Olga"}, set()),  # own records only, wherever placed
        ("admin", {"Ivan", "Clara", "Sam", "Olga", "Loner"}, {"Acme", "Helpdesk"}),
        ("nobody", set(), set()),
    ],
)
def test_lookup_returns_exactly_the_visible_records(
    org, own_viewer, records, viewer, people, companies
):
    actor = own_viewer if viewer == "own_viewer" else getattr(org, viewer)

    assert found(actor) == (people, companies)
    assert found(actor) == visible(actor)


def test_a_company_and_a_person_sharing_a_number_come_back_in_their_own_lists(org, records):
    result = services.lookup_by_phone("+7 916 123 45 67", actor=org.member_b)

    assert [type(p) for p in result["people"]] == [Person, Person]
    assert result["companies"] == [records["acme"]]
    assert [p.first_name for p in result["people"]] == ["Ivan", "Loner"]  # list order


def test_employer_comes_with_the_person_without_more_queries(org, records):
    result = services.lookup_by_phone(TYPED, actor=org.member_b)

    with CaptureQueriesContext(connection) as ctx:
        employers = {p.first_name: p.company and p.company.name for p in result["people"]}
        names = [p.full_name for p in result["people"]]
    assert employers == {"Ivan": "Acme", "Loner": None}
    assert names == ["Ivan", "Loner"]
    assert ctx.captured_queries == []
    # Fields the card does not show are deferred, not wrong: they load when touched.
    assert result["people"][0].version == 1


def test_an_unknown_number_costs_one_query_and_garbage_none(org, records):
    actor = org.member_b
    actor.access_grants()  # a request has them already

    with CaptureQueriesContext(connection) as ctx:
        assert services.lookup_by_phone("+7 495 000-00-00", actor=actor) == {
            "e164": "+74950000000",
            "people": [],
            "companies": [],
        }
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        assert services.lookup_by_phone("hello", actor=actor) == {
            "e164": None,
            "people": [],
            "companies": [],
        }
    assert ctx.captured_queries == []


def test_at_most_twenty_of_each_distinct_in_name_order(org):
    for i in range(25):
        services.create_person(
            {"first_name": f"P{i:02d}", "phones": [{"number": NUMBER}, {"number": TYPED}]},
            actor=org.member_a,
        )

    people = services.lookup_by_phone(NUMBER, actor=org.member_b)["people"]

    assert [p.first_name for p in people] == [f"P{i:02d}" for i in range(20)]
