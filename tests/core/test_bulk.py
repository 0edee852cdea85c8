"""The generic bulk import (kontor.core.bulk) on its own: any registered type, with or
without an importer of its own, goes through one path with the single-record services'
rules."""

import pytest

from kontor.contacts import services
from kontor.contacts.models import Company, Person, Phone
from kontor.contacts.types import COMPANY, PERSON, CompanyType
from kontor.core import bulk, events
from kontor.core.errors import PermissionDenied
from kontor.core.models import AuditEntry, SearchDocument

pytestmark = pytest.mark.django_db


class BareCompanyType(CompanyType):
    """Companies as a type with no importer hooks: the generic part alone imports them.

    The related lists are only named (a company's search text and audit snapshot read
    them), not cleaned: what a row says of phones is not written.
    """

    class Importer(bulk.Importer):
        related = ("phones", "emails", "addresses", "tags")

    def importer(self, actor):
        return self.Importer(self, actor)


BARE = BareCompanyType()


def _body(obj):
    return SearchDocument.objects.get(object_type=obj._meta.label_lower, object_id=obj.pk).body


@pytest.fixture
def created_events():
    seen = []
    events.subscribe("contacts.company.created", seen.append, name="test.core_bulk.seen")
    yield seen
    events.unsubscribe("test.core_bulk.seen")


def test_a_type_without_importer_hooks_writes_records_audit_search_and_events(org, created_events):
    rows = [
        {
            "name": "Beton Plus",
            "industry": "construction",
            "website": "https://beton.example",
            "phones": [{"number": "+7 812 555-01-02"}],  # no hook: not written
        },
        {"name": "x" * 256},
        {"name": "Bad site", "website": "not a url"},
        {"name": "Theirs", "department_id": org.dept.support.pk},
        {"name": "Unknown owner", "owner_id": 999_999},
        {"name": "Nul\x00byte"},
        {"name": "Second", "tax_id": "7701"},
    ]

    result = bulk.import_rows(BARE, rows, actor=org.sales_head, batch_size=4)
    events.deliver_pending()

    assert {(e.row, e.field) for e in result.errors} == {
        (2, "name"),
        (3, "website"),
        (4, "department_id"),
        (5, "owner_id"),
        (6, "name"),
    }
    assert result.created == 2
    beton, second = (Company.objects.get(pk=pk) for pk in result.ids)
    assert (beton.name, second.name) == ("Beton Plus", "Second")
    assert (beton.owner, beton.department) == (org.sales_head, org.dept.sales)
    assert not Phone.objects.exists()
    # The same audit changes and search body as the single-record service writes.
    single = services.create_company(
        {"name": "Beton Plus", "industry": "construction", "website": "https://beton.example"},
        actor=org.sales_head,
    )
    entry = AuditEntry.objects.for_object(beton).get()
    assert (entry.action, entry.channel, entry.actor) == (
        "contacts.company.created",
        "import",
        org.sales_head,
    )
    assert entry.changes == AuditEntry.objects.for_object(single).get().changes
    assert _body(beton) == _body(single)
    assert [e.payload["object_id"] for e in created_events] == result.ids
    assert created_events[0].payload["changes"] == entry.changes
    assert {e.payload["actor_id"] for e in created_events} == {org.sales_head.pk}


def test_the_generic_importer_takes_a_records_own_values_only(org):
    importer = BARE.importer(org.admin)

    assert set(importer.fields) == set(Company.profile_fields)
    # Links (owner, department) are placement's; a type checks its other links itself.
    assert not {"owner_id", "department_id", "version", "created_at"} & set(importer.fields)


def test_people_and_companies_ride_the_same_generic_path(org):
    companies = bulk.import_rows(
        COMPANY, [{"name": "Stroymontazh", "tags": ["VIP"]}], actor=org.member_a
    )
    people = bulk.import_rows(
        PERSON,
        [{"first_name": "Ivan", "company_id": companies.ids[0], "tags": ["VIP"]}],
        actor=org.member_a,
    )

    ivan = Person.objects.get(pk=people.ids[0])
    assert ivan.company_id == companies.ids[0] and ivan.company_name == "Stroymontazh"
    assert [t.name for t in ivan.tags.all()] == ["VIP"]
    for obj in (ivan, Company.objects.get(pk=companies.ids[0])):
        assert AuditEntry.objects.for_object(obj).get().channel == "import"
        assert _body(obj)


def test_an_import_reads_the_custom_field_definitions_once_not_per_row(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kontor.core.customfields import services as field_services

    field = field_services.create_field(
        actor=org.admin, object_type=PERSON.object_type, name="tier", label="Tier", kind="text"
    )
    rows = [{"first_name": f"P{i}", "custom": {"tier": "gold"}} for i in range(20)]
    with CaptureQueriesContext(connection) as reads:
        result = bulk.import_rows(PERSON, rows, actor=org.member_a)
    assert len(result.ids) == 20 and not result.errors
    assert sum("core_definitionstamp" in q["sql"] for q in reads.captured_queries) == 1
    assert Person.objects.get(pk=result.ids[0]).custom == {str(field.pk): "gold"}


def test_an_import_is_refused_whole_to_whoever_may_not_create_the_type(org):
    with pytest.raises(PermissionDenied):
        bulk.import_rows(BARE, [{"name": "Nope"}], actor=org.nobody)
    assert not Company.objects.exists()


@pytest.mark.parametrize("model", [Person, Company, Phone])
def test_a_blank_instance_is_what_the_models_constructor_makes(model):
    made, blank = model(), bulk.Blank(model)
    first, second = blank(), blank()
    called = {f.attname for f in model._meta.concrete_fields if callable(f.default)}

    def values(obj):
        return {k: v for k, v in vars(obj).items() if k != "_state" and k not in called}

    assert vars(first).keys() == vars(made).keys()
    assert values(first) == values(made)
    assert (first._state.adding, first._state.db) == (True, None)
    assert first._state is not second._state
    # A callable default (the time, a dict) is called per instance, never shared.
    for name in called:
        assert type(getattr(first, name)) is type(getattr(made, name))
        if isinstance(getattr(first, name), dict | list):
            assert getattr(first, name) is not getattr(second, name)


def test_a_blank_instance_takes_plain_values_and_leaves_the_rest_to_the_constructor():
    phone = bulk.Blank(Phone)(kind="work", raw="8 916", e164="+7916", position=2)
    assert (phone.kind, phone.raw, phone.e164, phone.extension, phone.position) == (
        "work", "8 916", "+7916", "", 2,
    )  # fmt: skip
    assert phone.person_id is None and phone.pk is None
    company = Company(name="Acme")
    linked = bulk.Blank(Phone)(company=company, raw="1")  # a relation: the constructor's
    assert linked.company is company and linked.company_id is None
    with pytest.raises(TypeError):
        bulk.Blank(Phone)(colour="red")


def test_placement_is_checked_once_per_owner_and_department(org, monkeypatch):
    calls = []
    original = bulk.records.require_create
    monkeypatch.setattr(
        bulk.records, "require_create", lambda actor, obj: calls.append(1) or original(actor, obj)
    )
    rows = [{"name": f"C{i}"} for i in range(5)] + [
        {"name": "Theirs", "department_id": org.dept.support.pk}
    ]
    result = bulk.import_rows(BARE, rows, actor=org.sales_head)
    assert result.created == 5
    assert [(e.row, e.field) for e in result.errors] == [(6, "department_id")]
    assert len(calls) == 2
