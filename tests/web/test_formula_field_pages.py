"""Formula fields in the UI and the API: defined on Settings → Fields and /api/v1/fields
with errors at their place, shown (never typed) on record forms, explained when they
cannot be computed, filtered and sorted on lists, hidden where their roles say."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kontor.accounts.models import Role
from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core import events
from kontor.core.customfields import services as field_services
from kontor.core.models import CustomField
from tests.utils.clients import Api

pytestmark = pytest.mark.django_db

PEOPLE = "contacts.person"


def add_field(actor, name, kind="formula", **options):
    return field_services.create_field(
        actor=actor, object_type=PEOPLE, name=name, label=name.title(), kind=kind, **options
    )


@pytest.fixture
def quantity(org):
    return add_field(org.admin, "quantity", "integer")


@pytest.fixture
def double(org, quantity):
    return add_field(org.admin, "double", formula="quantity * 2")


def person(actor, name, quantity=None):
    return contacts.create_person(
        {"first_name": name, "custom": {"quantity": quantity}}, actor=actor
    )


def test_the_settings_form_refuses_a_formula_beside_its_input_with_the_place(client, org, quantity):
    client.force_login(org.admin)
    url = reverse("web:field_create", args=[PEOPLE])
    page = client.get(url).content.decode()
    assert "<code>company.name</code>" in page and "<code>quantity</code>" in page
    bad = client.post(url, {"label": "Net", "kind": "formula", "formula": "quantity * titel"})
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "Unknown field “titel”. (1:12)" in text
    assert 'aria-describedby="id_formula_error' in text or "id_formula" in text
    assert "quantity * titel" in text  # the input kept
    good = client.post(
        url, {"label": "Net", "kind": "formula", "formula": "quantity * 2", "position": "5"}
    )
    assert good.status_code == 302
    created = CustomField.objects.get(name="net")
    assert (created.formula, created.result_kind) == ("quantity * 2", "decimal")
    listing = client.get(reverse("web:field_type", args=[PEOPLE])).content.decode()
    assert "Formula: Decimal number" in listing


def test_the_fields_api_takes_a_formula_and_says_where_it_is_wrong(org, quantity):
    api = Api(org.admin)
    bad = api.post(
        "/fields",
        {"object_type": PEOPLE, "name": "net", "label": "Net", "kind": "formula", "formula": "1 +"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"]["formula"] == ["The formula ends where a value is expected. (1:4)"]
    made = api.post(
        "/fields",
        {
            "object_type": PEOPLE,
            "name": "net",
            "label": "Net",
            "kind": "formula",
            "formula": "1 + quantity",
        },
    )
    assert made.status_code == 201
    assert (made.json()["formula"], made.json()["result_kind"]) == ("1 + quantity", "decimal")
    keyword = api.post(
        "/fields", {"object_type": PEOPLE, "name": "null", "label": "Null", "kind": "text"}
    )
    assert keyword.status_code == 422 and "formula language" in keyword.json()["errors"]["name"][0]


def test_record_forms_show_the_value_and_the_api_refuses_to_change_it(client, org, double):
    anna = person(org.member_a, "Anna", 4)
    client.force_login(org.member_a)
    form = client.get(reverse("contacts:person_edit", args=[anna.pk])).content.decode()
    assert 'data-testid="formula-double">8' in form
    assert 'name="custom.double"' not in form
    api = Api(org.member_a)
    refused = api.patch(f"/people/{anna.pk}", {"version": 1, "custom": {"double": 3}})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"custom.double": ["You may not change this field."]}
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["CustomFields.contacts.person"]["properties"]["double"]["readOnly"] is True
    assert "double" not in schemas["CustomFieldsInput.contacts.person"]["properties"]
    changed = api.patch(f"/people/{anna.pk}", {"version": 1, "custom": {"quantity": 5}})
    assert Decimal(changed.json()["custom"]["double"]) == 10


def test_the_detail_page_marks_a_result_that_cannot_be_computed(client, org, quantity):
    add_field(org.admin, "share", formula="100 / quantity")
    zero = person(org.member_a, "Zero", 0)
    client.force_login(org.member_a)
    page = client.get(reverse("contacts:person_detail", args=[zero.pk])).content.decode()
    assert 'data-testid="formula-problem"' in page and "Division by zero. (1:5)" in page
    client.cookies["django_language"] = "ru"
    russian = client.get(
        reverse("contacts:person_detail", args=[zero.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Не удаётся вычислить" in russian


def test_lists_filter_and_sort_by_a_formula_in_the_api_and_the_page(client, org, double):
    for name, quantity in (("Anna", 3), ("Boris", 1), ("Clara", 2)):
        person(org.member_a, name, quantity)
    api = Api(org.member_a)
    items = api.get("/people?custom=double__gte:4&sort=-cf.double").json()["items"]
    assert [p["first_name"] for p in items] == ["Anna", "Clara"]
    client.force_login(org.member_a)
    page = client.get(
        reverse("contacts:person_list"), {"sort": "cf.double", "cols": ["", "cf.double"]}
    ).content.decode()
    assert page.index("Boris") < page.index("Clara") < page.index("Anna")
    assert "sort=-cf.double" in page  # the column sorts
    add_field(org.admin, "many", formula="double > 4")
    events.deliver_pending()  # computed for the records there are, in the background
    page = client.get(reverse("contacts:person_list"), {"custom": "many:true"}).content.decode()
    assert '<option value="many:true" selected>Yes</option>' in page
    assert "Anna" in page and "Boris" not in page and "Clara" not in page


def test_a_restricted_formula_is_hidden_like_any_restricted_field(org, quantity):
    head = Role.objects.get(name="head")
    add_field(org.admin, "secret", formula="quantity * 3", view_roles=[head.pk])
    anna = person(org.member_a, "Anna", 2)
    assert Person.objects.get(pk=anna.pk).custom  # computed whoever saves
    member = Api(org.member_a)
    assert "secret" not in member.get(f"/people/{anna.pk}").json()["custom"]
    assert member.get("/people?sort=cf.secret").status_code == 422
    assert member.get("/people?custom=secret:6").status_code == 422
    head_api = Api(org.sales_head)
    assert Decimal(head_api.get(f"/people/{anna.pk}").json()["custom"]["secret"]) == 6
