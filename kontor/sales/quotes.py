"""Quotes: a deal's lines issued as a numbered PDF, stored as a document on the deal.

A quote is numbered per calendar year of its date ("Q-2026-0001", "Q-2026-0002", ...,
and "Q-2027-0001" on the new year). It freezes the lines and totals as issued (a later
change of the deal's lines or of a VAT rate leaves it as it was) and its PDF is an
attachment of the deal (Documents tab, audited like any upload). Whoever may edit the
deal may issue a quote; whoever may see the deal sees its quotes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.contacts.models import Address, Company, Person
from kontor.core import files, money
from kontor.core.access import Action, require
from kontor.core.errors import ValidationFailed
from kontor.documents import pdf
from kontor.documents.services import seller

from . import lines as deal_lines
from .models import Deal, DealLine, Quote

NUMBER_PREFIX = "Q"
# A quote stays valid this long unless the issuer says otherwise.
DEFAULT_VALID_DAYS = 30
MAX_NOTES = 2000
# Attempts at the next number when another quote took it meanwhile (PostgreSQL).
NUMBER_ATTEMPTS = 5


def quote_number(year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{sequence:04d}"


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _address_text(address: Address | None) -> str:
    if address is None:
        return ""
    town = " ".join(part for part in (address.postal_code, address.city) if part)
    rows = (address.street, town, address.region, address.country)
    return "\n".join(row for row in rows if row)


def _address_of(owner_field: str, owner_id: int) -> Address | None:
    # The billing address when there is one, otherwise the first one kept.
    found = Address.objects.filter(**{owner_field: owner_id}).order_by("id")
    return found.filter(kind=Address.Kind.BILLING).first() or found.first()


def buyer_of(deal: Deal, actor) -> pdf.Buyer:
    """The client the quote is for, as the issuer may see it: the deal's company, or its
    contact person when it names no company."""
    company = Company.objects.visible_to(actor).filter(pk=deal.company_id).first()
    if company is not None:
        return pdf.Buyer(
            name=company.legal_name or company.name,
            address=_address_text(_address_of("company_id", company.pk)),
            vat_id=company.tax_id,
        )
    person = Person.objects.visible_to(actor).filter(pk=deal.person_id).first()
    if person is not None:
        return pdf.Buyer(
            name=str(person), address=_address_text(_address_of("person_id", person.pk))
        )
    return pdf.Buyer(name=_("No client named"))


def _document_lines(stored: list[DealLine]) -> tuple[pdf.DocumentLine, ...]:
    return tuple(
        pdf.DocumentLine(
            description=line.description,
            unit=deal_lines.unit_label(line.unit),
            totals=deal_lines.line_totals_of(line),
        )
        for line in stored
    )


def _frozen(document_lines) -> list[dict]:
    return [
        {
            "description": line.description,
            "unit": line.unit,
            "quantity": str(line.totals.quantity),
            "unit_price": str(line.totals.unit_price),
            "discount_percent": str(line.totals.discount_percent),
            "vat_rate": str(line.totals.vat_rate),
            "net": str(line.totals.net),
        }
        for line in document_lines
    ]


def _checked_input(issued_on, valid_until, notes, language) -> tuple:
    errors: dict[str, list[str]] = {}
    if valid_until is None:
        valid_until = issued_on + datetime.timedelta(days=DEFAULT_VALID_DAYS)
    elif valid_until < issued_on:
        errors["valid_until"] = [_("A quote cannot expire before its date.")]
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = [_("Enter at most %(count)d characters.") % {"count": MAX_NOTES}]
    if language not in languages():
        errors["language"] = [
            _("Choose one of the languages %(codes)s.") % {"codes": ", ".join(languages())}
        ]
    if errors:
        raise ValidationFailed(errors=errors)
    return valid_until, notes


def _numbered(quote: Quote) -> Quote:
    """Save ``quote`` with the next number of its year; a number taken meanwhile by
    another writer (the unique constraint) is retried with the next one."""
    for attempt in range(NUMBER_ATTEMPTS):
        last = Quote.objects.filter(year=quote.year).aggregate(last=Max("sequence"))["last"]
        quote.sequence = (last or 0) + 1
        quote.number = quote_number(quote.year, quote.sequence)
        try:
            with transaction.atomic():
                quote.save()
            return quote
        except IntegrityError:
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def create_quote(
    deal: Deal,
    *,
    actor,
    valid_until: datetime.date | None = None,
    notes: str = "",
    language: str | None = None,
) -> Quote:
    """Issue a quote from the deal's lines in ``language`` (default: the site's)."""
    require(actor, Action.EDIT, deal)
    language = language or settings.LANGUAGE_CODE
    issued_on = timezone.localdate()
    valid_until, notes = _checked_input(issued_on, valid_until, notes, language)
    stored = list(DealLine.objects.filter(deal=deal).order_by("position"))
    if not stored:
        raise ValidationFailed(errors={"lines": [_("Add product lines to the deal first.")]})
    document_lines = _document_lines(stored)
    totals = money.document_totals(line.totals for line in document_lines)
    with transaction.atomic():
        quote = _numbered(
            Quote(
                deal=deal,
                year=issued_on.year,
                issued_on=issued_on,
                valid_until=valid_until,
                currency=deal.currency,
                net=totals.net,
                vat=totals.vat,
                gross=totals.gross,
                lines=_frozen(document_lines),
                language=language,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
        )
        content = pdf.render_pdf(
            pdf.CommercialDocument(
                title=pdf.QUOTE,
                number=quote.number,
                date=issued_on,
                valid_until=valid_until,
                seller=seller(),
                buyer=buyer_of(deal, actor),
                currency=deal.currency,
                lines=document_lines,
                totals=totals,
                notes=notes,
            ),
            language=language,
        )
        quote.attachment = files.add_attachment(
            deal, ContentFile(content, name=f"{quote.number}.pdf"), actor=actor
        )
        quote.save(update_fields=["attachment"])
    return quote


def quotes_of(deal: Deal):
    return Quote.objects.filter(deal=deal).select_related("attachment", "created_by")


def vat_breakdown(quote: Quote) -> list[money.VatRateTotal]:
    """The VAT per rate of the lines as issued (the PDF's breakdown)."""
    frozen = [
        money.line_totals(
            Decimal(line["quantity"]),
            Decimal(line["unit_price"]),
            Decimal(line["discount_percent"]),
            Decimal(line["vat_rate"]),
        )
        for line in quote.lines
    ]
    return list(money.document_totals(frozen).vat_breakdown)
