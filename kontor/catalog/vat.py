"""VAT rates as other apps use them: the rates to offer, and the value a new line copies.

A document line (a deal line, a quote line) keeps its own copy of the rate's percentage,
taken from ``rate_value`` when the line is made. Editing or deactivating a rate later
changes new lines only: what a document said stays what it said.

The rates are reference data every signed-in user may read (``VatRate.objects.visible_to``
answers every rate to them), so these helpers take no reader: the service that calls
them has already checked its actor.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from kontor.core.errors import ValidationFailed
from kontor.core.inputs import as_db_id

from .models import VatRate


def default_rate() -> VatRate | None:
    """The rate a new product or line takes unless another is chosen (None: no rates yet)."""
    return VatRate.objects.filter(is_default=True).first()


def offered_rates(keep_id: int | None = None) -> list[VatRate]:
    """The active rates a form offers, default first, and the rate ``keep_id`` (a record's
    current one, deactivated since) so an edit can leave it as it is."""
    rates = VatRate.objects.filter(Q(is_active=True) | Q(pk=keep_id))
    return sorted(rates, key=lambda rate: (not rate.is_default, -rate.rate, rate.name, rate.pk))


def rate_value(vat_rate_id: int | str | None = None, *, field: str = "vat_rate_id") -> Decimal:
    """The percentage a new document line copies: that of the rate ``vat_rate_id``, or of
    the default rate when it is None. An id naming no rate, or no default rate at all,
    is a ``ValidationFailed`` keyed ``field`` (the caller's input name)."""
    if vat_rate_id in (None, ""):
        rate = default_rate()
        if rate is None:
            raise ValidationFailed(errors={field: [no_rates_message()]})
        return rate.rate
    pk = as_db_id(vat_rate_id)
    rate = VatRate.objects.filter(pk=pk).first() if pk is not None else None
    if rate is None:
        raise ValidationFailed(errors={field: [_("Unknown VAT rate.")]})
    return rate.rate


def no_rates_message() -> str:
    return _("There are no VAT rates yet: an administrator adds them in Settings → VAT rates.")
