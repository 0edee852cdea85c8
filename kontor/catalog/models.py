"""The catalog: VAT rates an administrator keeps, and products (a record type on the engine).

A VAT rate belongs to no owner or department: every signed-in user reads the rates (a
product form and a deal line pick one), only an administrator writes them. A document
line copies a rate's value when it is made (``catalog.vat.rate_value``), so changing a
rate changes new documents only.

A product is a record like a task: owned, placed in a department, scoped by it. The ERP
will extend it (stock, purchase prices); here it is what a deal line or a quote needs.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.access import Scope, ScopedQuerySet, scope_for
from kontor.core.models import BusinessRecord

VAT_RATE_TYPE = "catalog.vatrate"
MAX_VAT_PERCENT = Decimal("99.99")
MAX_PRICE = Decimal("999999999999.99")  # 14 digits, 2 after the point


def may_manage_vat_rates(user) -> bool:
    """Superusers and roles granted "edit" on catalog.vatrate with scope "all" (the
    built-in admin, through its "*" grants): rates belong to no department."""
    return scope_for(user, VAT_RATE_TYPE, "edit") == Scope.ALL


class VatRateQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view", *, sorted_page: bool = False):
        """Every signed-in user reads the rates (a form offers them, a line copies one);
        any other action is an administrator's."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if action == "view" or may_manage_vat_rates(user):
            return self
        return self.none()


def percent_text(value: Decimal) -> str:
    """19.00 -> "19", 7.50 -> "7.5": a rate as people write it."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class VatRate(models.Model):
    """A VAT rate of the company's country ("Standard", 19.00 %); one is the default."""

    access_owner_field = None
    access_department_field = None

    name = models.CharField(_("name"), max_length=100)
    # A percentage: 19.00 means 19 %.
    rate = models.DecimalField(
        _("rate, %"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_VAT_PERCENT)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = VatRateQuerySet.as_manager()

    class Meta:
        ordering = ["-rate", "name", "id"]
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="vat_rate_name_unique",
                violation_error_message=_("A VAT rate with this name exists."),
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="vat_rate_one_default",
                violation_error_message=_("Another VAT rate is the default."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({percent_text(self.rate)} %)"


def sku_key(sku: str) -> str:
    return sku.casefold()


def default_currency() -> str:
    return settings.KONTOR_DEFAULT_CURRENCY


def validate_currency(value: str) -> None:
    if value not in settings.KONTOR_CURRENCIES:
        raise ValidationError(
            _("Choose one of: %(codes)s.") % {"codes": ", ".join(settings.KONTOR_CURRENCIES)},
            code="currency",
        )


class Product(BusinessRecord):
    """Something the company sells, at a list price in one currency, with its VAT rate."""

    class Unit(models.TextChoices):
        PIECE = "pc", pgettext_lazy("unit", "pc")
        METRE = "m", pgettext_lazy("unit", "m")
        SQUARE_METRE = "m2", pgettext_lazy("unit", "m²")
        CUBIC_METRE = "m3", pgettext_lazy("unit", "m³")
        KILOGRAM = "kg", pgettext_lazy("unit", "kg")
        TONNE = "t", pgettext_lazy("unit", "t")
        LITRE = "l", pgettext_lazy("unit", "l")
        BAG = "bag", pgettext_lazy("unit", "bag")
        ROLL = "roll", pgettext_lazy("unit", "roll")
        PACK = "pack", pgettext_lazy("unit", "pack")
        PALLET = "pallet", pgettext_lazy("unit", "pallet")

    sku = models.CharField(_("SKU"), max_length=64)
    # The SKU casefolded, set with it by the services: one SKU whatever its case
    # ("cem-425" is "CEM-425", "арт-1" is "АРТ-1"), told alike on SQLite and PostgreSQL
    # (SQLite's lower() folds ASCII letters only) and looked up by an equality.
    sku_key = models.CharField(max_length=128, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=255)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(
        _("price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=default_currency, validators=[validate_currency]
    )
    vat_rate = models.ForeignKey(
        VatRate, verbose_name=_("VAT rate"), on_delete=models.PROTECT, related_name="products"
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    name_fields = ("name",)  # what ``str()`` reads (core.types.select_names)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="product_name"),
            models.Index(fields=["sku", "id"], name="product_sku"),
            models.Index(fields=["price", "id"], name="product_price"),
            models.Index(fields=["department", "name", "id"], name="product_dept_name"),
            models.Index(fields=["updated_at", "id"], name="product_updated"),
        ]

    def __str__(self):
        return self.name

    def search_text(self) -> str:
        return f"{self.sku} {self.name} {self.description}"

    def audit_snapshot(self) -> dict:
        from kontor.core.services import field_snapshot

        snap = field_snapshot(self)
        del snap["sku_key"]  # the SKU says it
        return snap

    @property
    def unit_label(self) -> str:
        try:
            return str(self.Unit(self.unit).label)
        except ValueError:
            return self.unit
