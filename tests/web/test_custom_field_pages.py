"""Custom fields in the engine's pages and API: typed inputs, messages, the detail card."""

import pytest
from django.urls import reverse

from kontor.contacts.models import Person
from kontor.core.customfields import services as field_services
from kontor.objects.models import CustomRecord
from tests.contacts.test_api import Api


@pytest.fixture
def person_fields(org):
    make = field_services.create_field
    return {
        "tier": make(
            actor=org.admin,
            object_type="contacts.person",
            name="tier",
            label="Tier",
            kind="choice",
            required=True,
            choices=[{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}],
        ),
        "budget": make(
            actor=org.admin,
            object_type="contacts.person",
            name="budget",
            label="Budget",
            kind="money",
            currency="EUR",
            section="Money",
        ),
    }


def test_a_person_form_takes_typed_custom_values_and_keeps_input_on_errors(
    client, org, person_fields
):
    client.force_login(org.member_a)
    form = client.get(reverse("contacts:person_create")).content.decode()
    assert 'name="custom.tier"' in form and 'name="custom.budget"' in form and "Money" in form

    refused = client.post(
        reverse("contacts:person_create"),
        {"first_name": "Ivan", "custom.tier": "", "custom.budget": "12.50"},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "This field is required." in html and 'value="12.50"' in html

    done = client.post(
        reverse("contacts:person_create"),
        {"first_name": "Ivan", "custom.tier": "gold", "custom.budget": "12.50"},
    )
    assert done.status_code == 302
    person = Person.objects.get(first_name="Ivan")
    detail = client.get(reverse("contacts:person_detail", args=[person.pk])).content.decode()
    assert "Gold" in detail and "EUR" in detail

    body = Api(org.member_a).get(f"/people/{person.pk}").json()
    assert body["custom"]["tier"] == "gold"
    listing = Api(org.member_a).get("/people").json()["items"][0]
    assert listing["custom"]["tier"] == "gold"


def test_the_api_writes_custom_values_and_names_a_bad_one(org, person_fields):
    api = Api(org.member_a)
    bad = api.post("/people", {"first_name": "Olga", "custom": {"tier": "bronze"}})
    assert bad.status_code in (400, 422) and "custom.tier" in bad.json()["errors"]
    unknown = api.post("/people", {"first_name": "Olga", "custom": {"tier": "gold", "nope": 1}})
    assert "custom.nope" in unknown.json()["errors"]
    ok = api.post("/people", {"first_name": "Olga", "custom": {"tier": "silver", "budget": "7"}})
    assert ok.status_code == 201 and ok.json()["custom"]["tier"] == "silver"


def test_a_custom_object_takes_its_own_custom_fields(client, org, define_type):
    site_type = define_type("site", "site", "sites")
    field_services.create_field(
        actor=org.admin, object_type="objects.site", name="area", label="Area", kind="decimal"
    )
    client.force_login(org.member_a)
    response = client.post(site_type.url("create"), {"name": "Pier", "custom.area": "120.5"})
    assert response.status_code == 302
    site = CustomRecord.objects.get(name="Pier")
    assert "120" in client.get(site_type.url("detail", site.pk)).content.decode()


def test_search_finds_a_record_by_a_custom_text_everyone_may_see_only(org, person_fields):
    from kontor.contacts import services as contacts
    from kontor.core.customfields import services as fields

    fields.create_field(
        actor=org.admin, object_type="contacts.person", name="site", label="Site", kind="text"
    )
    fields.create_field(
        actor=org.admin,
        object_type="contacts.person",
        name="secret",
        label="Secret",
        kind="text",
        view_roles=[org.admin.roles.first().pk],
    )
    person = contacts.create_person(
        {
            "first_name": "Ivan",
            "custom": {"tier": "gold", "site": "Riverside", "secret": "Quokka"},
        },
        actor=org.admin,
    )
    api = Api(org.admin)
    assert [p["id"] for p in api.get("/people?q=riverside").json()["items"]] == [person.pk]
    # A field some roles may not see is not in the shared document: no one finds by it.
    assert api.get("/people?q=quokka").json()["items"] == []


def test_lists_filter_and_sort_by_custom_fields_in_the_api_and_the_page(client, org, person_fields):
    from kontor.contacts import services as contacts

    ids = {}
    for name, tier, budget in (
        ("Anna", "gold", "30"),
        ("Boris", "silver", "10"),
        ("Clara", "gold", "20"),
    ):
        person = contacts.create_person(
            {"first_name": name, "custom": {"tier": tier, "budget": budget}}, actor=org.member_a
        )
        ids[name] = person.pk
    api = Api(org.member_a)
    gold = api.get("/people?custom=tier:gold&sort=cf.budget").json()["items"]
    assert [p["first_name"] for p in gold] == ["Clara", "Anna"]
    rich = api.get("/people?custom=budget__gte:15&sort=-cf.budget").json()["items"]
    assert [p["first_name"] for p in rich] == ["Anna", "Clara"]
    assert api.get("/people?custom=nope:1").status_code == 422
    assert api.get("/people?sort=cf.nope").status_code == 422
    assert api.get("/people?custom=budget__gte:lots").status_code == 422

    client.force_login(org.member_a)
    page = client.get(reverse("contacts:person_list"), {"custom": "tier:silver"}).content.decode()
    assert "Boris" in page and "Anna" not in page
    assert '<option value="tier:silver" selected>Silver</option>' in page
    bad = client.get(reverse("contacts:person_list"), {"custom": "budget__gte:lots"})
    assert bad.status_code == 200 and "Anna" in bad.content.decode()  # said, and dropped


def test_custom_fields_are_list_columns_when_chosen_and_export_columns(client, org, person_fields):
    import csv
    import io
    from decimal import Decimal

    from kontor.contacts import services as contacts

    contacts.create_person(
        {"first_name": "Anna", "custom": {"tier": "gold", "budget": "30"}}, actor=org.admin
    )
    client.force_login(org.admin)
    url = reverse("contacts:person_list")
    assert 'data-label="Tier"' not in client.get(url).content.decode()  # until chosen
    chosen = client.get(url, {"cols": ["", "cf.tier", "cf.budget"]}).content.decode()
    assert 'data-label="Tier"' in chosen and "Gold" in chosen
    assert "sort=cf.budget" in chosen  # a sortable column links its sort

    export = Api(org.admin).get("/people/export?format=csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))[:2]
    assert row[header.index("Tier")] == "Gold"
    assert Decimal(row[header.index("Budget")]) == Decimal("30")  # a number, not "30 EUR"


def test_a_list_with_a_custom_column_costs_the_same_queries_for_30_rows_as_for_3(
    client, org, person_fields
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kontor.contacts import services as contacts

    def make(n):
        for i in range(n):
            contacts.create_person(
                {"first_name": f"P{i}", "custom": {"tier": "gold"}}, actor=org.member_a
            )

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("contacts:person_list"), {"cols": ["", "cf.tier"]})
        return len(ctx.captured_queries), page.content.decode().count('data-label="Tier">Gold<')

    client.force_login(org.member_a)
    make(3)
    few, golds = count_queries()
    assert golds == 3
    make(27)
    many, golds = count_queries()
    assert golds == 30 and many == few
