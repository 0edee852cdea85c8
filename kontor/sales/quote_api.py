"""/api/v1/quotes: the quotes of the deals you may see; issuing one needs edit rights on
its deal; its PDF downloads from ``/api/v1/quotes/{id}/pdf``."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import FileResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from kontor.core import money
from kontor.core.access import Action
from kontor.core.api import MAX_LIMIT, MAX_OFFSET, DbInt, ErrorOut, IsoDate, Page, Ref, page, ref
from kontor.core.errors import NotFound

from . import quotes
from .models import Quote
from .schemas import TotalsOut, totals_out
from .types import DEAL

router = Router(tags=["quotes"])


class QuoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    deal_id: DbInt = Field(description="A deal you may edit, with product lines")
    valid_until: IsoDate | None = Field(
        None, description=f"Default: {quotes.DEFAULT_VALID_DAYS} days from today"
    )
    notes: str = Field("", description="Printed under the totals")
    language: str | None = Field(None, description="en, ru or fr; default: the site's language")


class QuoteLineOut(Schema):
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    net: Decimal


class QuoteOut(Schema):
    id: int
    number: str = Field(description="Per year: Q-2026-0001")
    deal: Ref
    issued_on: datetime.date
    valid_until: datetime.date | None
    currency: str
    language: str
    lines: list[QuoteLineOut] = Field(description="As issued")
    totals: TotalsOut
    pdf_url: str | None = Field(description="Null when the PDF was removed from the deal")
    created_by: Ref | None
    created_at: datetime.datetime


class QuotePage(Page):
    items: list[QuoteOut]


def quote_out(quote: Quote) -> dict:
    breakdown = quotes.vat_breakdown(quote)
    totals = money.DocumentTotals(quote.net, tuple(breakdown), quote.vat, quote.gross)
    return {
        "id": quote.pk,
        "number": quote.number,
        "deal": ref(quote.deal),
        "issued_on": quote.issued_on,
        "valid_until": quote.valid_until,
        "currency": quote.currency,
        "language": quote.language,
        "lines": quote.lines,
        "totals": totals_out(totals),
        "pdf_url": f"/api/v1/quotes/{quote.pk}/pdf" if quote.attachment_id else None,
        "created_by": ref(quote.created_by),
        "created_at": quote.created_at,
    }


def _visible(user):
    return Quote.objects.filter(deal__in=DEAL.visible(user).values("pk")).select_related(
        "deal", "created_by"
    )


def _quote(user, quote_id: int) -> Quote:
    quote = _visible(user).filter(pk=quote_id).first()
    if quote is None:
        raise NotFound()
    return quote


@router.get("/quotes", response=QuotePage, operation_id="quotes_list")
def list_quotes(
    request,
    deal_id: DbInt | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """Newest first; ``deal_id`` narrows to one deal's quotes."""
    qs = _visible(request.user)
    if deal_id is not None:
        qs = qs.filter(deal_id=deal_id)
    found = page(qs, limit, offset)
    return {**found, "items": [quote_out(quote) for quote in found["items"]]}


@router.get("/quotes/{int:quote_id}", response=QuoteOut, operation_id="quotes_get")
def get_quote(request, quote_id: int):
    return quote_out(_quote(request.user, quote_id))


@router.get("/quotes/{int:quote_id}/pdf", response={200: None}, operation_id="quotes_pdf")
def quote_pdf(request, quote_id: int):
    """The PDF as issued (application/pdf)."""
    quote = _quote(request.user, quote_id)
    if quote.attachment is None:
        raise NotFound()
    return FileResponse(
        quote.attachment.file.open("rb"),
        as_attachment=True,
        filename=quote.attachment.name,
        content_type="application/pdf",
    )


@router.post("/quotes", response={201: QuoteOut, 404: ErrorOut}, operation_id="quotes_create")
def create_quote(request, payload: QuoteIn):
    """Issue a quote from the deal's lines: numbered, rendered to PDF, stored on the deal
    (404: no deal you may see by that id)."""
    deal = DEAL.one(request.user, payload.deal_id, action=Action.EDIT)
    quote = quotes.create_quote(
        deal,
        actor=request.user,
        valid_until=payload.valid_until,
        notes=payload.notes,
        language=payload.language,
    )
    return Status(
        201, quote_out(Quote.objects.select_related("deal", "created_by").get(pk=quote.pk))
    )
