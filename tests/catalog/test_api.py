"""/api/v1/vat-rates and what /api/v1/products adds to the engine's routes."""

from decimal import Decimal

from kontor.catalog import services
from kontor.catalog.models import Product, VatRate

from ..utils.clients import Api
from .conftest import product_data


def test_every_signed_in_user_reads_the_rates_anonymous_gets_401(org, rates):
    listing = Api(org.nobody).get("/vat-rates")
    assert listing.status_code == 200
    assert [(r["name"], r["rate"], r["is_default"]) for r in listing.json()] == [
        ("Standard", "19.00", True),
        ("Reduced", "7.00", False),
        ("Zero", "0.00", False),
    ]
    one = Api(org.member_a).get(f"/vat-rates/{rates['reduced'].pk}")
    assert one.status_code == 200 and one.json()["label"] == "Reduced (7 %)"
    assert one["ETag"] == '"1"'
    assert Api().get("/vat-rates").status_code == 401
    assert Api(org.member_a).get("/vat-rates/987654321").status_code == 404


def test_the_list_narrows_to_active_rates(org, rates):
    services.update_vat_rate(rates["zero"], {"is_active": False}, actor=org.admin)
    names = [r["name"] for r in Api(org.member_a).get("/vat-rates?active=true").json()]
    assert names == ["Standard", "Reduced"]
    names = [r["name"] for r in Api(org.member_a).get("/vat-rates?active=false").json()]
    assert names == ["Zero"]


def test_only_administrators_write_rates(org, rates):
    member = Api(org.sales_head)
    url = f"/vat-rates/{rates['zero'].pk}"
    assert member.post("/vat-rates", {"name": "Mine", "rate": "3"}).status_code == 403
    assert member.patch(url, {"rate": "3", "version": 1}).status_code == 403
    assert member.delete(url).status_code == 403
    # The same answer whatever the id: the routes tell nothing about which rates exist.
    assert member.patch("/vat-rates/987654321", {"rate": "3"}).status_code == 403
    assert VatRate.objects.count() == 3 and VatRate.objects.get(pk=rates["zero"].pk).rate == 0


def test_an_administrator_creates_changes_and_deletes_a_rate(org, rates):
    admin = Api(org.admin)
    made = admin.post("/vat-rates", {"name": "Super reduced", "rate": 2.1})
    assert made.status_code == 201, made.content
    assert made.json()["rate"] == "2.10" and made["ETag"] == '"1"'
    url = f"/vat-rates/{made.json()['id']}"

    changed = admin.patch(url, {"rate": "2.5", "is_default": True, "version": 1})
    assert changed.status_code == 200, changed.content
    assert changed.json()["rate"] == "2.50" and changed.json()["is_default"] is True
    assert VatRate.objects.get(pk=rates["standard"].pk).is_default is False

    assert admin.patch(url, {"rate": "3", "version": 1}).status_code == 409
    assert admin.patch(url, {"rate": "3"}).status_code == 422  # no version: none assumed
    assert admin.patch(url, {"rate": "3"}, **{"If-Match": '"2"'}).status_code == 200
    standard = VatRate.objects.get(pk=rates["standard"].pk)
    services.update_vat_rate(standard, {"is_default": True}, actor=org.admin)
    assert admin.delete(url).status_code == 204
    assert not VatRate.objects.filter(name="Super reduced").exists()


def test_bad_rate_input_is_422_with_the_field_named(org, rates):
    admin = Api(org.admin)
    answer = admin.post("/vat-rates", {"name": "standard", "rate": "150"})
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"name", "rate"} and answer.json()["detail"]
    answer = admin.post("/vat-rates", {"name": "Odd", "rate": "19", "colour": "red"})
    assert answer.status_code == 422
    answer = admin.patch(f"/vat-rates/{rates['standard'].pk}", {"is_active": False, "version": 1})
    assert answer.status_code == 422 and "is_active" in answer.json()["errors"]


def test_a_rate_in_use_is_not_deleted(org, rates):
    services.create_product(product_data(vat_rate_id=rates["zero"].pk), actor=org.admin)
    answer = Api(org.admin).delete(f"/vat-rates/{rates['zero'].pk}")
    assert answer.status_code == 422 and "deactivate" in answer.json()["detail"]
    assert VatRate.objects.filter(pk=rates["zero"].pk).exists()


# -- products -------------------------------------------------------------------------------


def test_a_product_reads_back_money_as_decimal_text_with_its_rate(org, rates):
    made = Api(org.member_a).post(
        "/products", product_data(price=1250.5, vat_rate_id=rates["reduced"].pk)
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["price"] == "1250.50" and body["currency"] == "EUR"
    assert body["vat_rate"] == {"id": rates["reduced"].pk, "name": "Reduced", "rate": "7.00"}
    assert (body["unit"], body["unit_label"]) == ("bag", "bag")
    assert Product.objects.get(pk=body["id"]).price == Decimal("1250.50")


def test_product_faults_are_422_naming_each_field(org, rates):
    api = Api(org.member_a)
    api.post("/products", product_data("CEM-425"))
    answer = api.post(
        "/products",
        product_data("cem-425", price="-5", currency="XYZ", unit="barrel", vat_rate_id=987654321),
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"sku", "price", "currency", "unit", "vat_rate_id"}
    assert Product.objects.count() == 1


def test_the_products_list_filters_in_the_api(org, rates):
    api = Api(org.admin)
    api.post("/products", product_data("A", currency="USD"))
    api.post("/products", product_data("B", is_active=False, vat_rate_id=rates["zero"].pk))

    def skus(query):
        answer = api.get(f"/products?{query}")
        assert answer.status_code == 200, answer.content
        return [item["sku"] for item in answer.json()["items"]]

    assert skus("active=yes") == ["A"]
    assert skus("currency=USD") == ["A"]
    assert skus(f"vat_rate_id={rates['zero'].pk}") == ["B"]
    assert skus("sort=-sku") == ["B", "A"]
    assert skus("q=A") == ["A"]
    assert api.get("/products?sort=colour").status_code == 422


def test_a_product_takes_custom_fields_like_any_record(org, rates):
    from kontor.core.customfields import services as fields

    fields.create_field(
        actor=org.admin,
        object_type="catalog.product",
        name="weight_kg",
        label="Weight, kg",
        kind="decimal",
        minimum="0",
    )
    api = Api(org.member_a)
    made = api.post("/products", product_data("A", custom={"weight_kg": "25.5"}))
    assert made.status_code == 201, made.content
    assert made.json()["custom"] == {"weight_kg": "25.5"}
    refused = api.post("/products", product_data("B", custom={"weight_kg": "-1"}))
    assert refused.status_code == 422 and "custom.weight_kg" in refused.json()["errors"]
    api.post("/products", product_data("C"))
    heavy = api.get("/products?custom=weight_kg__gt:20").json()["items"]
    assert [item["sku"] for item in heavy] == ["A"]
