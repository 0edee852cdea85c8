"""A deal's product lines: read from input, priced by ``kontor.core.money``, written as
one list.

A line names a product (one the writer may see) or only a description; from the product
it takes, unless given, its name, unit, list price (when the product is priced in the
deal's currency) and VAT rate. The VAT percentage is copied from the rate when the line
is written (``catalog.vat.rate_value``). While a deal has lines, its amount is their
net total: what the deal is worth before VAT, comparable across rates and countries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from kontor.catalog import vat
from kontor.catalog.models import Product
from kontor.core import money
from kontor.core import services as records
from kontor.core.errors import ValidationFailed
from kontor.core.inputs import as_db_id

from .models import Deal, DealLine

MAX_LINES = 200
LINE_FIELDS = (
    "product_id",
    "description",
    "unit",
    "quantity",
    "unit_price",
    "discount_percent",
    "vat_rate_id",
)
_DESCRIPTION_LENGTH = DealLine._meta.get_field("description").max_length


def line_key(index: int, field: str) -> str:
    """The error key of a line's field, as forms and the API name it: "lines.0.quantity"."""
    return f"lines.{index}.{field}"


@dataclass(frozen=True)
class ParsedLine:
    product_id: int | None
    description: str
    unit: str
    totals: money.LineTotals


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _product(raw, actor, index: int, errors: records.FieldErrors) -> Product | None:
    if _blank(raw):
        return None
    pk = as_db_id(raw)
    product = (
        Product.objects.visible_to(actor).select_related("vat_rate").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if product is None:
        errors.add(line_key(index, "product_id"), _("Unknown product."))
    return product


def _unit_price(row: dict, product: Product | None, currency: str, index: int, errors):
    if not _blank(row.get("unit_price")):
        return row["unit_price"]
    if product is not None and product.currency == currency:
        return product.price
    if product is not None:
        message = _(
            "The product is priced in %(product_currency)s and the deal is in %(currency)s: "
            "enter the unit price."
        ) % {"product_currency": product.currency, "currency": currency}
    else:
        message = _("Enter the unit price.")
    errors.add(line_key(index, "unit_price"), message)
    return None


def _vat_percent(row: dict, product: Product | None, index: int, errors) -> Decimal | None:
    chosen = row.get("vat_rate_id")
    if _blank(chosen) and product is not None:
        return product.vat_rate.rate
    try:
        return vat.rate_value(chosen, field=line_key(index, "vat_rate_id"))
    except ValidationFailed as failed:
        for field, messages in failed.errors.items():
            for message in messages:
                errors.add(field, message)
        return None


def _parse_line(row, index: int, currency: str, actor, errors) -> ParsedLine | None:
    if not isinstance(row, dict):
        errors.add(line_key(index, "description"), _("A line is a set of fields."))
        return None
    found_before = sum(len(messages) for messages in errors.by_field.values())
    product = _product(row.get("product_id"), actor, index, errors)
    if product is None and not _blank(row.get("product_id")):
        return None  # the rest would only repeat that the product is unknown
    description = "" if _blank(row.get("description")) else str(row["description"]).strip()
    if not description and product is not None:
        description = product.name[:_DESCRIPTION_LENGTH]
    if not description:
        errors.add(line_key(index, "description"), _("Describe what is sold, or pick a product."))
    elif len(description) > _DESCRIPTION_LENGTH:
        errors.add(
            line_key(index, "description"),
            _("Enter at most %(count)d characters.") % {"count": _DESCRIPTION_LENGTH},
        )
    unit = "" if _blank(row.get("unit")) else str(row["unit"]).strip()
    if not unit and product is not None:
        unit = product.unit
    if unit and unit not in Product.Unit.values:
        errors.add(line_key(index, "unit"), _("Choose a unit from the list."))
    unit_price = _unit_price(row, product, currency, index, errors)
    vat_percent = _vat_percent(row, product, index, errors)
    quantity = row.get("quantity")
    if _blank(quantity):
        errors.add(line_key(index, "quantity"), _("Enter the quantity."))
    discount = "0" if _blank(row.get("discount_percent")) else row["discount_percent"]
    if sum(len(messages) for messages in errors.by_field.values()) > found_before:
        return None
    try:
        totals = money.line_totals(quantity, unit_price, discount, vat_percent)
    except ValidationFailed as failed:
        for field, messages in failed.errors.items():
            for message in messages:
                errors.add(line_key(index, field), message)
        return None
    return ParsedLine(product.pk if product else None, description, unit, totals)


def parse_lines(rows, currency: str, actor, errors: records.FieldErrors) -> list[ParsedLine]:
    """The lines given, each checked; every problem is an error on its line's field."""
    if not isinstance(rows, list | tuple):
        errors.add("lines", _("Give the lines as a list."))
        return []
    if len(rows) > MAX_LINES:
        errors.add("lines", _("A deal holds at most %(count)d lines.") % {"count": MAX_LINES})
        return []
    parsed = [_parse_line(row, index, currency, actor, errors) for index, row in enumerate(rows)]
    found = [line for line in parsed if line is not None]
    if len(found) == len(parsed) and found:
        try:
            money.document_totals(line.totals for line in found)
        except ValidationFailed as failed:
            for messages in failed.errors.values():
                for message in messages:
                    errors.add("lines", message)
    return found


def write_lines(deal: Deal, lines: list[ParsedLine]) -> None:
    """Replace the deal's lines with ``lines``, in their order."""
    DealLine.objects.filter(deal=deal).delete()
    DealLine.objects.bulk_create(
        DealLine(
            deal=deal,
            position=position,
            product_id=line.product_id,
            description=line.description,
            unit=line.unit,
            quantity=line.totals.quantity,
            unit_price=line.totals.unit_price,
            discount_percent=line.totals.discount_percent,
            vat_rate=line.totals.vat_rate,
            net=line.totals.net,
        )
        for position, line in enumerate(lines, start=1)
    )


def totals_of(lines) -> money.DocumentTotals:
    """The totals of stored lines (``DealLine`` rows), by the money rules."""
    return money.document_totals(line_totals_of(line) for line in lines)


def line_totals_of(line: DealLine) -> money.LineTotals:
    return money.line_totals(line.quantity, line.unit_price, line.discount_percent, line.vat_rate)


def unit_label(unit: str) -> str:
    return str(Product.Unit(unit).label) if unit in Product.Unit.values else unit
