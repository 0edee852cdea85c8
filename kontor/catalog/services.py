"""Every write of the catalog: VAT rates and products, through the engine's one path
(``kontor.core.services``: permission, validation, write, audit, search, event).

VAT rates: only an administrator (``models.may_manage_vat_rates``) writes them. The
first rate becomes the default; exactly one rate is the default from then on (marking
another moves the mark, audited on both), and the default is active. A rate in use
cannot be deleted (deactivate it instead).

Products: SKU unique whatever its case, a price of at least 0 with two decimals, a
currency of ``settings.KONTOR_CURRENCIES``, an active VAT rate when one is chosen (the
default rate when none is given).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from kontor.core import bulk
from kontor.core import services as records
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id

from . import vat
from .models import MAX_PRICE, Product, VatRate, may_manage_vat_rates, sku_key

# -- input ----------------------------------------------------------------------------------


def as_flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def as_decimal(value) -> Decimal | None:
    """A number as typed ("1250.5", "1 250,50", 19, Decimal) or None if it is none.

    A comma is read as the decimal point, as people in most of Europe type it; spaces
    group thousands. A float goes through its shortest text (0.1 is 0.1, not 0.1000…).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


CENT = Decimal("0.01")


def two_places(value: Decimal) -> Decimal:
    """``value`` with two decimals (7 -> 7.00, as stored and answered) unless that would
    round it or it has too many digits: 1.005 stays as given, for validation to refuse."""
    if value.as_tuple().exponent < -2:
        return value
    try:
        return value.quantize(CENT)
    except InvalidOperation:
        return value


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _check_length(obj, field: str, errors: records.FieldErrors) -> None:
    """The length rule of a field whose validation is left out (its uniqueness, checked
    here per field, would otherwise come back from the model's constraint unkeyed)."""
    limit = obj._meta.get_field(field).max_length
    if len(getattr(obj, field)) > limit:
        errors.add(field, _("At most %(count)d characters.") % {"count": limit})


def _add_model_errors(obj, errors: records.FieldErrors, **kwargs) -> None:
    for field, messages in records.field_errors(obj, **kwargs).items():
        if field not in errors.by_field:
            for message in messages:
                errors.add(field, message)


# -- VAT rates ------------------------------------------------------------------------------


def _require_manager(actor) -> None:
    # Asked before anything is read from the input: who may not write learns nothing.
    if not may_manage_vat_rates(actor):
        raise PermissionDenied()


def _name_taken(rate: VatRate) -> bool:
    # Compared casefolded in Python, so "Основная" is "основная" on SQLite too (its
    # lower() and LIKE fold ASCII letters only); a country has a handful of rates.
    name = rate.name.casefold()
    others = VatRate.objects.exclude(pk=rate.pk).values_list("name", flat=True)
    return any(other.casefold() == name for other in others)


def _apply_vat_rate(rate: VatRate, data: dict, errors: records.FieldErrors) -> bool:
    """Put the input on ``rate``; answer whether it asks to become the default."""
    was_default = rate.pk is not None and rate.is_default
    if "name" in data:
        rate.name = _text(data["name"])
    if "rate" in data:
        value = as_decimal(data["rate"])
        if value is None:
            errors.add("rate", _("Enter a percentage, such as 19 or 7.5."))
        else:
            rate.rate = two_places(value)
    for flag in ("is_active", "is_default"):
        if flag in data:
            setattr(rate, flag, as_flag(data[flag]))
    _check_length(rate, "name", errors)
    if not rate.name:
        errors.add("name", _("This field is required."))
    elif _name_taken(rate):
        errors.add("name", _("A VAT rate with this name exists."))
    if rate.rate is None and "rate" not in errors.by_field:
        errors.add("rate", _("This field is required."))
    if was_default and not rate.is_default:
        errors.add("is_default", _("Mark another rate as the default instead."))
    if rate.is_default and not rate.is_active:
        errors.add("is_active", _("The default rate stays active: make another one the default."))
    _add_model_errors(rate, errors, exclude=["is_default", "name"])
    return rate.is_default and not was_default


def _unmark_other_default(rate: VatRate, *, actor) -> None:
    """The default mark leaves the rate that had it (its own audited change)."""
    for other in VatRate.objects.filter(is_default=True).exclude(pk=rate.pk):

        def unmark(target):
            target.is_default = False

        records.update_record(other, unmark, actor=actor, expected_version=None)


def create_vat_rate(data: dict, *, actor) -> VatRate:
    _require_manager(actor)
    rate = VatRate()
    with transaction.atomic():
        if not VatRate.objects.exists():
            # The first rate is the default: products and lines always have one to take.
            rate.is_default = True
        errors = records.FieldErrors()
        becomes_default = _apply_vat_rate(rate, data, errors)
        errors.raise_if_any()
        if becomes_default:
            _unmark_other_default(rate, actor=actor)
        return records.create_record(rate, actor=actor)


def update_vat_rate(rate: VatRate, data: dict, *, actor, expected_version=None) -> VatRate:
    """Change a rate. Lines made before keep the value they copied (``vat.rate_value``)."""
    _require_manager(actor)

    def apply(target):
        errors = records.FieldErrors()
        becomes_default = _apply_vat_rate(target, data, errors)
        errors.raise_if_any()
        if becomes_default:
            _unmark_other_default(target, actor=actor)

    return records.update_record(rate, apply, actor=actor, expected_version=expected_version)


def delete_vat_rate(rate: VatRate, *, actor, expected_version=None) -> None:
    """Delete a rate nothing uses; the default only when it is the last one."""
    _require_manager(actor)
    if rate.is_default and VatRate.objects.exclude(pk=rate.pk).exists():
        raise ValidationFailed(
            _("This is the default rate: make another rate the default before deleting it.")
        )
    try:
        records.delete_record(rate, actor=actor, expected_version=expected_version)
    except ProtectedError as exc:
        raise ValidationFailed(
            _("This rate is in use (%(count)d records): deactivate it instead.")
            % {"count": len(exc.protected_objects)}
        ) from None


# -- products -------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    "sku",
    "name",
    "unit",
    "price",
    "currency",
    "vat_rate_id",
    "is_active",
    "description",
)
_TEXT_FIELDS = ("sku", "name", "unit", "description")


def _vat_rate_id(product: Product, data: dict, errors: records.FieldErrors, rates) -> None:
    """The chosen rate (an active one, unless the product keeps the one it has), or the
    default rate for a new product given none. ``rates``: id -> rate, read by the caller."""
    if "vat_rate_id" not in data or data["vat_rate_id"] in (None, ""):
        if product.vat_rate_id is None:
            default = rates.get("default")
            if default is None:
                errors.add("vat_rate_id", vat.no_rates_message())
            else:
                product.vat_rate_id = default.pk
        return
    pk = as_db_id(data["vat_rate_id"])
    rate = rates.get(pk) if pk is not None else None
    if rate is None:
        errors.add("vat_rate_id", _("Unknown VAT rate."))
    elif not rate.is_active and rate.pk != product.vat_rate_id:
        errors.add("vat_rate_id", _("This VAT rate is no longer in use: choose another."))
    else:
        product.vat_rate_id = rate.pk


def _rates_for(data: dict) -> dict:
    """The rates an input may name: the one it names and the default, in one read."""
    wanted = (
        as_db_id(data.get("vat_rate_id")) if data.get("vat_rate_id") not in (None, "") else None
    )
    found = VatRate.objects.filter(is_default=True)
    if wanted is not None:
        found = found | VatRate.objects.filter(pk=wanted)
    return _by_id(found)


def _by_id(rates) -> dict:
    by_id: dict = {rate.pk: rate for rate in rates}
    by_id["default"] = next((r for r in by_id.values() if r.is_default), None)
    return by_id


def _apply_product(product: Product, data: dict, errors: records.FieldErrors, rates) -> None:
    for field in _TEXT_FIELDS:
        if field in data:
            setattr(product, field, _text(data[field]))
    product.sku_key = sku_key(product.sku)
    if "price" in data:
        price = as_decimal(data["price"])
        if price is None:
            if _text(data["price"]):
                errors.add("price", _("Enter an amount, such as 1250.00."))
            product.price = None
        elif price > MAX_PRICE:
            errors.add("price", _("Enter an amount of at most %(max)s.") % {"max": MAX_PRICE})
        else:
            product.price = two_places(price)
    if "currency" in data:
        product.currency = _text(data["currency"]).upper()
    if "is_active" in data:
        product.is_active = as_flag(data["is_active"])
    _vat_rate_id(product, data, errors, rates)
    for field in ("sku", "name"):
        if not getattr(product, field):
            errors.add(field, _("This field is required."))
    if product.price is None and "price" not in errors.by_field:
        errors.add("price", _("This field is required."))


def _sku_taken(product: Product) -> bool:
    # Unique across every scope: an SKU names one article of the company's. Someone who
    # cannot see the product learns only that its SKU is taken.
    return Product.objects.filter(sku_key=product.sku_key).exclude(pk=product.pk).exists()


# Checked by the service itself: the model's validation leaves them out.
_CHECKED = ("vat_rate", "sku_key")


def _check_product(product: Product, data: dict, actor, errors: records.FieldErrors) -> None:
    if product.sku and _sku_taken(product):
        errors.add("sku", _("A product with this SKU exists."))
    records.apply_custom_values(product, data, actor, errors)
    _add_model_errors(
        product, errors, exclude=["owner", "department", *_CHECKED], validate_unique=False
    )


def create_product(data: dict, *, actor) -> Product:
    product = Product()
    errors = records.FieldErrors()
    _apply_product(product, data, errors, _rates_for(data))
    records.place_new(product, data, actor, errors)
    _check_product(product, data, actor, errors)
    errors.raise_if_any()
    return records.create_record(product, actor=actor, checked_links=_CHECKED)


def update_product(product: Product, data: dict, *, actor, expected_version=None) -> Product:
    rates = _rates_for(data)

    def apply(target):
        errors = records.FieldErrors()
        _apply_product(target, data, errors, rates)
        records.place_edited(target, data, actor, errors)
        _check_product(target, data, actor, errors)
        errors.raise_if_any()

    return records.update_record(product, apply, actor=actor, expected_version=expected_version)


def delete_product(product: Product, *, actor, expected_version=None) -> None:
    records.delete_record(product, actor=actor, expected_version=expected_version)


class ProductImporter(bulk.Importer):
    """A product's row in a bulk import: the cleaning of a single write, the rates and
    the SKUs already taken read once a batch."""

    checked_elsewhere = _CHECKED

    def start_batch(self, rows: list[dict]) -> None:
        if not hasattr(self, "rates"):
            self.rates = _by_id(VatRate.objects.all())
            self.claimed: set[str] = set()
        keys = {sku_key(_text(row.get("sku"))) for row in rows} - {""}
        self.taken = set(Product.objects.filter(sku_key__in=keys).values_list("sku_key", flat=True))

    def clean(self, obj, data, errors):
        _apply_product(obj, data, errors, self.rates)
        records.apply_custom_values(obj, data, self.actor, errors)
        if obj.sku_key in self.taken or obj.sku_key in self.claimed:
            errors.add("sku", _("A product with this SKU exists."))
        return {}

    def accept(self, obj, related, errors):
        self.claimed.add(obj.sku_key)
