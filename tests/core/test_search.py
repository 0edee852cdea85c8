"""Narrowing a list by a search: the same records whichever way the database is asked."""

import pytest

from kontor.contacts import queries, services
from kontor.contacts.models import Person
from kontor.contacts.queries import ListFilters
from kontor.core import search

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("few_matches", [0, 2, 1000])
def test_a_search_narrows_lists_to_the_same_visible_records_either_way(
    org, monkeypatch, few_matches
):
    # On PostgreSQL up to FEW_MATCHES matches are fetched first and passed as ids; more
    # stay a subquery. SQLite always uses the subquery. Every way gives the same page.
    monkeypatch.setattr(search, "FEW_MATCHES", few_matches)
    for first, last, department in (
        ("Zoya", "Zebrova", org.dept.team1),
        ("Anna", "Zebrova", org.dept.team1),
        ("Boris", "Zebrin", org.dept.team1),
        ("Sam", "Zebrov", org.dept.support),
        ("Ivan", "Petrov", org.dept.team1),
    ):
        services.create_person(
            {"first_name": first, "last_name": last, "department_id": department.pk},
            actor=org.admin,
        )

    def names(people):
        return [f"{p.first_name} {p.last_name}" for p in people]

    assert names(queries.people(org.member_a, ListFilters(q="zebr"))) == [
        "Boris Zebrin",
        "Anna Zebrova",
        "Zoya Zebrova",
    ]
    assert names(queries.people(org.admin, ListFilters(q="zebr", sort="-name"))) == [
        "Zoya Zebrova",
        "Anna Zebrova",
        "Sam Zebrov",
        "Boris Zebrin",
    ]
    assert names(search.search_model(org.member_a, Person, "zebrova", limit=1)) == ["Anna Zebrova"]
    assert names(queries.people(org.admin, ListFilters(q="nobody"))) == []


def test_a_search_with_many_matches_walks_the_name_index_for_the_same_page(org, monkeypatch):
    # SQLite: a term matching at least sqrt(50 x table) records pages along the sort's
    # index (+id in the page), long id lists travel as one JSON parameter; the page and
    # the count are those of the plain reading either way, on both databases.
    from django.db import connection

    from kontor.core import types

    monkeypatch.setattr(search, "JSON_IDS_FROM", 2)
    zebra = services.create_company({"name": "Zebra Works"}, actor=org.admin)
    for i in range(60):
        department = org.dept.team1 if i % 3 else org.dept.support
        services.create_person(
            {
                "first_name": f"F{i % 7}",
                "last_name": f"Zebr{i % 11}",
                "department_id": department.pk,
            },
            actor=org.admin,
        )
    for i in range(3):
        services.create_person(
            {"first_name": "Ivan", "last_name": f"Petrov{i}", "company_id": zebra.pk},
            actor=org.admin,
        )
    services.create_person({"first_name": "Olga", "last_name": "Other"}, actor=org.admin)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_person")
    people = types.by_model(Person)
    for user in (org.admin, org.member_a):
        for q, sort in (("zebr", ""), ("zebr", "-name"), ("petrov", ""), ("zebr f1", "")):
            listed = people.list_query(user, ListFilters(q=q, sort=sort))
            expected = [
                p
                for p in Person.objects.visible_to(user).select_related("company")
                if all(
                    term in f"{p.first_name} {p.last_name}".casefold()
                    or (p.company and term in p.company.name.casefold())
                    for term in q.split()
                )
            ]
            expected.sort(key=lambda p: (p.last_name, p.first_name, p.pk), reverse=bool(sort))
            assert [p.pk for p in listed[:10]] == [p.pk for p in expected[:10]], (user, q, sort)
            assert listed.count() == len(expected)
    page_sql = str(people.list_query(org.admin, ListFilters(q="zebr"))[:50].query)
    walked = connection.vendor == "sqlite"
    assert ('+"contacts_person"."id"' in page_sql) == walked
    assert ("json_each" in page_sql) == walked
    few = str(people.list_query(org.admin, ListFilters(q="petrov"))[:50].query)
    assert '+"contacts_person"."id"' not in few
