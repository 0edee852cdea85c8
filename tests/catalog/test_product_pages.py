"""The product pages beyond the standard tests: the form's choices, the price as the
reader's language writes it, the list's filters."""

from kontor.catalog import services
from kontor.catalog.types import PRODUCT

from ..utils.clients import browser
from .conftest import product_data


def test_the_form_offers_units_currencies_and_active_rates_with_the_default_chosen(org, rates):
    services.update_vat_rate(rates["zero"], {"is_active": False}, actor=org.admin)
    html = browser(org.member_a).get(PRODUCT.url("create")).content.decode()
    rate_select = html[html.index('name="vat_rate_id"') :].split("</select>")[0]
    assert (
        f'<option value="{rates["standard"].pk}" selected>Standard (19 %)</option>' in rate_select
    )
    assert "Reduced (7 %)" in rate_select and "Zero" not in rate_select
    assert '<option value="m3" >m³</option>' in html
    assert '<option value="EUR" selected>EUR</option>' in html
    assert '<option value="CHF" >CHF</option>' in html


def test_an_edit_keeps_offering_the_products_deactivated_rate(org, rates):
    product = services.create_product(
        product_data(vat_rate_id=rates["zero"].pk), actor=org.member_a
    )
    services.update_vat_rate(rates["zero"], {"is_active": False}, actor=org.admin)
    html = browser(org.member_a).get(PRODUCT.url("edit", product.pk)).content.decode()
    assert f'<option value="{rates["zero"].pk}" selected>Zero (0 %)</option>' in html


def test_the_form_says_where_rates_come_from_when_there_are_none(org):
    html = browser(org.admin).get(PRODUCT.url("create")).content.decode()
    assert "None yet: an administrator adds them in Settings" in html


def test_a_product_reads_in_russian_with_its_unit_and_price(org, rates):
    product = services.create_product(product_data(price="1250.5", unit="m3"), actor=org.member_a)
    client = browser(org.member_a)
    client.cookies["django_language"] = "ru"
    org.member_a.language = "ru"
    org.member_a.save(update_fields=["language"])

    detail = client.get(PRODUCT.url("detail", product.pk)).content.decode()
    listing = client.get(PRODUCT.url("list")).content.decode()

    assert "1\xa0250,50 EUR / м³" in detail
    assert "Основная (19 %)" not in detail  # a rate's name is the administrator's
    assert "Standard (19 %)" in detail and "Артикул" in detail
    assert "1\xa0250,50 EUR" in listing and "Ставка НДС" in listing


def test_the_list_offers_its_filters_and_narrows_by_them(org, rates):
    active = services.create_product(product_data("A"), actor=org.member_a)
    inactive = services.create_product(product_data("B", is_active=False), actor=org.member_a)
    client = browser(org.member_a)

    page = client.get(PRODUCT.url("list")).content.decode()
    assert '<a href="/products/" aria-current="page">Products</a>' in page
    for name in ("active", "currency", "vat_rate_id"):
        assert f'<select name="{name}">' in page
    assert f'<option value="{rates["zero"].pk}" >Zero (0 %)</option>' in page
    shown = client.get(PRODUCT.url("list"), {"active": "no"}).content.decode()
    assert f'href="{PRODUCT.url("detail", inactive.pk)}"' in shown
    assert f'href="{PRODUCT.url("detail", active.pk)}"' not in shown
    assert '<tr class="muted">' in shown  # an inactive product's row is greyed
