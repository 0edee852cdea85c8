"""In a browser: an administrator adds a custom field on people from Settings → Fields;
the options follow the kind, the API name follows the label, the preview follows the
form; then a relation field's picker names the chosen company on a person's form."""

import pytest
from playwright.sync_api import expect

from kontor.contacts import services as contacts
from kontor.core.models import CustomField
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_an_admin_adds_a_choice_field_and_a_relation_picked_by_name(new_page, org):
    contacts.create_company({"name": "Acme Works"}, actor=org.admin)
    page = new_page()
    log_in(page, "admin@example.com", PASSWORD)
    page.goto("/settings/fields/")
    page.get_by_test_id("field-types").get_by_role("link", name="People").click()
    page.get_by_role("link", name="New field").first.click()

    page.get_by_label("Label").fill("Customer tier")
    expect(page.get_by_label("API name")).to_have_value("customer_tier")
    expect(page.get_by_label("Options")).to_be_hidden()
    expect(page.get_by_label("Currency")).to_be_hidden()
    page.get_by_label("Kind").select_option("choice")
    expect(page.get_by_label("Options")).to_be_visible()
    page.get_by_label("Options").fill("Gold\nSilver")
    page.get_by_label("Section").fill("Sales")
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_label("Customer tier")).to_be_visible()  # the record form's select
    page.get_by_role("button", name="Create").click()

    expect(page.locator(".flash-success")).to_contain_text("Customer tier")
    expect(page.get_by_test_id("fields")).to_contain_text("customer_tier")
    field = CustomField.objects.get(name="customer_tier")
    assert field.choices == [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]

    page.get_by_role("link", name="New field").first.click()
    page.get_by_label("Label").fill("Partner")
    page.get_by_label("Kind").select_option("relation")
    page.get_by_label("Links to").select_option("contacts.company")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("fields")).to_contain_text("partner")

    page.goto("/people/new/")
    page.get_by_label("First name").fill("Ivan")
    page.get_by_label("Customer tier").select_option("gold")
    page.get_by_label("Partner").fill("acme")
    page.get_by_role("option", name="Acme Works").click()
    expect(page.get_by_label("Partner")).to_have_value("Acme Works")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("link", name="Acme Works")).to_be_visible()
