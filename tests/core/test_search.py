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
