import pytest
from django.db import connection
from django.utils import translation

from kontor.contacts import bulk, services
from kontor.contacts.models import Company, Person, Phone, Tag
from kontor.core import bulk as core_bulk
from kontor.core import search
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry, OutboxEvent, SearchDocument

pytestmark = pytest.mark.django_db


def _person_data(company, **extra):
    return {
        "first_name": "Ivan",
        "middle_name": "Petrovich",
        "last_name": "Sidorov",
        "position": "Buyer",
        "company_id": company.pk,
        "birthday": "1980-05-17",
        "source": "fair",
        "phones": [
            {"kind": "mobile", "number": "8 (916) 123-45-67"},
            {"kind": "work", "number": "+49 30 1234567"},
        ],
        "emails": [{"kind": "work", "address": "Ivan.Sidorov@Example.com"}],
        "addresses": [{"kind": "office", "street": "Lenina 1", "city": "Tver", "country": "ru"}],
        "family": [{"relation": "daughter", "name": "Masha", "birthday": "2010-02-03"}],
        "important_dates": [{"label": "wedding", "date": "2005-06-07"}],
        "tags": ["VIP", "builder"],
        **extra,
    }


@pytest.fixture
def company(org):
    return services.create_company({"name": "Stroymontazh"}, actor=org.member_a)


def test_import_people_writes_good_rows_and_reports_bad_ones(org, company):
    rows = [
        _person_data(company),
        {"first_name": "", "last_name": "Nameless"},
        {"first_name": "Olga", "phones": [{"number": "12"}]},
        {"first_name": "Petr", "emails": [{"address": "not-an-email"}], "birthday": "1990-13-01"},
        {"first_name": "Anna", "company_id": 999999},
        {"first_name": "Vera", "phones": [{"number": "+7 495 111-22-33", "kind": "work"}]},
    ]

    result = bulk.import_people(rows, actor=org.member_a, batch_size=4)

    assert result.created == 2
    assert {(e.row, e.field) for e in result.errors} == {
        (2, "first_name"),
        (3, "phones.0.number"),
        (4, "emails.0.address"),
        (4, "birthday"),
        (5, "company_id"),
    }
    assert result.skipped_rows == 4
    people = Person.objects.filter(pk__in=result.ids).order_by("first_name")
    assert [p.first_name for p in people] == ["Ivan", "Vera"]
    ivan = people[0]
    assert ivan.owner == org.member_a and ivan.department == org.dept.team1
    assert ivan.company == company
    assert [p.e164 for p in ivan.phones.all()] == ["+79161234567", "+49301234567"]
    assert ivan.emails.get().normalized == "ivan.sidorov@example.com"
    assert ivan.addresses.get().country == "RU"
    assert ivan.family.get().name == "Masha"
    assert str(ivan.important_dates.get().date) == "2005-06-07"
    assert sorted(t.name for t in ivan.tags.all()) == ["VIP", "builder"]
    # Skipped rows left nothing behind, not even child rows.
    assert not Person.objects.filter(first_name__in=["Olga", "Petr", "Anna"]).exists()
    assert Phone.objects.filter(raw="12").count() == 0


def test_bulk_and_single_paths_write_the_same_search_body_and_audit(org, company):
    single = services.create_person(_person_data(company), actor=org.member_a)
    result = bulk.import_people([_person_data(company)], actor=org.member_a)
    imported = Person.objects.get(pk=result.ids[0])

    def body(obj):
        return SearchDocument.objects.get(object_type="contacts.person", object_id=obj.pk).body

    assert body(imported) == body(single)
    # The employer's name is found through the company's own document, not the person's.
    assert "79161234567" in body(imported) and "stroymontazh" not in body(imported)
    single_entry = AuditEntry.objects.for_object(single).get()
    imported_entry = AuditEntry.objects.for_object(imported).get()
    assert imported_entry.action == "contacts.person.created"
    assert imported_entry.channel == "import"
    assert imported_entry.actor == org.member_a
    assert imported_entry.changes == single_entry.changes


def test_bulk_and_single_paths_store_the_same_bytes(org, company):
    """The stored text itself, not its parsed value: the bulk path encodes the audit
    changes and the record's JSON columns without Django's field dispatch, and builds
    events in the database."""
    data = _person_data(company, first_name="Пётр", position="Инженер «Б»")
    single = services.create_person(data, actor=org.member_a)
    result = bulk.import_people([data], actor=org.member_a)

    def stored(sql, pk):
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            return cursor.fetchone()

    audit_sql = (
        "SELECT changes, object_repr, actor_label FROM core_auditentry"
        " WHERE object_type = 'contacts.person' AND object_id = %s"
    )
    assert stored(audit_sql, result.ids[0]) == stored(audit_sql, single.pk)
    person_sql = "SELECT custom, company_name, birthday FROM contacts_person WHERE id = %s"
    assert stored(person_sql, result.ids[0]) == stored(person_sql, single.pk)
    # An event's payload is compared as a value: the database writes JSON without spaces.
    payloads = {
        e.payload["object_id"]: e.payload
        for e in OutboxEvent.objects.filter(type="contacts.person.created")
    }
    single_event, imported_event = payloads[single.pk], payloads[result.ids[0]]
    assert imported_event == {**single_event, "object_id": result.ids[0]}


def test_imported_people_are_found_by_search(org, company):
    from kontor.contacts import queries
    from kontor.contacts.queries import ListFilters

    bulk.import_people([_person_data(company)], actor=org.member_a)

    found = list(queries.people(org.member_b, ListFilters(q="916 123 45 67")))
    assert [p.last_name for p in found] == ["Sidorov"]


def test_import_companies(org):
    rows = [
        {
            "name": "Beton Plus",
            "legal_name": "Beton Plus LLC",
            "tax_id": "7701234567",
            "industry": "construction",
            "website": "https://beton.example",
            "phones": [{"number": "+7 (812) 555-01-02", "kind": "work"}],
            "emails": [{"address": "info@beton.example"}],
        },
        {"name": "Bad Site", "website": "not a url"},
    ]

    result = bulk.import_companies(rows, actor=org.sales_head)

    assert result.created == 1
    assert [(e.row, e.field) for e in result.errors] == [(2, "website")]
    beton = Company.objects.get(pk=result.ids[0])
    assert beton.department == org.dept.sales
    assert beton.phones.get().e164 == "+78125550102"
    entry = AuditEntry.objects.for_object(beton).get()
    assert entry.channel == "import"
    assert entry.changes["name"] == [None, "Beton Plus"]


def test_import_is_refused_to_a_user_who_may_not_create(org):
    with pytest.raises(PermissionDenied):
        bulk.import_people([{"first_name": "Ivan"}], actor=org.nobody)
    assert not Person.objects.exists()


def test_rows_placed_outside_the_actors_scope_are_skipped(org):
    rows = [
        {"first_name": "Mine"},
        {"first_name": "Theirs", "department_id": org.dept.support.pk, "owner_id": org.admin.pk},
    ]

    result = bulk.import_people(rows, actor=org.member_a)

    assert result.created == 1
    assert [(e.row, e.field) for e in result.errors] == [(2, "department_id")]
    assert list(Person.objects.values_list("first_name", flat=True)) == ["Mine"]


def test_a_large_import_refreshes_the_planners_statistics(org):
    from django.db import connection

    rows = [
        {
            "first_name": f"P{i}",
            "phones": [{"number": f"+7 916 2{i:06d}"}],
            "emails": [{"address": f"p{i}@stats.example"}],
        }
        for i in range(core_bulk.STATISTICS_THRESHOLD)
    ]

    bulk.import_people(rows, actor=org.member_a)

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl FROM sqlite_stat1")
            assert {row[0] for row in cursor.fetchall()} == {"contacts_person"}
        else:
            cursor.execute("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'")
            assert {row[0] for row in cursor.fetchall()} >= {
                "contacts_person",
                "contacts_phone",
                "contacts_email",
                "core_searchdocument",
            }


def test_unknown_owner_department_and_tags_are_handled(org):
    rows = [
        {"first_name": "A", "owner_id": 999999},
        {"first_name": "B", "department_id": "not-a-number"},
        {"first_name": "C", "tags": ["Fresh tag", "fresh TAG", ""]},
    ]

    result = bulk.import_people(rows, actor=org.admin)

    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (1, "owner_id", "Unknown user."),
        (2, "department_id", "Unknown department."),
    ]
    with translation.override("fr"):
        errors = bulk.import_people(rows[:1], actor=org.admin).errors
    assert errors[0].message == "Utilisateur inconnu."  # in the importing user's language
    person = Person.objects.get(pk=result.ids[0])
    assert [t.name for t in person.tags.all()] == ["Fresh tag"]
    assert person.owner == org.admin and person.department == org.dept.root


def test_each_imported_record_announces_itself_through_the_outbox(org, company):
    from kontor.core import events

    seen = []
    events.subscribe("contacts.person.created", seen.append, name="test.bulk.seen")
    try:
        result = bulk.import_people(
            [_person_data(company), {"first_name": "Vera"}, {"first_name": "Olga"}],
            actor=org.member_a,
            batch_size=2,
        )
        assert seen == []  # written with the batch, delivered only by the dispatcher
        assert events.deliver_pending() == 3
    finally:
        events.unsubscribe("test.bulk.seen")

    assert [e.payload["object_id"] for e in seen] == result.ids
    assert {e.type for e in seen} == {"contacts.person.created"}
    assert {e.payload["actor_id"] for e in seen} == {org.member_a.pk}
    assert len({e.idempotency_key for e in seen}) == 3
    ivan = Person.objects.get(pk=result.ids[0])
    assert seen[0].payload["changes"] == AuditEntry.objects.for_object(ivan).get().changes


def test_bulk_validation_reports_what_full_clean_reports(org):
    """The bulk path skips full_clean for rows a type and length check vouches for."""
    too_long = "x" * 101
    rows = [
        {"first_name": "Ivan", "last_name": too_long},
        {"first_name": "Ivan", "position": "p" * 151, "source": "s" * 101},
        {"first_name": "Ivan", "notes": "n" * 5000, "middle_name": "m" * 100},
    ]

    result = bulk.import_people(rows, actor=org.member_a)

    single = {}
    for row in rows[:2]:
        try:
            services.create_person(row, actor=org.member_a)
        except ValidationFailed as exc:
            single.update({(rows.index(row) + 1, f): m for f, m in exc.errors.items()})
    bulk_errors = {}
    for error in result.errors:
        bulk_errors.setdefault((error.row, error.field), []).append(error.message)
    assert bulk_errors == single
    assert set(single) == {(1, "last_name"), (2, "position"), (2, "source")}
    assert result.created == 1


def test_an_import_collects_garbage_less_often_and_restores_the_collector(org):
    import gc

    before = gc.get_threshold()
    during = []

    bulk.import_people(
        [{"first_name": "Ivan"}],
        actor=org.member_a,
        progress=lambda done: during.append(gc.get_threshold()),
    )

    assert during[0][0] >= core_bulk.IMPORT_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_rows_written_many_per_statement_all_land_and_are_searchable(org, company, monkeypatch):
    # 30 parameters: one person row per INSERT, ten search documents; batches of 12
    # leave full statements and a short last one in each table.
    monkeypatch.setattr(core_bulk, "_PARAMETERS_PER_STATEMENT", 30)
    rows = [
        {
            "first_name": f"Row{i}",
            "last_name": "Many",
            "company_id": company.pk,
            "phones": [{"number": f"+7 916 555-{i:02d}-{i:02d}"}],
            "emails": [{"address": f"row{i}@many.example"}],
            "tags": ["bulk"],
        }
        for i in range(25)
    ]

    result = bulk.import_people(rows, actor=org.member_a, batch_size=12)

    assert result.created == 25 and not result.errors
    people = {p.first_name: p for p in Person.objects.filter(last_name="Many")}
    assert set(people) == {f"Row{i}" for i in range(25)}
    assert Phone.objects.filter(person__last_name="Many").count() == 25
    documents = SearchDocument.objects.filter(object_type="contacts.person")
    assert sorted(documents.values_list("object_id", flat=True)) == sorted(result.ids)
    for i in (0, 9, 10, 11, 12, 24):
        found = search.search_model(org.member_a, Person, f"8 916 555 {i:02d} {i:02d}")
        assert [p.pk for p in found] == [people[f"Row{i}"].pk]
    if connection.vendor == "sqlite":
        # FTS5 compares its index with the documents table; a mismatch raises.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_search_fts(core_search_fts, rank) VALUES ('integrity-check', 1)"
            )


def test_tags_are_bounded_per_row_and_in_all_as_on_the_single_path(org, monkeypatch):
    Tag.objects.create(name="VIP")
    eleven = [f"t{i}" for i in range(services.MAX_NEW_TAGS_PER_WRITE + 1)]
    # The install may hold 8 tags: VIP and 7 new ones, spent across rows and batches.
    monkeypatch.setattr(services, "MAX_TAGS", 8)
    rows = [
        {"first_name": "Eleven new", "tags": eleven},
        {"first_name": "Five new", "tags": ["VIP", *eleven[:5]]},
        {"first_name": "Bad row", "last_name": "x" * 1000, "tags": ["never"]},
        {"first_name": "Reuses them", "tags": eleven[:5]},
        {"first_name": "Three new", "tags": ["a", "b", "c"]},
        {"first_name": "Two new", "tags": ["a", "b"]},
        # Next batch: the count starts again from what the install holds.
        {"first_name": "One more", "tags": ["z"]},
        {"first_name": "Old ones", "tags": ["VIP", "a"]},
    ]

    result = bulk.import_people(rows, actor=org.admin, batch_size=6)

    too_many = "At most 10 new tags at a time: use existing tags where you can."
    full = "There are 8 tags already: choose existing ones."
    assert [(e.row, e.field, e.message) for e in result.errors if e.field == "tags"] == [
        (1, "tags", too_many),
        (5, "tags", full),
        (7, "tags", full),
    ]
    assert result.skipped_rows == 4  # also the bad row, whose tag was not counted
    assert (
        Person.objects.filter(first_name__in=["Eleven new", "Three new", "One more"]).count() == 0
    )
    assert sorted(Tag.objects.values_list("name", flat=True)) == sorted(
        ["VIP", *eleven[:5], "a", "b"]
    )
    named = {p.first_name: sorted(t.name for t in p.tags.all()) for p in Person.objects.all()}
    assert named["Old ones"] == ["VIP", "a"]
    assert named["Two new"] == ["a", "b"]


def test_an_import_row_gets_the_single_paths_answer_on_long_lists_and_unstorable_text(org):
    """One path: the list bound, the text check and the order of checks apply to imports."""
    rows = [
        {
            "first_name": "Many",
            "phones": [{"number": f"+7 916 3{i:06d}"} for i in range(services.MAX_LIST_ROWS + 1)],
        },
        {"first_name": "Nul\x00byte"},
        # The service stops at its own checks before the model's validation.
        {"first_name": "", "last_name": "x" * 101},
        {"first_name": "Fine"},
    ]

    result = bulk.import_people(rows, actor=org.member_a)

    for number, row in enumerate(rows[:3], start=1):
        with pytest.raises(ValidationFailed) as single:
            services.create_person(row, actor=org.member_a)
        imported = {}
        for error in result.errors:
            if error.row == number:
                imported.setdefault(error.field, []).append(error.message)
        assert imported == single.value.errors
    assert result.created == 1
    assert not Phone.objects.exists()
