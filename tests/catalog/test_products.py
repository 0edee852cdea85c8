"""Products: the rules of the services, the bulk import, the list's filters and sorts."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from kontor.catalog import services
from kontor.catalog.models import Product
from kontor.catalog.types import PRODUCT
from kontor.core import bulk, types
from kontor.core.access import SYSTEM
from kontor.core.errors import ValidationFailed
from kontor.core.types import ListFilters

from .conftest import product_data


def _errors(call) -> dict:
    with pytest.raises(ValidationFailed) as failed:
        call()
    return failed.value.errors


def test_a_product_takes_the_default_rate_and_currency_and_is_placed_with_its_creator(org, rates):
    product = services.create_product(product_data(), actor=org.member_a)

    assert product.vat_rate == rates["standard"]
    assert product.currency == "EUR" and product.price == Decimal("8.90")
    assert product.is_active and product.unit == "bag" and product.unit_label == "bag"
    assert (product.owner, product.department) == (org.member_a, org.dept.team1)


def test_the_sku_is_unique_whatever_its_case_and_whoever_sees_the_other(org, rates):
    services.create_product(product_data("CEM-425"), actor=org.support_member)

    errors = _errors(lambda: services.create_product(product_data("cem-425 "), actor=org.member_a))

    assert errors == {"sku": ["A product with this SKU exists."]}
    assert Product.objects.count() == 1
    # The database holds the rule too (two writers passing the check at once).
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(
            sku="Cem-425",
            sku_key="cem-425",
            name="Twin",
            price=1,
            vat_rate=rates["standard"],
            currency="EUR",
        )


def test_a_cyrillic_sku_is_one_sku_whatever_its_case(org, rates):
    services.create_product(product_data("АРТ-001"), actor=org.member_a)
    errors = _errors(lambda: services.create_product(product_data("арт-001"), actor=org.admin))
    assert errors == {"sku": ["A product with this SKU exists."]}


def test_an_edit_keeps_its_own_sku_and_may_change_its_case(org, rates):
    product = services.create_product(product_data("cem-425"), actor=org.member_a)
    services.update_product(product, {"sku": "CEM-425", "price": "9"}, actor=org.member_a)
    product.refresh_from_db()
    assert (product.sku, product.price, product.version) == ("CEM-425", Decimal("9.00"), 2)


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"price": "-0.01"}, "price"),
        ({"price": "1.005"}, "price"),
        ({"price": "cheap"}, "price"),
        ({"price": "1e15"}, "price"),
        ({"price": "1e999999"}, "price"),
        ({"sku": "S" * 65}, "sku"),
        ({"price": ""}, "price"),
        ({"sku": "  "}, "sku"),
        ({"name": ""}, "name"),
        ({"unit": "barrel"}, "unit"),
        ({"currency": "XXX"}, "currency"),
        ({"vat_rate_id": 987654321}, "vat_rate_id"),
        ({"vat_rate_id": "seven"}, "vat_rate_id"),
    ],
)
def test_bad_input_is_an_error_on_its_field(org, rates, fault, field):
    errors = _errors(lambda: services.create_product(product_data() | fault, actor=org.member_a))
    assert list(errors) == [field]
    assert not Product.objects.exists()


def test_a_price_reads_a_decimal_comma_and_grouping_spaces(org, rates):
    product = services.create_product(product_data(price="1 250,5"), actor=org.member_a)
    assert product.price == Decimal("1250.50")


def test_the_currencies_come_from_the_settings(org, rates, settings):
    settings.KONTOR_CURRENCIES = ["EUR", "PLN"]
    settings.KONTOR_DEFAULT_CURRENCY = "PLN"
    assert services.create_product(product_data("A"), actor=org.admin).currency == "PLN"
    assert services.create_product(product_data("B", currency="eur"), actor=org.admin).currency == (
        "EUR"
    )
    assert "currency" in _errors(
        lambda: services.create_product(product_data("C", currency="USD"), actor=org.admin)
    )


def test_an_inactive_rate_is_refused_for_a_new_choice_and_kept_where_it_is(org, rates):
    product = services.create_product(
        product_data(vat_rate_id=rates["reduced"].pk), actor=org.member_a
    )
    services.update_vat_rate(rates["reduced"], {"is_active": False}, actor=org.admin)

    errors = _errors(
        lambda: services.create_product(
            product_data("NEW", vat_rate_id=rates["reduced"].pk), actor=org.member_a
        )
    )
    assert errors == {"vat_rate_id": ["This VAT rate is no longer in use: choose another."]}
    services.update_product(
        product, {"price": "10", "vat_rate_id": rates["reduced"].pk}, actor=org.member_a
    )
    product.refresh_from_db()
    assert product.vat_rate == rates["reduced"] and product.price == Decimal("10.00")


def test_without_any_rate_a_product_cannot_be_made(org):
    errors = _errors(lambda: services.create_product(product_data(), actor=org.admin))
    assert list(errors) == ["vat_rate_id"] and "Settings" in errors["vat_rate_id"][0]


def test_the_bulk_import_cleans_rows_as_a_single_write(org, rates):
    rows = [
        product_data("SAND-02", name="Sand 0-2 mm", unit="m3", price="32.50"),
        product_data("sand-02", name="Twin in the same file"),
        product_data("REB-12", name="Rebar 12 mm", unit="t", vat_rate_id=rates["zero"].pk),
        product_data("BAD", price="-3"),
    ]
    services.create_product(product_data("CEM-425"), actor=org.admin)
    rows.append(product_data("cem-425", name="Twin of a stored one"))

    result = bulk.import_rows(PRODUCT, rows, actor=org.member_a)

    assert result.created == 2
    assert [(e.row, e.field) for e in result.errors] == [(2, "sku"), (4, "price"), (5, "sku")]
    imported = {p.sku: p for p in Product.objects.filter(sku__in=["SAND-02", "REB-12"])}
    assert imported["SAND-02"].vat_rate == rates["standard"]
    assert imported["REB-12"].vat_rate == rates["zero"]
    assert imported["SAND-02"].owner == org.member_a


def _listed(user, **extra) -> list[str]:
    sort = extra.pop("sort", "")
    return [p.sku for p in PRODUCT.list_query(user, ListFilters(sort=sort, extra=extra))]


def test_the_list_filters_by_status_currency_and_rate_and_sorts_by_price(org, rates):
    make = services.create_product
    make(product_data("A", price="30", currency="USD"), actor=SYSTEM)
    make(product_data("B", price="10", is_active=False), actor=SYSTEM)
    make(product_data("C", price="20", vat_rate_id=rates["reduced"].pk), actor=SYSTEM)

    assert _listed(org.admin, sort="price") == ["B", "C", "A"]
    assert _listed(org.admin, sort="-price") == ["A", "C", "B"]
    assert _listed(org.admin, sort="sku", active="yes") == ["A", "C"]
    assert _listed(org.admin, active="no") == ["B"]
    assert _listed(org.admin, currency="usd") == ["A"]
    assert _listed(org.admin, vat_rate_id=str(rates["reduced"].pk)) == ["C"]
    assert _listed(org.admin, vat_rate_id="x") == []


def test_products_are_in_the_menu_after_the_crm_entries(org):
    entries = [entry for entry, _url in types.menu(org.member_a)]
    labels = [str(entry.menu.label) for entry in entries]
    assert labels.index("Products") == labels.index("Calendar") + 1
    assert "Products" not in [str(e.menu.label) for e, _u in types.menu(org.nobody)]
