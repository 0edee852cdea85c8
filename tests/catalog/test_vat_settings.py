"""Settings → VAT rates: administrators' pages; anyone else finds nothing there."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from kontor.catalog import services
from kontor.catalog.models import VatRate
from kontor.core.models import AuditEntry

from ..accounts.test_settings_pages import STYLESHEET, classes_used
from ..utils.clients import browser
from .conftest import product_data

TEMPLATES = sorted((Path(__file__).parents[2] / "kontor/catalog/templates/catalog").glob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_class_in_the_catalog_templates_is_styled(template):
    defined = set(re.findall(r"\.([a-zA-Z][\w-]*)", STYLESHEET.read_text()))
    assert not classes_used(template.read_text()) - defined


def test_the_list_shows_each_rate_with_its_products_and_the_default(org, rates):
    services.create_product(product_data(vat_rate_id=rates["zero"].pk), actor=org.admin)
    html = browser(org.admin).get(reverse("catalog:vat_rate_list")).content.decode()
    rows = {
        name: html[html.index(f'data-testid="vat-rate-{rate.pk}"') :].split("</tr>")[0]
        for name, rate in rates.items()
    }
    assert "default" in rows["standard"] and "default" not in rows["reduced"]
    assert '<td data-label="Products">1</td>' in rows["zero"]
    assert ">19.00<" in rows["standard"]


def test_an_administrator_adds_a_rate_through_the_form(org, rates):
    page = browser(org.admin).post(
        reverse("catalog:vat_rate_create"), {"name": "Books", "rate": "5,5", "is_active": "on"}
    )
    assert page.status_code == 302 and page["Location"] == reverse("catalog:vat_rate_list")
    made = VatRate.objects.get(name="Books")
    assert (made.rate, made.is_active, made.is_default) == (Decimal("5.50"), True, False)
    assert AuditEntry.objects.for_object(made).get().channel == "ui"


def test_a_faulty_form_is_422_with_the_message_beside_the_field_and_the_input_kept(org, rates):
    page = browser(org.admin).post(
        reverse("catalog:vat_rate_create"), {"name": "Standard", "rate": "1000"}
    )
    html = page.content.decode()
    assert page.status_code == 422
    assert 'id="id_name_error"' in html and 'id="id_rate_error"' in html
    assert 'value="1000"' in html
    assert VatRate.objects.count() == 3


def test_an_edit_moves_the_default_and_a_stale_one_is_409(org, rates):
    client = browser(org.admin)
    url = reverse("catalog:vat_rate_edit", args=[rates["reduced"].pk])
    assert 'value="7.00"' in client.get(url).content.decode()
    form = {"name": "Reduced", "rate": "7", "is_active": "on", "is_default": "on", "version": 1}

    assert client.post(url, form).status_code == 302
    assert vat_default() == "Reduced"
    stale = client.post(url, form | {"rate": "8"})
    assert stale.status_code == 409 and 'value="8"' in stale.content.decode()
    assert VatRate.objects.get(pk=rates["reduced"].pk).rate == Decimal("7.00")


def vat_default() -> str:
    return VatRate.objects.get(is_default=True).name


def test_a_rate_in_use_stays_with_a_message_an_unused_one_goes(org, rates):
    services.create_product(product_data(vat_rate_id=rates["reduced"].pk), actor=org.admin)
    client = browser(org.admin)
    refused = client.post(reverse("catalog:vat_rate_delete", args=[rates["reduced"].pk]))
    assert refused["Location"] == reverse("catalog:vat_rate_edit", args=[rates["reduced"].pk])
    assert "deactivate it instead" in client.get(refused["Location"]).content.decode()
    gone = client.post(reverse("catalog:vat_rate_delete", args=[rates["zero"].pk]))
    assert gone["Location"] == reverse("catalog:vat_rate_list")
    assert set(VatRate.objects.values_list("name", flat=True)) == {"Standard", "Reduced"}


def test_everyone_else_gets_404_and_no_menu_entry(org, rates):
    pk = rates["zero"].pk
    for user in (org.sales_head, org.member_a):
        client = browser(user)
        for method, url in (
            ("get", reverse("catalog:vat_rate_list")),
            ("get", reverse("catalog:vat_rate_create")),
            ("post", reverse("catalog:vat_rate_create")),
            ("get", reverse("catalog:vat_rate_edit", args=[pk])),
            ("post", reverse("catalog:vat_rate_edit", args=[pk])),
            ("post", reverse("catalog:vat_rate_delete", args=[pk])),
        ):
            assert getattr(client, method)(url).status_code == 404, (user, method, url)
        settings_html = client.get(reverse("accounts:token_list")).content.decode()
        assert "/settings/vat-rates/" not in settings_html
    assert VatRate.objects.filter(pk=pk).exists()
    login = browser().get(reverse("catalog:vat_rate_list"))
    assert login.status_code == 302 and "/login/" in login["Location"]
