"""Typed widgets of user and relation fields on record forms: a select of active users,
and a picker over the records of the target type the editor may see."""

import pytest
from django.urls import reverse

from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core.customfields import services as field_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(org):
    make = field_services.create_field
    return {
        "manager": make(
            actor=org.admin,
            object_type="contacts.person",
            name="manager",
            label="Account manager",
            kind="user",
        ),
        "partner": make(
            actor=org.admin,
            object_type="contacts.person",
            name="partner",
            label="Partner",
            kind="relation",
            related_type="contacts.company",
        ),
    }


def options(client, object_type, q=""):
    url = reverse("web:record_options", args=[object_type])
    return client.get(url, {"q": q}).content.decode()


def test_a_relation_picker_offers_only_records_the_editor_may_see(client, org, define_type):
    contacts.create_company({"name": "Acme Mine"}, actor=org.member_a)
    contacts.create_company({"name": "Acme Support"}, actor=org.support_member)
    site = define_type("site", "Construction site", "Construction sites")
    site.create({"name": "Tower Acme"}, actor=org.member_a)
    client.force_login(org.member_a)

    found = options(client, "contacts.company", "acme")
    assert "Acme Mine" in found and "Acme Support" not in found
    assert "data-ac-id=" in found
    assert "Nothing matches" in options(client, "contacts.company", "zzzz")
    assert "Tower Acme" in options(client, "objects.site", "tower")
    assert client.get(reverse("web:record_options", args=["accounts.user"])).status_code == 404

    client.force_login(org.support_member)
    assert "Tower Acme" not in options(client, "objects.site", "tower")


def test_user_and_relation_fields_are_picked_by_name_and_shown_by_name(client, org, fields):
    company = contacts.create_company({"name": "Acme"}, actor=org.member_a)
    client.force_login(org.member_a)
    form = client.get(reverse("contacts:person_create")).content.decode()
    assert '<select id="id_custom.manager" name="custom.manager"' in form
    assert f'<option value="{org.member_b.pk}"' in form
    assert 'name="custom.partner"' in form and 'type="number"' not in form
    assert reverse("web:record_options", args=["contacts.company"]) in form

    refused = client.post(
        reverse("contacts:person_create"),
        {"first_name": "Ivan", "custom.manager": str(org.member_b.pk), "custom.partner": "999999"},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Unknown record." in html
    assert f'<option value="{org.member_b.pk}" selected' in html  # the choice stays

    done = client.post(
        reverse("contacts:person_create"),
        {
            "first_name": "Ivan",
            "custom.manager": str(org.member_b.pk),
            "custom.partner": str(company.pk),
        },
    )
    assert done.status_code == 302
    person = Person.objects.get(first_name="Ivan")
    edit = client.get(reverse("contacts:person_edit", args=[person.pk])).content.decode()
    assert 'value="Acme"' in edit  # the picker shows the chosen record's name

    detail = client.get(reverse("contacts:person_detail", args=[person.pk])).content.decode()
    company_url = reverse("contacts:company_detail", args=[company.pk])
    assert f'<a href="{company_url}">Acme</a>' in detail
    assert str(org.member_b) in detail


def test_a_related_record_the_reader_cannot_see_is_neither_named_nor_linked(client, org, fields):
    hidden = contacts.create_company({"name": "Secret Ltd"}, actor=org.support_member)
    person = contacts.create_person(
        {
            "first_name": "Ivan",
            "department_id": org.dept.team1.pk,
            "custom": {"partner": hidden.pk},
        },
        actor=org.admin,
    )
    client.force_login(org.member_a)
    detail = client.get(reverse("contacts:person_detail", args=[person.pk])).content.decode()
    assert "Secret Ltd" not in detail
    assert reverse("contacts:company_detail", args=[hidden.pk]) not in detail
    edit = client.get(reverse("contacts:person_edit", args=[person.pk])).content.decode()
    assert "Secret Ltd" not in edit
