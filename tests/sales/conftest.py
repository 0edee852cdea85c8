"""Sales fixtures: a small catalogue and deal lines worked out by hand, and the deals with
stage histories that the report tests share (test_reports.py)."""

import pytest

from kontor.catalog import services as catalog

from ..catalog.conftest import product_data
from .test_reports import history  # noqa: F401 (a fixture)


@pytest.fixture
def catalogue(org, rates):
    """Cement (bag, 8.90 EUR, 19 %), a book (pc, 12.00 EUR, 7 %) and a USD-priced pump."""
    return {
        "cement": catalog.create_product(product_data(), actor=org.admin),
        "book": catalog.create_product(
            product_data(
                "BK-1",
                name="Building code handbook",
                unit="pc",
                price="12.00",
                vat_rate_id=rates["reduced"].pk,
            ),
            actor=org.admin,
        ),
        "pump": catalog.create_product(
            product_data("PMP-9", name="Concrete pump", unit="pc", price="999", currency="USD"),
            actor=org.admin,
        ),
    }


def lines_for(catalogue, rates):
    """Three lines with discounts and two VAT rates; their figures worked out by hand:
    - 37 bags × 8.90 = 329.30, less 7.5 % = 304.6025 → 304.60 (19 %)
    - 3 × 12.00 = 36.00, less 0 → 36.00 (7 %)
    - 2.5 m³ × 101.99 = 254.975 → 254.98, less 12.25 % = 223.744... → 223.74 (19 %)
    Net 564.34; VAT 19 % on 528.34 = 100.3846 → 100.38; 7 % on 36.00 = 2.52;
    VAT 102.90; gross 667.24."""
    return [
        {"product_id": catalogue["cement"].pk, "quantity": "37", "discount_percent": "7.5"},
        {"product_id": catalogue["book"].pk, "quantity": 3},
        {
            "description": "Ready-mix concrete C25/30",
            "unit": "m3",
            "quantity": "2.5",
            "unit_price": "101.99",
            "discount_percent": "12.25",
            "vat_rate_id": rates["standard"].pk,
        },
    ]
