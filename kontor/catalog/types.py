"""Products on the engine: list, detail, forms, API, export, search, audit come from it."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.inputs import as_db_id
from kontor.core.money import currency_filter, currency_grouping
from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    Filter,
    FilterKind,
    MenuEntry,
    RecordType,
    Verbs,
)

from . import schemas, services
from .models import Product, VatRate


def price_text(product: Product) -> str:
    """The price as the reader's language writes money, with its currency: 1,250.00 EUR."""
    amount = formats.number_format(product.price, 2, use_l10n=True, force_grouping=True)
    return f"{amount} {product.currency}"


def _yes_no_options(user):
    return [("yes", _("Active")), ("no", _("Inactive"))]


def _by_active(qs, user, value):
    if value in ("yes", "no"):
        return qs.filter(is_active=value == "yes")
    return qs.none()


def _vat_rate_options(user):
    return [(str(rate.pk), str(rate)) for rate in VatRate.objects.visible_to(user)]


def _by_vat_rate(qs, user, value):
    pk = as_db_id(value)
    return qs.filter(vat_rate_id=pk) if pk is not None else qs.none()


class ProductType(RecordType):
    model = Product
    verbs = Verbs(services.create_product, services.update_product, services.delete_product)
    name = "product"
    path = "products"
    namespace = "catalog"
    singular = _("product")
    plural = _("products")
    # A catalog: after the CRM's own entries (people 10, companies 20, tasks 30,
    # calendar 35), before anything an install defines (custom objects, 500).
    menu = MenuEntry(_("Products"), order=40)
    sorts = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "sku": ("sku", "id"),
        "-sku": ("-sku", "-id"),
        "price": ("price", "id"),
        "-price": ("-price", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    groups = (currency_grouping(),)
    filters = (
        Filter(
            "active",
            _("Status"),
            FilterKind.CHOICE,
            _by_active,
            options=_yes_no_options,
            description="yes: active products only; no: inactive ones only",
        ),
        currency_filter(),
        Filter(
            "vat_rate_id",
            _("VAT rate"),
            FilterKind.CHOICE,
            _by_vat_rate,
            options=_vat_rate_options,
            description="A VAT rate's id (/api/v1/vat-rates)",
        ),
    )
    profile_template = "catalog/_product_profile.html"
    subtitle_template = "catalog/_product_subtitle.html"
    form_template = "catalog/_product_fields.html"
    hidden_name = _("a product you cannot see")
    unknown_text = _("Unknown product.")
    mine_label = _("My products")
    new_label = _("New product")
    search_placeholder = _("Search SKU, name…")
    empty_title = _("No products yet")
    first_label = _("Add the first product")
    empty_text = _("Keep what you sell with its SKU, unit, price and VAT rate.")
    search = {
        "label": _("Products"),
        "ordering": ("name", "id"),
        "code": 8,
        "subtitle": lambda product: product.sku,
    }
    search_description = "SKU, name, description"
    out_schema = schemas.ProductOut
    create_schema = schemas.ProductIn
    patch_schema = schemas.ProductPatch

    @property
    def form_class(self):
        from .forms import ProductForm

        return ProductForm

    @property
    def columns(self):
        return (
            Column("name", pgettext_lazy("product", "Name"), CellKind.TITLE, str, sort="name"),
            Column("sku", _("SKU"), CellKind.TEXT, lambda p: p.sku, sort="sku"),
            Column("unit", _("Unit"), CellKind.TEXT, lambda p: p.unit_label),
            Column("price", _("Price"), CellKind.TEXT, price_text, sort="price"),
            Column("vat_rate", _("VAT rate"), CellKind.TEXT, lambda p: p.vat_rate),
            Column("active", _("Status"), CellKind.TEXT, _status_cell),
            Column("updated", _("Updated"), CellKind.DATE, lambda p: p.updated_at, "updated"),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda p, extra: p.pk),
        ExportColumn(_("SKU"), lambda p, extra: p.sku),
        ExportColumn(pgettext_lazy("product", "Name"), lambda p, extra: p.name),
        ExportColumn(_("Unit"), lambda p, extra: p.unit_label),
        ExportColumn(_("Price"), lambda p, extra: p.price),
        ExportColumn(_("Currency"), lambda p, extra: p.currency),
        ExportColumn(_("VAT rate"), lambda p, extra: p.vat_rate.name),
        ExportColumn(_("VAT, %"), lambda p, extra: p.vat_rate.rate),
        ExportColumn(_("Active"), lambda p, extra: p.is_active),
        ExportColumn(_("Description"), lambda p, extra: p.description),
        ExportColumn(_("Owner"), lambda p, extra: str(p.owner or "")),
        ExportColumn(_("Department"), lambda p, extra: str(p.department or "")),
        ExportColumn(_("Created"), lambda p, extra: p.created_at),
    )

    def base_queryset(self, user, action, *, sorted_page=False):
        qs = super().base_queryset(user, action, sorted_page=sorted_page)
        return qs.select_related("vat_rate")

    def row_class(self, obj) -> str:
        return "" if obj.is_active else "muted"

    def quick_filters(self, user):
        return [(_("Active"), {"active": "yes"}), (_("Inactive"), {"active": "no"})]

    def importer(self, actor):
        return services.ProductImporter(self, actor)

    def to_out(self, obj) -> dict:
        return schemas.product_out(obj)


def _status_cell(product: Product) -> str:
    return _("Active") if product.is_active else _("Inactive")


PRODUCT = ProductType()
