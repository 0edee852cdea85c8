from decimal import Decimal

import pytest

from kontor.catalog import services


@pytest.fixture
def rates(org):
    """Germany's rates: standard 19 % (the default, made first), reduced 7 %, zero."""
    return {
        "standard": services.create_vat_rate(
            {"name": "Standard", "rate": "19.00"}, actor=org.admin
        ),
        "reduced": services.create_vat_rate({"name": "Reduced", "rate": "7"}, actor=org.admin),
        "zero": services.create_vat_rate({"name": "Zero", "rate": Decimal("0")}, actor=org.admin),
    }


def product_data(sku="CEM-425", **extra) -> dict:
    return {"sku": sku, "name": "Cement CEM II 42.5, 25 kg", "unit": "bag", "price": "8.90"} | extra
