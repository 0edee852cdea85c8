"""B. Company's catalog: its VAT rates and about 60 building materials at list prices.

Purchasing keeps the price list (the head of purchasing owns every product); the rest of
the company reads it through a demo role, "Catalog reader", since the built-in member
sees only their own department's records. Rates are made only on an install without
any (an install's own rates are its country's); every product takes the default rate.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from kontor.core import bulk
from kontor.core.access import SYSTEM, Action, Scope

from . import services, vat
from .types import PRODUCT

KEEPER = "Purchasing"  # the demo department that keeps the catalog
READER = "Catalog reader"
READER_DESCRIPTION = "Reads the whole product catalog, whoever keeps it."
READER_GRANTS = [("catalog.product", Action.VIEW, Scope.ALL)]

# Germany's rates: B. Company invoices from Berlin.
RATES = [("Standard", Decimal("19.00")), ("Reduced", Decimal("7.00")), ("Zero", Decimal("0"))]

# (SKU, name, unit, price in the default currency, description)
PRODUCTS = [
    ("CEM-32-25", "Portland cement CEM I 32.5 R, 25 kg", "bag", "6.20", ""),
    ("CEM-42-25", "Portland cement CEM I 42.5 R, 25 kg", "bag", "7.40", ""),
    ("CEM-42-BULK", "Portland cement CEM I 42.5 R, bulk", "t", "138.00", "Silo truck, 25 t"),
    ("CEM-WHT-25", "White cement CEM I 52.5, 25 kg", "bag", "17.90", ""),
    ("MRT-M5-40", "Masonry mortar M5, 40 kg", "bag", "8.60", ""),
    ("PLS-GYP-30", "Gypsum plaster, 30 kg", "bag", "11.80", "Machine and hand application"),
    ("SCR-CT20-40", "Cement screed CT-C20, 40 kg", "bag", "5.90", ""),
    ("ADH-TILE-25", "Tile adhesive C2TE, 25 kg", "bag", "14.50", "Flexible, for floor heating"),
    ("GRT-CG2-5", "Tile grout CG2, grey, 5 kg", "bag", "9.90", ""),
    ("SND-02", "Washed sand 0-2 mm", "m3", "32.00", "Delivered by tipper"),
    ("SND-04", "Concrete sand 0-4 mm", "m3", "29.50", ""),
    ("GRV-816", "Gravel 8-16 mm", "m3", "36.00", ""),
    ("GRV-1632", "Gravel 16-32 mm", "m3", "34.50", ""),
    ("CRS-032", "Crushed stone 0-32 mm, base course", "m3", "27.00", ""),
    ("RMC-C2530", "Ready-mix concrete C25/30", "m3", "118.00", "Pump on request"),
    ("RMC-C3037", "Ready-mix concrete C30/37", "m3", "126.00", ""),
    ("REB-B500-8", "Rebar B500B, 8 mm", "t", "895.00", "12 m bars"),
    ("REB-B500-12", "Rebar B500B, 12 mm", "t", "870.00", "12 m bars"),
    ("REB-B500-16", "Rebar B500B, 16 mm", "t", "865.00", "12 m bars"),
    ("MSH-Q188", "Reinforcing mesh Q188A, 6 x 2.3 m", "pc", "39.80", ""),
    ("MSH-Q335", "Reinforcing mesh Q335A, 6 x 2.3 m", "pc", "68.50", ""),
    ("WIR-TIE-20", "Binding wire, 1.4 mm, 20 kg coil", "pc", "42.00", ""),
    ("BRK-FAC-RED", "Facing brick, red, NF", "pallet", "412.00", "480 bricks"),
    ("BRK-FAC-ANT", "Facing brick, anthracite, NF", "pallet", "498.00", "480 bricks"),
    ("BRK-CLY-2DF", "Clay block 2DF", "pallet", "265.00", "240 blocks"),
    ("BLK-AAC-24", "Aerated concrete block, 240 mm", "pallet", "389.00", "1.44 m³"),
    ("BLK-AAC-10", "Aerated concrete partition block, 100 mm", "pallet", "296.00", ""),
    ("BLK-CSS-24", "Calcium silicate block, 240 mm", "pallet", "342.00", ""),
    ("BLK-CON-HOL", "Hollow concrete block, 175 mm", "pallet", "228.00", "90 blocks"),
    ("PBD-125-STD", "Plasterboard 12.5 mm, 1.2 x 2.6 m", "pc", "7.90", ""),
    ("PBD-125-IMP", "Plasterboard 12.5 mm, moisture-resistant", "pc", "11.40", ""),
    ("PBD-125-FIR", "Plasterboard 12.5 mm, fire-resistant", "pc", "12.60", ""),
    ("PRF-CW50", "Drywall stud CW 50, 2.6 m", "pc", "3.10", ""),
    ("PRF-UW50", "Drywall track UW 50, 4 m", "pc", "4.20", ""),
    ("INS-MW-100", "Mineral wool roll, 100 mm", "roll", "38.50", "6 m² a roll"),
    ("INS-MW-50", "Mineral wool roll, 50 mm", "roll", "29.90", "9 m² a roll"),
    ("INS-EPS-100", "EPS facade board 035, 100 mm", "m2", "9.80", ""),
    ("INS-XPS-80", "XPS perimeter board, 80 mm", "m2", "17.40", ""),
    ("INS-PIR-120", "PIR roof board, 120 mm", "m2", "27.90", ""),
    ("MEM-BIT-4", "Bitumen membrane, 4 mm, 10 m²", "roll", "64.00", ""),
    ("MEM-VAP-75", "Vapour barrier foil, 75 m²", "roll", "52.00", ""),
    ("MEM-DPC-30", "Damp-proof course, 300 mm x 25 m", "roll", "18.50", ""),
    ("WPF-ELA-15", "Elastic waterproofing slurry, 15 kg", "pack", "49.00", ""),
    ("TIL-POR-60", "Porcelain floor tile, grey, 60 x 60 cm", "m2", "24.90", ""),
    ("TIL-CER-WHT", "Ceramic wall tile, white, 30 x 60 cm", "m2", "16.50", ""),
    ("TIL-OUT-R11", "Outdoor tile R11, 60 x 60 x 2 cm", "m2", "39.00", ""),
    ("ROF-CON-RED", "Concrete roof tile, red", "m2", "19.80", "10 tiles a m²"),
    ("ROF-CLY-ANT", "Clay roof tile, anthracite", "m2", "31.50", ""),
    ("ROF-MTL-05", "Metal roof sheet, 0.5 mm, RAL 7016", "m2", "14.90", ""),
    ("GUT-PVC-125", "PVC gutter 125 mm, 4 m", "pc", "21.00", ""),
    ("TMB-KVH-60", "Structural timber KVH 60 x 120 mm", "m", "5.90", ""),
    ("TMB-BTN-30", "Roof batten 30 x 50 mm", "m", "0.95", ""),
    ("OSB-3-18", "OSB/3 board 18 mm, 2.5 x 1.25 m", "pc", "31.90", ""),
    ("PLY-BIR-18", "Birch plywood 18 mm, 2.5 x 1.25 m", "pc", "74.00", ""),
    ("PAV-GRY-8", "Concrete paving stone, grey, 80 mm", "m2", "18.90", ""),
    ("KRB-100-25", "Kerbstone 100 x 25 x 15 cm", "pc", "9.40", ""),
    ("PIP-KG-110", "Sewer pipe KG 110 mm, 2 m", "pc", "12.80", ""),
    ("PIP-KG-160", "Sewer pipe KG 160 mm, 2 m", "pc", "23.50", ""),
    ("PNT-FAC-15", "Facade paint, white, 15 l", "pack", "89.00", ""),
    ("PRM-DEP-10", "Deep primer, 10 l", "pack", "27.50", ""),
    ("FST-SCR-TN35", "Drywall screws TN 3.5 x 35, 1000 pcs", "pack", "11.90", ""),
    ("PAL-EURO", "Euro pallet, returnable deposit", "pallet", "15.00", "Refunded on return"),
]


def load(owner) -> int:
    """The rates (on an install without any) and the products, owned by ``owner`` in their
    department; answer how many products were written."""
    if vat.default_rate() is None:
        for name, rate in RATES:
            services.create_vat_rate({"name": name, "rate": rate}, actor=SYSTEM)
    rows = [
        {
            "sku": sku,
            "name": name,
            "unit": unit,
            "price": price,
            "currency": settings.KONTOR_DEFAULT_CURRENCY,
            "description": description,
            "owner_id": owner.pk,
            "department_id": owner.department_id,
        }
        for sku, name, unit, price, description in PRODUCTS
    ]
    result = bulk.import_rows(PRODUCT, rows, actor=SYSTEM)
    if result.errors:
        raise RuntimeError(f"demo data rejected: {result.errors[:5]}")
    return result.created
