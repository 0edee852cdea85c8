"""Custom fields: every kind cleans, stores, filters and sorts; indexes; field access."""

import datetime
import decimal
import json

import pytest
from django.db import connection

from kontor.accounts.models import Role
from kontor.contacts import services
from kontor.contacts.models import Company, Person
from kontor.core import customfields
from kontor.core.access import SYSTEM
from kontor.core.customfields import indexes, registry
from kontor.core.customfields import services as field_services
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry, CustomField

pytestmark = pytest.mark.django_db

PERSON = "contacts.person"


def add_field(name, kind, *, actor=SYSTEM, object_type=PERSON, **options):
    options.setdefault("label", name.title())
    return field_services.create_field(
        actor=actor, object_type=object_type, name=name, kind=kind, **options
    )


def person(actor, custom=None, **data):
    return services.create_person(
        {"first_name": "Anna", **data, "custom": custom or {}}, actor=actor
    )


def reloaded(obj):
    return type(obj).objects.get(pk=obj.pk)


def errors_of(exc_info) -> dict:
    return exc_info.value.errors


COLORS = [
    {"key": "red", "label": "Red"},
    {"key": "blue", "label": "Blue"},
    {"key": "green", "label": "Green"},
]

# kind, options, typed value, stored value (after a save and a load)
KINDS = [
    ("text", {}, "  Gold client ", "Gold client"),
    ("long_text", {}, "line one\nline two", "line one\nline two"),
    ("integer", {}, "42", 42),
    ("integer", {}, -(2**53 - 1), -(2**53 - 1)),
    ("decimal", {}, "12345678901.2345", decimal.Decimal("12345678901.2345")),
    ("decimal", {}, 0.1, decimal.Decimal("0.1")),
    ("money", {"currency": "EUR"}, "1999.99", decimal.Decimal("1999.99")),
    ("percent", {}, "12.5", decimal.Decimal("12.5")),
    ("date", {}, "2026-02-28", "2026-02-28"),
    ("date", {}, datetime.date(2026, 3, 1), "2026-03-01"),
    ("datetime", {}, "2026-02-28T10:30:00+03:00", "2026-02-28T07:30:00Z"),
    ("boolean", {}, "false", False),
    ("boolean", {}, True, True),
    ("choice", {"choices": COLORS}, "blue", "blue"),
    ("multiple_choice", {"choices": COLORS}, ["green", "red"], ["red", "green"]),
    ("url", {}, "https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("email", {}, "anna@example.com", "anna@example.com"),
    ("phone", {}, "8 (916) 123-45-67", "+79161234567"),
]


@pytest.mark.parametrize("kind, options, typed, stored", KINDS)
def test_every_kind_cleans_and_round_trips(org, kind, options, typed, stored):
    field = add_field("extra", kind, **options)
    saved = person(org.admin, {"extra": typed})
    loaded = reloaded(saved)
    assert loaded.custom == {str(field.pk): stored}
    assert type(loaded.custom[str(field.pk)]) is type(stored)
    assert customfields.values_for(org.admin, loaded) == {"extra": stored}
    assert customfields.display(field, stored) != ""


@pytest.mark.parametrize(
    "kind, options, stored, shown",
    [
        ("decimal", {}, 8.0, "8"),  # a whole number read back from JSON as a float
        ("decimal", {}, 1234.5, "1,234.5"),
        ("money", {"currency": "EUR"}, 1500, "1,500.00 EUR"),
        ("percent", {}, 12.5, "12.5\u00a0%"),
        ("integer", {}, 1000000, "1,000,000"),
    ],
)
def test_numbers_show_without_needless_zeros_and_money_with_cents(kind, options, stored, shown):
    field = add_field("extra", kind, **options)
    assert customfields.display(field, stored) == shown


def test_user_and_relation_fields_hold_ids_of_what_the_writer_may_see(org):
    owner = add_field("manager", "user")
    employer = add_field("partner", "relation", related_type="contacts.company")
    seen = services.create_company(
        {"name": "Seen", "department_id": org.dept.team1.pk}, actor=org.admin
    )
    hidden = services.create_company(
        {"name": "Hidden", "department_id": org.dept.support.pk}, actor=org.admin
    )
    saved = person(org.member_a, {"manager": org.member_b.pk, "partner": str(seen.pk)})
    assert reloaded(saved).custom == {str(owner.pk): org.member_b.pk, str(employer.pk): seen.pk}
    # A record the writer cannot see is unknown, as an id that does not exist.
    for bad in (hidden.pk, 999_999):
        with pytest.raises(ValidationFailed) as exc:
            person(org.member_a, {"partner": bad})
        assert errors_of(exc) == {"custom.partner": ["Unknown record."]}
    # Another member keeps a link they cannot see while editing other values.
    other = person(org.admin, {"partner": hidden.pk}, owner_id=org.member_a.pk)
    services.update_person(other, {"custom": {"manager": org.member_a.pk}}, actor=org.member_a)


@pytest.mark.parametrize(
    "kind, options, typed, message",
    [
        ("text", {}, 12, "Enter text."),
        ("text", {}, "bad\x00", "Null characters are not allowed."),
        ("text", {"maximum": 3}, "four", "Enter at most 3 characters."),
        ("text", {"minimum": 2}, "a", "Enter at least 2 characters."),
        ("text", {"pattern": r"[A-Z]{2}-\d+"}, "ab-1", "Enter a value in the expected format."),
        ("integer", {}, "4.5", "Enter a whole number."),
        ("integer", {}, True, "Enter a whole number."),
        ("integer", {}, 2**53, "Enter a number between -9007199254740991 and 9007199254740991."),
        ("integer", {"minimum": 1, "maximum": 10}, 11, "Enter a value of at most 10."),
        ("decimal", {}, "1e400", "Enter a number with at most 15 digits."),
        ("decimal", {}, "0.1234567890123456", "Enter a number with at most 15 digits."),
        ("decimal", {}, "NaN", "Enter a number."),
        ("money", {"currency": "RUB"}, "1.23456", "Enter a number with at most 4 decimal places."),
        ("date", {}, "2026-02-30", "Enter a date as YYYY-MM-DD."),
        ("date", {"minimum": "2026-01-01"}, "2025-12-31", "Enter a value of at least 2026-01-01."),
        ("datetime", {}, "tomorrow", "Enter a date and time as YYYY-MM-DDTHH:MM."),
        ("boolean", {}, "maybe", "Enter yes or no."),
        ("choice", {"choices": COLORS}, "pink", "Pick one of the options."),
        ("multiple_choice", {"choices": COLORS}, ["red", "pink"], "Pick one of the options."),
        (
            "multiple_choice",
            {"choices": COLORS, "maximum": 1},
            ["red", "blue"],
            "Pick at most 1 options.",
        ),
        (
            "url",
            {},
            "javascript:alert(1)",
            "Enter a web address starting with http:// or https://.",
        ),
        ("email", {}, "anna@", "Enter a valid email address."),
        ("phone", {}, "12", "Enter a phone number, e.g. +7 916 123-45-67."),
        ("phone", {}, "+7 916 123-45-67 ext. 5", "Enter the number without an extension."),
        ("user", {}, "abc", "Enter a record id."),
        ("user", {}, 999_999, "Pick an active user."),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(org, kind, options, typed, message):
    add_field("extra", kind, **options)
    with pytest.raises(ValidationFailed) as exc:
        person(org.admin, {"extra": typed})
    assert errors_of(exc) == {"custom.extra": [message]}
    assert not Person.objects.exists()


def test_required_default_and_unique(org):
    add_field("code", "text", required=True, unique=True)
    add_field("stage", "choice", choices=COLORS, default="green")
    with pytest.raises(ValidationFailed) as exc:
        person(org.admin)
    assert errors_of(exc) == {"custom.code": ["This field is required."]}
    first = person(org.admin, {"code": "A-1"})
    assert customfields.values_for(org.admin, first) == {"code": "A-1", "stage": "green"}
    with pytest.raises(ValidationFailed) as exc:
        person(org.admin, {"code": "A-1"})
    assert errors_of(exc) == {"custom.code": ["Another record already has this value."]}
    # Saving the holder again with its own value is no clash; emptying a required one is refused.
    services.update_person(first, {"custom": {"code": "A-1", "stage": None}}, actor=org.admin)
    assert customfields.values_for(org.admin, reloaded(first)) == {"code": "A-1", "stage": None}
    with pytest.raises(ValidationFailed) as exc:
        services.update_person(reloaded(first), {"custom": {"code": ""}}, actor=org.admin)
    assert errors_of(exc) == {"custom.code": ["This field is required."]}


def test_unknown_and_hidden_fields_are_the_same_error_and_read_only_ones_refuse_changes(org):
    head_role = Role.objects.get(name="head")
    add_field("secret", "text", view_roles=[head_role.pk])
    add_field("rating", "integer", edit_roles=[head_role.pk])
    record = person(org.sales_head, {"secret": "x", "rating": 5}, owner_id=org.member_a.pk)
    for name in ("secret", "nonexistent"):
        with pytest.raises(ValidationFailed) as exc:
            services.update_person(record, {"custom": {name: "y"}}, actor=org.member_a)
        assert errors_of(exc) == {f"custom.{name}": ["Unknown field."]}
    with pytest.raises(ValidationFailed) as exc:
        services.update_person(record, {"custom": {"rating": 6}}, actor=org.member_a)
    assert errors_of(exc) == {"custom.rating": ["You may not change this field."]}
    # Sending back what it holds is no change; the hidden value survives the member's edit.
    services.update_person(
        record, {"custom": {"rating": "5"}, "last_name": "B"}, actor=org.member_a
    )
    assert customfields.values_for(org.member_a, reloaded(record)) == {"rating": 5}
    assert customfields.values_for(org.sales_head, reloaded(record)) == {"secret": "x", "rating": 5}
    assert [f.name for f in customfields.visible_fields(org.member_a, PERSON)] == ["rating"]
    assert customfields.editable_fields(org.member_a, PERSON) == []
    assert [f.name for f in customfields.editable_fields(org.sales_head, PERSON)] == [
        "secret",
        "rating",
    ]


def test_values_are_audited_by_api_name_and_only_open_text_is_searchable(org):
    head_role = Role.objects.get(name="head")
    add_field("nickname", "text")
    add_field("secret", "text", view_roles=[head_role.pk])
    add_field("price", "money", currency="EUR")
    record = person(org.superuser, {"nickname": "Ann", "secret": "hidden words", "price": "10.50"})
    services.update_person(record, {"custom": {"price": "11"}}, actor=org.admin)
    created, updated = AuditEntry.objects.for_object(record).order_by("id")
    assert created.changes["custom.nickname"] == [None, "Ann"]
    assert updated.changes == {"custom.price": ["10.5", "11"]}
    assert customfields.search_text(reloaded(record)) == "Ann"


def test_history_names_a_restricted_field_only_to_those_who_may_see_it(org):
    from django.urls import reverse

    from tests.utils.clients import Api, browser

    head_role = Role.objects.get(name="head")
    add_field("nickname", "text")
    secret = add_field("secret_code", "text", label="Code word", view_roles=[head_role.pk])
    record = person(org.sales_head, {"nickname": "Ann", "secret_code": "Quokka"})
    services.update_person(record, {"owner_id": org.member_a.pk}, actor=org.sales_head)
    paths = (f"/people/{record.pk}/history", f"/audit?object=contacts.person:{record.pk}")

    def api_changes(user, path):
        return [e["changes"] for e in Api(user).get(path).json()["items"]]

    def page(user):
        html = browser(user).get(
            reverse("contacts:person_detail", args=[record.pk]) + "?tab=history"
        )
        assert html.status_code == 200
        return html.content.decode()

    for path in paths:
        assert all("custom.secret_code" not in c for c in api_changes(org.member_a, path))
        assert any(
            c.get("custom.nickname") == [None, "Ann"] for c in api_changes(org.member_a, path)
        )
        assert any(
            c.get("custom.secret_code") == [None, "Quokka"]
            for c in api_changes(org.sales_head, path)
        )
    assert "Quokka" not in page(org.member_a) and "Code word" not in page(org.member_a)
    assert "Quokka" in page(org.sales_head) and "Code word" in page(org.sales_head)

    # Renamed, its old key belongs to no current field: only a field manager reads it.
    field_services.update_field(secret, actor=org.admin, name="password", view_roles=[])
    assert all("custom.secret_code" not in c for c in api_changes(org.sales_head, paths[0]))
    assert any("custom.secret_code" in c for c in api_changes(org.admin, paths[0]))


def test_field_definitions_are_validated_permitted_and_audited(org):
    with pytest.raises(PermissionDenied):
        add_field("x", "text", actor=org.member_a)
    cases = [
        ({"name": "Bad Name"}, "name"),
        ({"kind": "colour"}, "kind"),
        ({"kind": "choice"}, "choices"),
        (
            {"kind": "choice", "choices": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
            "choices",
        ),
        ({"kind": "money"}, "currency"),
        ({"kind": "relation", "related_type": "accounts.user"}, "related_type"),
        ({"pattern": "(unclosed"}, "pattern"),
        ({"pattern": "(a+)+$"}, "pattern"),
        ({"kind": "integer", "minimum": 5, "maximum": 1}, "maximum"),
        ({"kind": "boolean", "unique": True}, "unique"),
        ({"kind": "integer", "default": "many"}, "default"),
        ({"view_roles": [999_999]}, "view_roles"),
    ]
    for options, attribute in cases:
        attributes = {"name": "x", "label": "X", "kind": "text", **options}
        with pytest.raises(ValidationFailed) as exc:
            field_services.create_field(actor=org.admin, object_type=PERSON, **attributes)
        assert attribute in errors_of(exc), options
    field = add_field("tier", "text", actor=org.admin)
    with pytest.raises(ValidationFailed) as exc:
        add_field("tier", "integer", actor=org.admin)
    assert errors_of(exc) == {"name": ["Another field of this type has this name."]}
    field_services.update_field(field, actor=org.admin, label="Level", name="level")
    field_services.delete_field(CustomField.objects.get(pk=field.pk), actor=org.admin)
    actions = list(
        AuditEntry.objects.filter(object_type="core.customfield", object_id=field.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "core.customfield.created",
        "core.customfield.updated",
        "core.customfield.deleted",
    ]


def test_renaming_keeps_values_and_removing_forgets_them(org):
    field = add_field("tier", "text")
    record = person(org.admin, {"tier": "gold"})
    field_services.update_field(field, actor=org.admin, name="level", label="Level")
    assert customfields.values_for(org.admin, reloaded(record)) == {"level": "gold"}
    field_services.delete_field(CustomField.objects.get(pk=field.pk), actor=org.admin)
    assert customfields.values_for(org.admin, reloaded(record)) == {}
    again = add_field("tier", "text")
    assert again.pk != field.pk
    assert customfields.values_for(org.admin, reloaded(record)) == {"tier": None}
    assert customfields.purge_removed(Person) == 1
    assert reloaded(record).custom == {}


def test_a_kind_changes_only_when_every_value_converts(org):
    field = add_field("size", "text")
    person(org.admin, {"size": "12"})
    bad = person(org.admin, {"size": "large"})
    with pytest.raises(ValidationFailed) as exc:
        field_services.update_field(field, actor=org.admin, kind="integer")
    assert errors_of(exc) == {
        "kind": [
            "1 record holds a value that cannot become “Integer”: “large”. "
            "Change or empty it first."
        ]
    }
    services.update_person(bad, {"custom": {"size": ""}}, actor=org.admin)
    field_services.update_field(field, actor=org.admin, kind="integer")
    assert sorted(p.custom.get(str(field.pk)) or 0 for p in Person.objects.all()) == [0, 12]
    choice = add_field("color", "choice", choices=COLORS)
    person(org.admin, {"color": "red"})
    with pytest.raises(ValidationFailed) as exc:
        field_services.update_field(choice, actor=org.admin, choices=COLORS[1:])
    assert errors_of(exc) == {"choices": ["The option “Red” is used by 1 record."]}


def _names(queryset):
    return [p.first_name for p in queryset]


@pytest.fixture
def scored(org):
    """Five people with a score (one empty), a tier, tags, a start date, a flag."""
    fields = {
        "score": add_field("score", "decimal"),
        "tier": add_field("tier", "choice", choices=COLORS),
        "labels": add_field("labels", "multiple_choice", choices=COLORS),
        "start": add_field("start", "date"),
        "vip": add_field("vip", "boolean"),
        "note": add_field("note", "text"),
    }
    rows = [
        (
            "Ann",
            {
                "score": "2.5",
                "tier": "red",
                "labels": ["red", "blue"],
                "start": "2026-01-05",
                "vip": True,
                "note": "Likes tea",
            },
        ),
        (
            "Bob",
            {
                "score": "10",
                "tier": "blue",
                "labels": ["blue"],
                "start": "2025-12-31",
                "vip": False,
            },
        ),
        ("Cid", {"score": "-1", "tier": "red", "start": "2026-06-01", "note": "tea and cake"}),
        ("Dan", {"tier": "green", "labels": ["green"]}),
        ("Eve", {"score": "2.50", "vip": True}),
    ]
    for name, custom in rows:
        services.create_person({"first_name": name, "custom": custom}, actor=org.admin)
    return fields


@pytest.mark.parametrize(
    "field, op, value, expected",
    [
        ("score", "eq", "2.5", ["Ann", "Eve"]),
        ("score", "gt", 2, ["Ann", "Bob", "Eve"]),
        ("score", "gte", "2.5", ["Ann", "Bob", "Eve"]),
        ("score", "lt", "2.5", ["Cid"]),
        ("score", "lte", 10, ["Ann", "Bob", "Cid", "Eve"]),
        ("score", "range", ("0", "3"), ["Ann", "Eve"]),
        ("score", "empty", None, ["Dan"]),
        ("score", "not_empty", None, ["Ann", "Bob", "Cid", "Eve"]),
        ("tier", "eq", "red", ["Ann", "Cid"]),
        ("tier", "in", ["blue", "green"], ["Bob", "Dan"]),
        ("tier", "empty", None, ["Eve"]),
        ("labels", "has", "blue", ["Ann", "Bob"]),
        ("labels", "empty", None, ["Cid", "Eve"]),
        ("start", "gt", "2026-01-01", ["Ann", "Cid"]),
        ("start", "lt", "2026-01-01", ["Bob"]),
        ("vip", "eq", "true", ["Ann", "Eve"]),
        ("vip", "eq", False, ["Bob"]),
        ("vip", "empty", None, ["Cid", "Dan"]),
        ("note", "icontains", "TEA", ["Ann", "Cid"]),
        ("note", "eq", "Likes tea", ["Ann"]),
        ("note", "not_empty", None, ["Ann", "Cid"]),
    ],
)
def test_filters_per_kind_including_empty_values(org, scored, field, op, value, expected):
    found = Person.objects.visible_to(org.admin).filter(
        customfields.filter_q(scored[field], op, value)
    )
    assert sorted(_names(found)) == expected


def test_bad_filters_are_field_errors(org, scored):
    for field, op, value in (
        ("score", "contains", "1"),
        ("score", "gt", "abc"),
        ("tier", "eq", "pink"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            customfields.filter_q(scored[field], op, value)
        assert list(errors_of(exc)) == [f"custom.{scored[field].name}"]


def test_sorting_puts_empty_values_after_every_value_and_breaks_ties_by_id(org, scored):
    people = Person.objects.visible_to(org.admin)
    ascending = people.order_by(*customfields.order_by(scored["score"]))
    assert _names(ascending) == ["Cid", "Ann", "Eve", "Bob", "Dan"]
    descending = people.order_by(*customfields.order_by(scored["score"], descending=True))
    assert _names(descending) == ["Dan", "Bob", "Eve", "Ann", "Cid"]
    by_date = people.order_by(*customfields.order_by(scored["start"]))
    assert _names(by_date) == ["Bob", "Ann", "Cid", "Dan", "Eve"]
    by_tier = people.filter(customfields.filter_q(scored["score"], "not_empty")).order_by(
        *customfields.order_by(scored["tier"])
    )
    assert _names(by_tier) == ["Bob", "Ann", "Cid", "Eve"]
    with pytest.raises(ValidationFailed):
        customfields.order_by(scored["labels"])


def test_decimals_compare_as_numbers_not_text(org):
    field = add_field("amount", "decimal")
    for value in ("9", "10", "100.25", "0.000001"):
        person(org.admin, {"amount": value})
    ordered = Person.objects.order_by(*customfields.order_by(field))
    assert [p.custom[str(field.pk)] for p in ordered] == [
        decimal.Decimal(v) for v in ("0.000001", "9", "10", "100.25")
    ]


def test_another_process_sees_a_new_field_at_its_next_call(org):
    assert customfields.fields_of(PERSON) == []
    # Another process writes the definition and moves the stamp; this one loaded before.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_customfield (object_type, name, label, kind, help_text, required, "
            '"unique", pattern, choices, currency, related_type, section, position, view_roles, '
            "edit_roles, version, created_at, updated_at) VALUES (%s, 'tier', 'Tier', 'text', '', "
            "false, false, '', '[]', '', '', '', 0, '[]', '[]', 1, %s, %s)",
            [PERSON, datetime.datetime.now(datetime.UTC), datetime.datetime.now(datetime.UTC)],
        )
    assert customfields.fields_of(PERSON) == []  # cached: the stamp did not move
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_definitionstamp WHERE name = %s", [registry.STAMP])
        cursor.execute(
            "INSERT INTO core_definitionstamp (name, value) VALUES (%s, 'other')", [registry.STAMP]
        )
    assert [f.name for f in customfields.fields_of(PERSON)] == ["tier"]
    record = person(org.admin, {"tier": "gold"})
    assert customfields.values_for(org.admin, record) == {"tier": "gold"}


@pytest.mark.django_db(transaction=True)
def test_an_index_is_made_for_a_new_field_used_by_filter_and_sort_and_dropped_with_it(org):
    score = add_field("score", "integer")
    tier = add_field("tier", "text")
    notes = add_field("notes", "long_text")
    table = Person._meta.db_table
    names = {indexes.index_name(table, score.pk), indexes.index_name(table, tier.pk)}
    with connection.cursor() as cursor:
        existing = set(connection.introspection.get_constraints(cursor, table))
    assert names <= existing
    assert indexes.index_name(table, notes.pk) not in existing
    for i in range(300):
        Person.objects.create(
            first_name=f"P{i}", custom={str(score.pk): i, str(tier.pk): f"t{i % 7}"}
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
    sorted_page = Person.objects.order_by(*customfields.order_by(score))[:50]
    assert indexes.index_name(table, score.pk) in sorted_page.explain()
    filtered = Person.objects.filter(customfields.filter_q(tier, "eq", "t3")).order_by()
    assert indexes.index_name(table, tier.pk) in filtered.explain()
    ranged = Person.objects.filter(customfields.filter_q(score, "gt", 250)).order_by()
    assert indexes.index_name(table, score.pk) in ranged.explain()
    assert [p.first_name for p in sorted_page[:2]] == ["P0", "P1"]
    field_services.delete_field(CustomField.objects.get(pk=score.pk), actor=SYSTEM)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.get_constraints(cursor, table))
    assert indexes.index_name(table, score.pk) not in existing
    assert indexes.index_name(table, tier.pk) in existing
    # An index lost (a migration rebuilding the table) comes back with the next sync.
    with connection.cursor() as cursor:
        cursor.execute(indexes.drop_sql(indexes.index_name(table, tier.pk)))
    assert any(indexes.index_name(table, tier.pk) in s for s in indexes.sync())


def test_companies_carry_their_own_fields(org):
    field = add_field("tier", "text", object_type="contacts.company")
    company = services.create_company({"name": "Acme", "custom": {"tier": "gold"}}, actor=org.admin)
    assert reloaded(company).custom == {str(field.pk): "gold"}
    assert customfields.fields_of(PERSON) == []
    with pytest.raises(ValidationFailed):
        person(org.admin, {"tier": "gold"})
    assert Company.objects.filter(customfields.filter_q(field, "eq", "gold")).count() == 1


def test_the_api_document_describes_the_fields_its_reader_may_see(org):
    from tests.utils.clients import Api

    head_role = Role.objects.get(name="head")
    add_field("tier", "choice", choices=[{"key": "gold", "label": "Gold"}], required=True)
    add_field("budget", "money", currency="EUR", minimum="0")
    add_field("secret_code", "text", view_roles=[head_role.pk])
    add_field("rating", "integer", edit_roles=[head_role.pk])

    def document(user):
        response = Api(user).get("/openapi.json")
        assert response.status_code == 200
        return response.json()["components"]["schemas"]

    member, head = document(org.member_a), document(org.sales_head)
    read = member["CustomFields.contacts.person"]["properties"]
    assert sorted(read) == ["budget", "rating", "tier"]
    assert read["tier"]["anyOf"][0] == {"type": "string", "enum": ["gold"]}
    assert read["budget"]["anyOf"][0] == {
        "type": "string",
        "format": "decimal",
        "description": "Amount in EUR; at least 0",
    }
    # What the member may not change is not in what the API takes from them.
    assert sorted(member["CustomFieldsInput.contacts.person"]["properties"]) == ["budget", "tier"]
    assert member["PersonOut"]["properties"]["custom"]["allOf"] == [
        {"$ref": "#/components/schemas/CustomFields.contacts.person"}
    ]
    assert member["PersonCreate"]["properties"]["custom"]["allOf"] == [
        {"$ref": "#/components/schemas/CustomFieldsInput.contacts.person"}
    ]
    assert "secret_code" in head["CustomFields.contacts.person"]["properties"]
    # Neither the name nor anything of a hidden field reaches the member's document.
    member_text = json.dumps(member)
    assert "secret_code" not in member_text and "Secret_Code" not in member_text
    # Without a reader (the anonymous document) no custom field is described at all.
    from django.test import Client

    anonymous = json.loads(Client().get("/api/v1/openapi.json").content)
    assert "CustomFields.contacts.person" not in anonymous["components"]["schemas"]


def test_custom_object_types_share_schemas_and_each_is_described(org, define_type):
    from tests.utils.clients import Api

    define_type("site", "Site", "Sites")
    define_type("vessel", "Vessel", "Vessels")
    add_field("area", "decimal", object_type="objects.site")
    schemas = Api(org.admin).get("/openapi.json").json()["components"]["schemas"]
    assert sorted(schemas["CustomFields.objects.site"]["properties"]) == ["area"]
    assert schemas["CustomFields.objects.vessel"]["properties"] == {}
    assert {"$ref": "#/components/schemas/CustomFields.objects.site"} in schemas["RecordOut"][
        "properties"
    ]["custom"]["anyOf"]


def test_definitions_and_their_history_are_read_only_by_field_managers(org, make_user):
    from kontor.accounts.models import RoleGrant
    from kontor.core.access import Action, Scope
    from tests.utils.clients import Api, browser

    auditor_role = Role.objects.create(name="Auditor")
    RoleGrant.objects.create(
        role=auditor_role, object_type="*", action=Action.VIEW, scope=int(Scope.ALL)
    )
    auditor = make_user("audrey@example.com", roles=["Auditor"])
    head_role = Role.objects.get(name="head")
    field = add_field("secret_code", "text", actor=org.admin, view_roles=[head_role.pk])
    page = f"/history/core.customfield/{field.pk}/"
    assert browser(org.admin).get(page).status_code == 200
    assert browser(auditor).get(page).status_code == 404
    everything = Api(auditor).get("/audit?limit=200").json()["items"]
    assert everything and all(e["object_type"] != "core.customfield" for e in everything)
    assert "secret_code" not in json.dumps(everything)
    assert Api(auditor).get(f"/audit?object=core.customfield:{field.pk}").status_code == 404


def test_a_request_reads_the_definitions_stamp_once_and_sees_its_own_changes(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add_field("tier", "text")
    from kontor.core import stamps

    with stamps.read_once():
        with CaptureQueriesContext(connection) as reads:
            for _ in range(3):
                customfields.visible_fields(org.admin, PERSON)
        stamp_reads = [q for q in reads.captured_queries if "core_definitionstamp" in q["sql"]]
        assert len(stamp_reads) == 1
        add_field("level", "integer", actor=org.admin)
        assert [f.name for f in customfields.fields_of(PERSON)] == ["tier", "level"]
    # Outside a request every call asks.
    with CaptureQueriesContext(connection) as reads:
        customfields.fields_of(PERSON)
        customfields.fields_of(PERSON)
    assert sum("core_definitionstamp" in q["sql"] for q in reads.captured_queries) == 2
