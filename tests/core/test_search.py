"""Narrowing a list by a search: the same records whichever way the database is asked."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from kontor.contacts import queries, services
from kontor.contacts.models import Person, Tag
from kontor.contacts.queries import ListFilters
from kontor.core import search
from kontor.core.models import SearchDocument

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


def test_a_document_id_names_its_record_so_the_index_alone_answers(org, define_type):
    site_type = define_type("site", "site", "sites")
    person = services.create_person(
        {"first_name": "Ulyana", "last_name": "Zorina"}, actor=org.admin
    )
    company = services.create_company({"name": "Zorina Works"}, actor=org.admin)
    site = site_type.create({"name": "Zorina tower"}, actor=org.admin)
    for obj in (person, company, site):
        object_type = obj._meta.label_lower
        document = SearchDocument.objects.get(object_type=object_type, object_id=obj.pk)
        assert document.pk == search.document_id(object_type, obj.pk) != obj.pk
        # Each type's matches are its own records' ids, though all three documents match.
        assert list(search.matching_ids(["zorina"], object_type)) == [obj.pk]
        assert list(search.matching_ids(["zo"], object_type)) == [obj.pk]


def test_two_types_cannot_share_a_search_code(org):
    with pytest.raises(ImproperlyConfigured, match="contacts.person's already"):
        search.register(Tag, label="Tags", ordering=("name",), code=1)
    assert search.search_type("contacts.tag") is None
    with pytest.raises(ImproperlyConfigured, match="not in"):
        search.register(Tag, label="Tags", ordering=("name",), code=0)


def _run(migration: str):
    """A data migration's function, inside the test's transaction (where SQLite's schema
    editor cannot be opened)."""

    def execute(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    editor = SimpleNamespace(
        connection=connection, execute=execute, quote_name=connection.ops.quote_name
    )
    importlib.import_module(migration).name_records(apps, editor)


def test_documents_written_before_their_ids_named_records_are_found_after_the_migrations(
    org, define_type
):
    site_type = define_type("site", "site", "sites")
    person = services.create_person(
        {"first_name": "Ulyana", "last_name": "Zorina"}, actor=org.admin
    )
    company = services.create_company({"name": "Zorina Works"}, actor=org.admin)
    site = site_type.create({"name": "Zorina tower"}, actor=org.admin)
    records = {obj._meta.label_lower: obj.pk for obj in (person, company, site)}
    # As the code before wrote them: ids from the table's own sequence.
    for number, (object_type, pk) in enumerate(records.items(), start=1):
        SearchDocument.objects.filter(object_type=object_type, object_id=pk).update(id=number)
    if connection.vendor == "sqlite":  # where the index finds a type's documents by id
        assert not any(list(search.matching_ids(["zorina"], t)) for t in records)

    _run("kontor.contacts.migrations.0008_search_document_ids")
    _run("kontor.objects.migrations.0002_search_document_ids")

    for object_type, pk in records.items():
        assert SearchDocument.objects.get(object_type=object_type).pk == search.document_id(
            object_type, pk
        )
        assert list(search.matching_ids(["zorina"], object_type)) == [pk]
    if connection.vendor == "sqlite":
        # FTS5 compares its index with the documents table; a mismatch raises.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_search_fts(core_search_fts, rank) VALUES ('integrity-check', 1)"
            )
