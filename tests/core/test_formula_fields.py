"""Formula fields: defined with a checked formula, computed on every save (single and
bulk), stored so that lists filter and sort by them, refreshed nightly and when the
formula changes, read-only everywhere, and never showing what a reader may not see."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from kontor.accounts.models import Role
from kontor.accounts.services import install_builtin_roles
from kontor.contacts import services
from kontor.contacts.models import Company, Person
from kontor.core import bulk, events, timers, types
from kontor.core.customfields import computed
from kontor.core.customfields import services as field_services
from kontor.core.errors import ValidationFailed
from kontor.core.models import CustomField, Timer
from kontor.core.types import ListFilters
from kontor.sales.defaults import install_default_pipeline
from tests.backups.conftest import migrations_rows_left_behind  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

PEOPLE = "contacts.person"


def field(actor, name, kind="text", *, object_type=PEOPLE, **options):
    return field_services.create_field(
        actor=actor, object_type=object_type, name=name, label=name.title(), kind=kind, **options
    )


def company_field(actor, name, **options):
    return field(actor, name, object_type="contacts.company", **options)


def formula(actor, name, source, **options):
    return field(actor, name, "formula", formula=source, **options)


def new_person(data, *, actor):
    return services.create_person({"first_name": "Pat", **data}, actor=actor)


def stored(person, field):
    return Person.objects.get(pk=person.pk).custom.get(field.key)


def refused(call, attribute="formula"):
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.errors.get(attribute) or [str(caught.value.message)]


# -- definition ------------------------------------------------------------------------


def test_a_formula_field_keeps_its_source_and_the_kind_of_its_result(org):
    field(org.admin, "quantity", "integer")
    field(org.admin, "price", "money", currency="EUR")
    total = formula(org.admin, "total", "price * quantity", currency="EUR")
    label = formula(org.admin, "label", 'upper(last_name) & " " & quantity')
    due = formula(org.admin, "due", "add_days(birthday, 30)")
    flag = formula(org.admin, "big", "quantity > 10")
    ratio = formula(org.admin, "ratio", "quantity / 3")
    kinds = {f.name: f.result_kind for f in (total, label, due, flag, ratio)}
    assert kinds == {
        "total": "money",
        "label": "text",
        "due": "date",
        "big": "boolean",
        "ratio": "decimal",
    }
    assert CustomField.objects.get(pk=total.pk).formula == "price * quantity"


def test_an_invalid_formula_is_refused_with_its_line_and_column(org):
    field(org.admin, "quantity", "integer")
    assert refused(lambda: formula(org.admin, "bad", "quantity *\n  titel")) == [
        "Unknown field “titel”. (2:3)"
    ]
    assert refused(lambda: formula(org.admin, "bad", 'quantity * "x"')) == [
        "“*” cannot take a value of kind “text”. (1:12)"
    ]
    assert refused(lambda: formula(org.admin, "bad", "  ")) == ["Enter the formula."]
    assert not CustomField.objects.filter(name="bad").exists()


def test_a_money_result_needs_a_currency_and_other_results_have_none(org):
    field(org.admin, "price", "money", currency="EUR")
    assert refused(lambda: formula(org.admin, "net", "price * 2"), "currency")
    assert refused(
        lambda: formula(org.admin, "n", "1 + len(last_name)", currency="EUR"), "currency"
    )


def test_a_formula_field_is_never_required_nor_defaulted(org):
    assert refused(lambda: formula(org.admin, "f", "len(last_name)", required=True), "required")
    assert refused(lambda: formula(org.admin, "f", "len(last_name)", default="3"), "default")
    assert refused(lambda: field(org.admin, "plain", formula="1 + 1"))


@pytest.mark.parametrize("name", ["and", "or", "not", "true", "false", "null"])
def test_a_field_is_never_named_like_a_word_of_the_formula_language(org, name):
    assert "formula language" in refused(lambda: field(org.admin, name), "name")[0]


def test_a_field_may_share_a_function_s_name(org):
    field(org.admin, "text", "text")
    shown = formula(org.admin, "shout", "upper(text)")
    person = new_person({"last_name": "Lee", "custom": {"text": "hi"}}, actor=org.member_a)
    assert stored(person, shown) == "HI"


def test_a_field_cannot_become_a_formula_or_stop_being_one(org):
    plain = field(org.admin, "plain")
    assert refused(
        lambda: field_services.update_field(
            plain, actor=org.admin, kind="formula", formula="len(last_name)"
        ),
        "kind",
    )


# -- schema ----------------------------------------------------------------------------


def test_a_formula_reads_columns_custom_fields_and_the_linked_record(org):
    company_field(org.admin, "tier")
    field(org.admin, "nickname")
    card = formula(
        org.admin,
        "card",
        'first_name & " " & custom.nickname & " @ " & company.name & " (" & company.tier & ")"',
    )
    company = services.create_company({"name": "Acme", "custom": {"tier": "gold"}}, actor=org.admin)
    person = new_person(
        {
            "first_name": "Ann",
            "company_id": company.pk,
            "custom": {"nickname": "Nan"},
        },
        actor=org.admin,
    )
    assert stored(person, card) == "Ann Nan @ Acme (gold)"
    schema = computed.inputs(PEOPLE, field_services.registry.fields_of(PEOPLE))
    assert {"first_name", "birthday", "company.name", "company.tier", "nickname"} <= set(schema)
    assert "company.custom" not in schema and "version" not in schema and "id" not in schema


def test_a_linked_record_s_restricted_field_is_never_offered(org):
    head = Role.objects.get(name="head")
    company_field(org.admin, "secret", view_roles=[head.pk])
    assert refused(lambda: formula(org.admin, "leak", "company.secret", view_roles=[head.pk]))


def test_a_restricted_field_is_read_only_by_a_formula_as_restricted(org):
    head = Role.objects.get(name="head")
    field(org.admin, "salary", "integer", view_roles=[head.pk])
    assert refused(lambda: formula(org.admin, "leak", "salary * 2")) == [
        "Unknown field “salary”. (1:1)"
    ]
    kept = formula(org.admin, "doubled", "salary * 2", view_roles=[head.pk])
    person = new_person({"last_name": "Lee", "custom": {"salary": 10}}, actor=org.superuser)
    assert stored(person, kept) == 20
    # Opening it to everyone would show the salary to all: refused.
    assert refused(lambda: field_services.update_field(kept, actor=org.admin, view_roles=[]))


# -- cycles and readers ----------------------------------------------------------------


def test_formula_fields_read_each_other_in_order_but_never_in_a_circle(org):
    field(org.admin, "quantity", "integer")
    # Defined so that the reader comes first in form order: computed in dependency order.
    base = formula(org.admin, "base", "quantity * 2", position=5)
    double = formula(org.admin, "double", "base + 1", position=1)
    person = new_person({"last_name": "Lee", "custom": {"quantity": 4}}, actor=org.admin)
    assert (stored(person, base), stored(person, double)) == (8, 9)
    message = refused(
        lambda: field_services.update_field(base, actor=org.admin, formula="double * 2")
    )
    assert message == ["Formula fields cannot read each other in a circle: base → double → base."]
    assert refused(lambda: formula(org.admin, "self", "self + 1")) == [
        "Unknown field “self”. (1:1)"
    ]


def test_a_field_a_formula_reads_cannot_be_renamed_retyped_or_removed(org):
    quantity = field(org.admin, "quantity", "integer")
    formula(org.admin, "double", "quantity * 2")
    renamed = refused(lambda: field_services.update_field(quantity, actor=org.admin, name="qty"))
    assert renamed == [
        "A formula reads this field and would stop working: Double: Unknown field “quantity”. (1:1)"
    ]
    assert refused(lambda: field_services.update_field(quantity, actor=org.admin, kind="text"))
    assert refused(lambda: field_services.delete_field(quantity, actor=org.admin))
    field_services.update_field(quantity, actor=org.admin, label="Qty")  # harmless


# -- computing -------------------------------------------------------------------------


def test_computed_on_create_and_update_and_audited(org):
    field(org.admin, "quantity", "integer")
    double = formula(org.admin, "double", "quantity * 2 + len(last_name)")
    person = new_person({"last_name": "Lee", "custom": {"quantity": 4}}, actor=org.member_a)
    assert stored(person, double) == 11
    person = services.update_person(
        Person.objects.get(pk=person.pk), {"last_name": "Leeds"}, actor=org.member_a
    )
    assert stored(person, double) == 13
    person = services.update_person(
        Person.objects.get(pk=person.pk), {"custom": {"quantity": None}}, actor=org.member_a
    )
    assert stored(person, double) is None  # empty propagates: no key stored
    history = [e.changes for e in person_history(person)]
    before, after = history[-1]["custom.double"]
    assert (Decimal(before), after) == (13, None)


def person_history(person):
    from kontor.core.models import AuditEntry

    return AuditEntry.objects.filter(object_type=PEOPLE, object_id=person.pk).order_by("pk")


def test_computed_by_the_bulk_path(org):
    field(org.admin, "quantity", "integer")
    double = formula(org.admin, "double", "quantity * 2")
    company = services.create_company({"name": "Acme"}, actor=org.admin)
    where = formula(org.admin, "where", "company.name")
    result = bulk.import_rows(
        types.get(PEOPLE),
        [
            {"first_name": "A", "custom": {"quantity": 1}, "company_id": company.pk},
            {"first_name": "B", "custom": {"quantity": 2}},
            {"first_name": "C", "custom": {"double": 7}},
        ],
        actor=org.admin,
    )
    assert result.created == 2
    assert [e.message for e in result.errors] == ["You may not change this field."]
    people = Person.objects.filter(pk__in=result.ids).order_by("first_name")
    assert [p.custom.get(double.key) for p in people] == [2, 4]
    assert [p.custom.get(where.key) for p in people] == ["Acme", None]


def test_a_number_is_stored_as_a_stored_decimal_keeps_it(org):
    field(org.admin, "quantity", "integer")
    third = formula(org.admin, "third", "quantity / 3")
    huge = formula(org.admin, "huge", "quantity * 10 ^ 16")
    person = new_person({"last_name": "Lee", "custom": {"quantity": 1}}, actor=org.admin)
    assert stored(person, third) == Decimal("0.33333333333333")
    assert stored(person, huge) is None  # 17 digits: no stored decimal holds it
    person = Person.objects.get(pk=person.pk)
    assert "15 digits" in computed.problem(person, huge)
    assert computed.problem(person, third) is None


def test_an_evaluation_error_stores_empty_and_says_why(org):
    field(org.admin, "quantity", "integer")
    inverse = formula(org.admin, "inverse", "10 / quantity")
    person = new_person({"last_name": "Lee", "custom": {"quantity": 0}}, actor=org.admin)
    assert stored(person, inverse) is None
    assert computed.problem(Person.objects.get(pk=person.pk), inverse) == "Division by zero. (1:4)"


def test_writing_a_formula_field_is_refused(org):
    double = formula(org.admin, "double", "len(last_name) * 2")
    with pytest.raises(ValidationFailed) as caught:
        new_person({"last_name": "Lee", "custom": {"double": 1}}, actor=org.admin)
    assert caught.value.errors == {"custom.double": ["You may not change this field."]}
    person = new_person({"last_name": "Lee"}, actor=org.admin)
    # Sent back as read: accepted, as for any field the writer may not change.
    services.update_person(
        Person.objects.get(pk=person.pk), {"custom": {"double": 6}}, actor=org.admin
    )
    assert stored(person, double) == 6


# -- lists -----------------------------------------------------------------------------


def test_lists_filter_and_sort_by_a_formula_field(org):
    field(org.admin, "quantity", "integer")
    double = formula(org.admin, "double", "quantity * 2.5")
    for name, quantity in (("A", 3), ("B", 1), ("C", 2), ("D", None)):
        new_person({"last_name": name, "custom": {"quantity": quantity}}, actor=org.admin)
    rt = types.get(PEOPLE)
    sorted_names = [p.last_name for p in rt.list_query(org.admin, ListFilters(sort="cf.double"))]
    assert sorted_names == ["B", "C", "A", "D"]
    narrowed = rt.list_query(org.admin, ListFilters(custom=["double__gte:5"], sort="-cf.double"))
    assert [p.last_name for p in narrowed] == ["A", "C"]
    assert double.value_kind == "decimal"


# -- recomputing -----------------------------------------------------------------------


def test_changing_a_formula_recomputes_every_record_in_the_background(org):
    field(org.admin, "quantity", "integer")
    double = formula(org.admin, "double", "quantity * 2")
    people = [
        new_person({"last_name": str(n), "custom": {"quantity": n}}, actor=org.admin)
        for n in range(1, 4)
    ]
    events.deliver_pending()
    double = field_services.update_field(
        CustomField.objects.get(pk=double.pk), actor=org.admin, formula='"#" & quantity'
    )
    assert double.result_kind == "text"
    events.deliver_pending()
    assert [stored(p, double) for p in people] == ["#1", "#2", "#3"]
    assert types.get(PEOPLE).list_query(org.admin, ListFilters(custom=["double:#2"])).count() == 1


def test_a_new_formula_field_is_computed_for_existing_records(org, monkeypatch):
    monkeypatch.setattr(computed, "RECOMPUTE_CHUNK", 2)
    people = [new_person({"last_name": name}, actor=org.admin) for name in ("Al", "Bo", "Cy")]
    length = formula(org.admin, "length", "len(last_name)")
    events.deliver_pending()
    assert [stored(p, length) for p in people] == [2, 2, 2]


def test_the_nightly_refresh_computes_formulas_reading_today_or_a_linked_record(org):
    since = formula(org.admin, "age_days", "days_between(birthday, today())")
    plain = formula(org.admin, "length", "len(last_name)")
    where = formula(org.admin, "employer", "company.name")
    company = services.create_company({"name": "Acme"}, actor=org.admin)
    with freeze_time("2026-03-10 12:00"):
        person = new_person(
            {"last_name": "Lee", "birthday": "2026-03-01", "company_id": company.pk},
            actor=org.admin,
        )
        events.deliver_pending()
    assert stored(person, since) == 9
    # Renaming the company writes its people's company_name, not their formulas.
    Company.objects.filter(pk=company.pk).update(name="Acme Ltd")
    with freeze_time("2026-03-12 01:00"):
        assert computed.next_refresh() == datetime.datetime(
            2026, 3, 13, 1, tzinfo=computed.timezone.get_current_timezone()
        )
        timers.keep_standing()
        refresh = Timer.objects.get(kind=computed.REFRESH_TIMER)
        assert refresh.due_at == computed.next_refresh()
        Timer.objects.filter(pk=refresh.pk).update(due_at=timezone.now())
        assert timers.fire_due() == 1
        events.deliver_pending()
    assert stored(person, since) == 11
    assert stored(person, where) == "Acme Ltd"
    assert stored(person, plain) == 3
    assert any(p.refreshed_daily for p in computed.programs(PEOPLE))


# -- every registered type ------------------------------------------------------------


def test_a_custom_object_type_computes_formula_fields_like_a_built_in_one(org, define_type):
    sites = define_type("site", "Site", "Sites")
    field(org.admin, "area", "decimal", object_type=sites.object_type)
    label = field(
        org.admin,
        "label",
        "formula",
        object_type=sites.object_type,
        formula='upper(name) & ": " & area & " m²"',
    )
    site = sites.create({"name": "Tower", "custom": {"area": "12.5"}}, actor=org.admin)
    assert type(site)._base_manager.get(pk=site.pk).custom[label.key] == "TOWER: 12.5 m²"


def test_a_deal_formula_reads_its_amount_and_its_linked_records(org):
    from kontor.sales import services as sales

    names = set(computed.inputs("sales.deal", []))
    assert {"amount", "expected_close", "company.name", "person.last_name"} <= names
    weighted = field(
        org.admin,
        "weighted",
        "formula",
        object_type="sales.deal",
        formula='amount / 2 & " for " & company.name',
    )
    company = services.create_company({"name": "Acme"}, actor=org.member_a)
    deal = sales.create_deal(
        {"title": "Cement", "amount": "900", "company_id": company.pk}, actor=org.member_a
    )
    assert type(deal).objects.get(pk=deal.pk).custom[weighted.key] == "450.00 for Acme"


@pytest.fixture
def migrations_rows(transactional_db):
    # An earlier transactional test flushed every table, the migrations' rows (the roles)
    # too: put back for this one (``migrations_rows_left_behind`` leaves them after it).
    install_builtin_roles()
    install_default_pipeline()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrations_rows_left_behind")
def test_a_formula_s_index_follows_its_result_kind(migrations_rows, org):
    from django.db import connection

    from kontor.core import customfields
    from kontor.core.customfields import indexes

    field(org.admin, "quantity", "integer")
    double = formula(org.admin, "double", "quantity * 2")
    result = bulk.import_rows(
        types.get(PEOPLE),
        [{"first_name": f"P{i}", "custom": {"quantity": i}} for i in range(300)],
        actor=org.admin,
    )
    assert result.created == 300
    table, index = Person._meta.db_table, indexes.index_name(Person._meta.db_table, double.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
    ranged = Person.objects.filter(customfields.filter_q(double, "gt", 500)).order_by()
    assert index in ranged.explain() and ranged.count() == 49
    # A text now: the stored numbers go at once, the index is made for text (PostgreSQL's
    # cast numbers), and every record is computed again.
    double = field_services.update_field(double, actor=org.admin, formula='"#" & quantity')
    events.deliver_pending()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")  # the new index was analyzed while still empty
    texts = Person.objects.filter(customfields.filter_q(double, "eq", "#7")).order_by()
    assert index in texts.explain() and [p.first_name for p in texts] == ["P7"]
    ordered = Person.objects.order_by(*customfields.order_by(double))[:2]
    assert [p.first_name for p in ordered] == ["P0", "P1"]
