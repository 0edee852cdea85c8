"""The product form (the engine's record form) and the VAT rate form of the settings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from kontor.accounts.forms import AccessibleForm
from kontor.web.forms import RecordForm

from . import services, vat
from .models import Product


class ProductForm(RecordForm):
    scalar_fields = (*services.PRODUCT_FIELDS, "owner_id", "department_id")
    unit_choices = Product.Unit.choices

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.is_new:
            self.data.setdefault("unit", Product.Unit.PIECE)
            self.data.setdefault("currency", settings.KONTOR_DEFAULT_CURRENCY)
            self.data.setdefault("is_active", "1")
            default = vat.default_rate()
            self.data.setdefault("vat_rate_id", default.pk if default else None)

    def read_record(self, obj) -> None:
        self.data["is_active"] = "1" if obj.is_active else ""

    @property
    def currency_choices(self) -> list[tuple[str, str]]:
        return [(code, code) for code in settings.KONTOR_CURRENCIES]

    @property
    def vat_rate_choices(self) -> list[tuple[int, str]]:
        # The record's own rate stays on offer after it was deactivated.
        kept = self.data.get("vat_rate_id")
        return [(rate.pk, str(rate)) for rate in vat.offered_rates(kept if kept else None)]


class VatRateForm(AccessibleForm):
    """A VAT rate's fields as the settings page shows them; the service validates."""

    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, help_text=gettext_lazy("Standard, Reduced")
    )
    rate = forms.CharField(
        label=gettext_lazy("Rate, %"), max_length=20, help_text=gettext_lazy("19 or 7.5")
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    is_default = forms.BooleanField(
        label=gettext_lazy("Default rate for new products and lines"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, vat_rate=None, **kwargs):
        super().__init__(*args, **kwargs)
        if vat_rate is not None and not self.is_bound:
            self.initial.update(
                name=vat_rate.name,
                rate=vat_rate.rate,
                is_active=vat_rate.is_active,
                is_default=vat_rate.is_default,
                version=vat_rate.version,
            )
