"""Money: amounts in ``Decimal`` to the cent, the currencies an install uses, and the totals
of a commercial document (lines, VAT breakdown per rate, net, VAT, gross).

Rounding rules (docs/architecture.md, "Money"), the same for every document:

1. A line's net is quantity × unit price less the discount, computed exactly and rounded
   half-up to the cent once.
2. The document's net is the sum of the line nets (already in cents: no rounding).
3. VAT is computed per rate on the sum of that rate's line nets and rounded half-up to the
   cent, as an EU invoice's VAT breakdown shows it; never per line.
4. Total VAT is the sum of the rates' VAT; gross = net + VAT.

Nothing here touches a float: a float handed in is a programming error (TypeError), as
0.1 + 0.2 != 0.3 would put wrong cents on a document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from .errors import ValidationFailed

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# The largest amount anywhere on a document: 12 digits before the point fit a
# DecimalField(max_digits=14, decimal_places=2) on every database.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_QUANTITY = Decimal("999999999.999")
AMOUNT_PLACES = 2
QUANTITY_PLACES = 3
PERCENT_PLACES = 2
# Exact arithmetic, whatever context a caller set: quantity (3 places) × price (2) ×
# percentage (2, /100) has at most 9 places and 24 digits; 50 leaves no rounding.
_EXACT = Context(prec=50, rounding=ROUND_HALF_UP)
# Digits, one decimal point or comma; spaces (also no-break and narrow no-break) and
# apostrophes may group thousands as people type them: "1 234,50", "1'234.50".
_TYPED_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d*)?|[+-]?[.,]\d+")
_GROUPING = str.maketrans("", "", " \u00a0\u202f'")


def _exact(function):
    """Runs ``function`` in the exact context, whatever context its caller set."""

    @functools.wraps(function)
    def in_exact_context(*args, **kwargs):
        with localcontext(_EXACT):
            return function(*args, **kwargs)

    return in_exact_context


def currencies() -> list[str]:
    """The ISO 4217 codes an install uses (``KONTOR_CURRENCIES``), the default first."""
    return list(settings.KONTOR_CURRENCIES)


def _by_currency(qs, user, value):
    return qs.filter(currency=str(value).strip().upper())


def currency_filter():
    """The list filter of a record type whose records carry a ``currency``: a select of
    the install's currencies."""
    from django.utils.translation import gettext_lazy

    from .types import Filter, FilterKind

    return Filter(
        "currency",
        gettext_lazy("Currency"),
        FilterKind.CHOICE,
        _by_currency,
        options=lambda user: currencies(),
        description="An ISO 4217 code: EUR",
    )


def currency_grouping():
    """The list grouping of a record type whose records carry a ``currency``: a group per
    currency, which ``currency_filter`` opens."""
    from django.utils.translation import gettext_lazy

    from .grouping import by_choice

    return by_choice("currency", gettext_lazy("Currency"), "currency", ())


def default_currency() -> str:
    return settings.KONTOR_DEFAULT_CURRENCY


def parse_currency(value, *, field: str = "currency") -> str:
    """``value`` as one of the install's currency codes (any case, spaces trimmed)."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in currencies():
        raise ValidationFailed(
            errors={
                field: [
                    _("Choose one of the currencies %(codes)s.")
                    % {"codes": ", ".join(currencies())}
                ]
            }
        )
    return code


def _decimal(value, field: str) -> Decimal:
    """``value`` (Decimal, int or typed text) as a finite Decimal, or a field error."""
    if isinstance(value, float):
        raise TypeError(f"{field}: a float cannot hold money exactly; pass a Decimal or text")
    if isinstance(value, bool):
        raise TypeError(f"{field}: a bool is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationFailed(errors={field: [_("Enter a number.")]})
        return value
    text = value.strip().translate(_GROUPING) if isinstance(value, str) else None
    if not text:
        raise ValidationFailed(errors={field: [_("Enter a number.")]})
    if not _TYPED_NUMBER.fullmatch(text):
        raise ValidationFailed(errors={field: [_("Enter a number, such as 1234.50.")]})
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise ValidationFailed(errors={field: [_("Enter a number.")]}) from None


@_exact
def _bounded(
    value, field: str, *, places: int, minimum: Decimal, maximum: Decimal, allow_minimum=True
) -> Decimal:
    number = _decimal(value, field)
    # The range first: quantizing an absurd 1E+40 would overflow the context.
    if number > maximum:
        raise ValidationFailed(
            errors={field: [_("Enter a number of at most %(maximum)s.") % {"maximum": maximum}]}
        )
    if number < minimum or (number == minimum and not allow_minimum):
        if minimum == 0 and not allow_minimum:
            message = _("Enter a number greater than zero.")
        else:
            message = _("Enter a number of at least %(minimum)s.") % {"minimum": minimum}
        raise ValidationFailed(errors={field: [message]})
    step = Decimal(1).scaleb(-places)
    if number != number.quantize(step):
        raise ValidationFailed(
            errors={
                field: [
                    _("Enter at most %(places)d digits after the decimal point.")
                    % {"places": places}
                ]
            }
        )
    # Normalised to its places: Decimal("2.5") and Decimal("2.50") print alike.
    return number.quantize(step)


def parse_amount(value, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """An amount of money to the cent: at most 2 decimal places, never silently rounded.

    Accepts a Decimal, an int or what a person typed ("1 234,50", "-3.5"). Bad input is
    ValidationFailed with a message under ``field``.
    """
    minimum = -MAX_AMOUNT if allow_negative else Decimal(0)
    return _bounded(value, field, places=AMOUNT_PLACES, minimum=minimum, maximum=MAX_AMOUNT)


def parse_quantity(value, *, field: str = "quantity") -> Decimal:
    """A quantity on a document line: more than zero, at most 3 decimal places (2.125 m³)."""
    return _bounded(
        value,
        field,
        places=QUANTITY_PLACES,
        minimum=Decimal(0),
        maximum=MAX_QUANTITY,
        allow_minimum=False,
    )


def parse_percent(value, *, field: str) -> Decimal:
    """A percentage from 0 to 100 with at most 2 decimal places (a discount, a VAT rate)."""
    return _bounded(value, field, places=PERCENT_PLACES, minimum=Decimal(0), maximum=HUNDRED)


@_exact
def round_cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent (0.005 -> 0.01), the one rounding of money."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _within_limit(amount: Decimal, field: str) -> Decimal:
    if abs(amount) > MAX_AMOUNT:
        raise ValidationFailed(
            errors={
                field: [
                    _("The total exceeds the largest amount a document holds, %(maximum)s.")
                    % {"maximum": MAX_AMOUNT}
                ]
            }
        )
    return amount


@dataclass(frozen=True)
class LineTotals:
    """One document line's figures: the inputs as validated and its net to the cent."""

    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    # quantity × unit price, rounded to the cent: what the line costs before its discount.
    list_amount: Decimal
    # list_amount - net: the discount in money (so list_amount - discount == net).
    discount: Decimal
    net: Decimal


@dataclass(frozen=True)
class VatRateTotal:
    """One row of the VAT breakdown: the net of every line at ``rate`` and its VAT."""

    rate: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class DocumentTotals:
    """A document's totals: the line nets summed, VAT per rate (ascending), gross."""

    net: Decimal
    vat_breakdown: tuple[VatRateTotal, ...]
    vat: Decimal
    gross: Decimal


@_exact
def line_totals(quantity, unit_price, discount_percent, vat_rate_percent) -> LineTotals:
    """A line's net: quantity × unit price less ``discount_percent`` %, rounded half-up to
    the cent once (rule 1). Inputs are validated as ``parse_quantity``, ``parse_amount``
    and ``parse_percent`` do; field errors are named after the parameters."""
    quantity = parse_quantity(quantity, field="quantity")
    unit_price = parse_amount(unit_price, field="unit_price")
    discount_percent = parse_percent(discount_percent, field="discount_percent")
    vat_rate = parse_percent(vat_rate_percent, field="vat_rate")
    exact_list = quantity * unit_price
    exact_net = exact_list * (HUNDRED - discount_percent) / HUNDRED
    list_amount = _within_limit(round_cents(exact_list), "quantity")
    net = round_cents(exact_net)
    return LineTotals(
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount_percent,
        vat_rate=vat_rate,
        list_amount=list_amount,
        discount=list_amount - net,
        net=net,
    )


@_exact
def document_totals(lines: Iterable[LineTotals]) -> DocumentTotals:
    """The totals of a document of ``lines`` (from ``line_totals``), rules 2 to 4.

    A document without lines totals zero, with an empty breakdown.
    """
    net_per_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        net_per_rate[line.vat_rate] = net_per_rate.get(line.vat_rate, Decimal("0.00")) + line.net
    breakdown = []
    for rate in sorted(net_per_rate):
        rate_net = net_per_rate[rate]
        vat = round_cents(rate_net * rate / HUNDRED)
        breakdown.append(VatRateTotal(rate=rate, net=rate_net, vat=vat))
    net = _within_limit(sum((row.net for row in breakdown), Decimal("0.00")), "lines")
    vat = sum((row.vat for row in breakdown), Decimal("0.00"))
    gross = _within_limit(net + vat, "lines")
    return DocumentTotals(net=net, vat_breakdown=tuple(breakdown), vat=vat, gross=gross)


def format_number(value: Decimal, places: int = AMOUNT_PLACES) -> str:
    """``value`` with ``places`` decimals in the active language's format ("1 234,50" in
    Russian and French, "1,234.50" in English)."""
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def format_quantity(value: Decimal) -> str:
    """A quantity with as many decimals as it has, no needless zeros: 2.500 -> "2.5"."""
    return format_number(value, max(0, -value.normalize().as_tuple().exponent))


def format_money(amount: Decimal, currency: str) -> str:
    """An amount with its currency code, in the active language's format: "1,234.50 EUR"."""
    return f"{format_number(amount)} {currency}"


def format_percent(value: Decimal) -> str:
    """A rate or discount without needless zeros: 20 -> "20 %", 12.5 -> "12.5 %" (language
    decides the point)."""
    places = max(0, -value.normalize().as_tuple().exponent)
    return f"{formats.number_format(value, places, use_l10n=True)}\u00a0%"
