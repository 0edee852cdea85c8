"""The settings pages where an administrator defines custom fields: lists, the form with
its preview and inline errors, removal, and who may open them."""

import pytest
from django.urls import reverse

from kontor.accounts.models import Role
from kontor.contacts import services as contacts
from kontor.core import customfields
from kontor.core.customfields import services as field_services
from kontor.core.models import AuditEntry, CustomField

pytestmark = pytest.mark.django_db

PEOPLE = "contacts.person"


def new_field_url(object_type=PEOPLE):
    return reverse("web:field_create", args=[object_type])


def post_field(client, url, **data):
    return client.post(url, {"kind": "text", "position": "10", **data})


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    return client


@pytest.fixture
def tier(org):
    return field_services.create_field(
        actor=org.admin,
        object_type=PEOPLE,
        name="tier",
        label="Tier",
        kind="choice",
        section="Sales",
        choices=[{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}],
    )


def test_the_pages_are_absent_for_who_may_not_manage_fields(client, org, tier):
    client.force_login(org.member_a)
    for url in (
        reverse("web:field_list"),
        reverse("web:field_type", args=[PEOPLE]),
        new_field_url(),
        reverse("web:field_edit", args=[tier.pk]),
        reverse("web:field_delete", args=[tier.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert post_field(client, new_field_url(), label="Sneaky").status_code == 404
    assert client.post(reverse("web:field_delete", args=[tier.pk])).status_code == 404
    assert CustomField.objects.filter(label="Sneaky").count() == 0
    assert CustomField.objects.filter(pk=tier.pk).exists()
    settings_menu = client.get(reverse("accounts:password_change")).content.decode()
    assert reverse("web:field_list") not in settings_menu


def test_types_page_lists_every_type_with_custom_fields_and_their_count(
    admin_client, tier, define_type
):
    define_type("site", "Construction site", "Construction sites")
    page = admin_client.get(reverse("web:field_list")).content.decode()
    assert reverse("web:field_list") in page  # in the settings menu
    for object_type in (PEOPLE, "contacts.company", "objects.site"):
        assert reverse("web:field_type", args=[object_type]) in page
    assert "Construction sites" in page
    assert admin_client.get(reverse("web:field_type", args=["accounts.user"])).status_code == 404


def test_a_types_fields_page_lists_them_or_invites_the_first(admin_client, org, tier):
    head = Role.objects.get(name="head")
    field_services.update_field(tier, actor=org.admin, view_roles=[head.pk], required=True)
    page = admin_client.get(reverse("web:field_type", args=[PEOPLE])).content.decode()
    assert "Tier" in page and "<code>tier</code>" in page and "Single choice" in page
    assert "required" in page and "Sales" in page and head.display_name in page
    assert reverse("web:history", args=["core.customfield", tier.pk]) in page

    empty = admin_client.get(reverse("web:field_type", args=["contacts.company"])).content.decode()
    assert "No custom fields yet" in empty


def test_creating_a_field_suggests_its_api_name_and_derives_option_keys(admin_client):
    response = post_field(
        admin_client,
        new_field_url(),
        label="Customer tier",
        kind="choice",
        choices="Gold\nsilver_plus: Silver +\nBronze level",
        default="Gold",
        # Options of other kinds are ignored, not refused.
        currency="XX",
        related_type="contacts.company",
        pattern="[",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:field_type", args=[PEOPLE])
    field = CustomField.objects.get(object_type=PEOPLE)
    assert field.name == "customer_tier"
    assert field.choices == [
        {"key": "gold", "label": "Gold"},
        {"key": "silver_plus", "label": "Silver +"},
        {"key": "bronze_level", "label": "Bronze level"},
    ]
    assert field.default == "gold"
    assert (field.currency, field.related_type, field.pattern) == ("", "", "")
    assert AuditEntry.objects.filter(object_type="core.customfield", object_id=field.pk).exists()
    edit = admin_client.get(reverse("web:field_edit", args=[field.pk])).content.decode()
    assert 'name="default" value="Gold"' in edit  # the default shown by its label


def test_service_errors_show_beside_their_inputs_and_the_input_stays(admin_client):
    response = post_field(
        admin_client,
        new_field_url(),
        label="Budget",
        name="Budget!",
        kind="money",
        currency="euro",
        minimum="10",
        maximum="5",
        help_text="What they may spend",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Use lowercase letters, digits and &#x27;_&#x27;" in html
    assert "Enter a three-letter currency code" in html
    assert "The maximum must not be below the minimum." in html
    assert 'id="id_name_error"' in html and 'id="id_currency_error"' in html
    assert 'value="Budget!"' in html and 'value="What they may spend"' in html
    assert not CustomField.objects.exists()


def test_preview_shows_the_record_forms_input_and_a_value_without_saving(admin_client):
    response = post_field(
        admin_client,
        new_field_url(),
        label="Budget",
        kind="money",
        currency="EUR",
        default="1500",
        preview="1",
    )
    assert response.status_code == 200
    html = response.content.decode()
    preview = html[html.index('id="field-preview"') :]
    assert 'name="custom.budget"' in preview and 'value="1500"' in preview
    assert "1,500.00 EUR" in preview
    assert not CustomField.objects.exists()

    # htmx asks for the preview alone as the form changes.
    partial = admin_client.post(
        new_field_url(),
        {"label": "Starts", "kind": "date", "position": "0", "preview": "1"},
        headers={"HX-Request": "true", "HX-Target": "field-preview"},
    ).content.decode()
    assert partial.lstrip().startswith('<section class="card record-form" id="field-preview"')
    assert 'type="date"' in partial and "<form" not in partial


def test_editing_keeps_the_keys_and_a_failed_kind_change_says_why(admin_client, org, tier):
    contacts.create_person({"first_name": "Ivan", "custom": {"tier": "gold"}}, actor=org.admin)
    url = reverse("web:field_edit", args=[tier.pk])
    page = admin_client.get(url).content.decode()
    assert "gold: Gold" in page and "if you change it, change them too" in page
    assert 'name="custom.tier"' in page  # the preview of the stored field

    refused = post_field(
        admin_client, url, label="Tier", name="tier", kind="integer", version=tier.version
    )
    assert refused.status_code == 422
    assert "cannot become “Integer”" in refused.content.decode()

    saved = post_field(
        admin_client,
        url,
        label="Level",
        name="tier",
        kind="choice",
        choices="gold: Golden\nsilver: Silver",
        section="Sales",
        version=tier.version,
    )
    assert saved.status_code == 302
    tier.refresh_from_db()
    assert tier.label == "Level" and tier.choices[0] == {"key": "gold", "label": "Golden"}

    stale = post_field(
        admin_client,
        url,
        label="Late",
        name="tier",
        kind="choice",
        choices="gold: Gold",
        version=1,
    )
    assert stale.status_code == 409
    assert "Someone else changed this field" in stale.content.decode()
    assert CustomField.objects.get(pk=tier.pk).label == "Level"


def test_removing_a_field_says_how_many_records_hold_a_value(admin_client, org, tier):
    for name in ("Ivan", "Olga"):
        contacts.create_person({"first_name": name, "custom": {"tier": "gold"}}, actor=org.admin)
    contacts.create_person({"first_name": "Petr"}, actor=org.admin)
    url = reverse("web:field_delete", args=[tier.pk])
    page = admin_client.get(url).content.decode()
    assert "2 records hold a value of this field." in page
    assert "never shown or read again" in page

    assert admin_client.post(url, {"version": tier.version + 5}).status_code == 302
    assert CustomField.objects.filter(pk=tier.pk).exists()  # someone changed it: not removed

    done = admin_client.post(url, {"version": tier.version})
    assert done.status_code == 302
    assert not CustomField.objects.filter(pk=tier.pk).exists()
    assert customfields.fields_of(PEOPLE) == []


def test_a_fields_history_opens_for_an_administrator_only(client, org, tier):
    url = reverse("web:history", args=["core.customfield", tier.pk])
    client.force_login(org.member_a)
    assert client.get(url).status_code == 404
    client.force_login(org.admin)
    response = client.get(url)
    assert response.status_code == 200 and "Tier" in response.content.decode()


def test_an_object_types_page_links_to_its_fields(admin_client, define_type):
    define_type("site", "Construction site", "Construction sites")
    from kontor.objects.models import ObjectTypeDefinition

    definition = ObjectTypeDefinition.objects.get(slug="site")
    page = admin_client.get(reverse("objects:definition_edit", args=[definition.pk]))
    assert reverse("web:field_type", args=["objects.site"]) in page.content.decode()


def test_a_list_links_an_administrator_to_its_types_fields(client, org):
    fields_url = reverse("web:field_type", args=[PEOPLE])
    client.force_login(org.member_a)
    assert fields_url not in client.get(reverse("contacts:person_list")).content.decode()
    client.force_login(org.admin)
    assert fields_url in client.get(reverse("contacts:person_list")).content.decode()


def test_a_suggested_api_name_reads_a_russian_label_and_never_repeats_one(admin_client):
    for _attempt in range(2):
        assert post_field(admin_client, new_field_url(), label="Регион продаж").status_code == 302
    names = CustomField.objects.order_by("id").values_list("name", flat=True)
    assert list(names) == ["region_prodazh", "region_prodazh_2"]
