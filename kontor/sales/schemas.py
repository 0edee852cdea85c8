"""The API's schemas of deals."""

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from kontor.core.api import DbInt, IsoDate, PlacedIn, Ref, VersionedIn, ref

from . import lines as deal_lines
from .models import Deal

Source = Literal["", "website", "referral", "call", "email", "event", "partner", "tender", "other"]
StageKind = Literal["open", "won", "lost"]
AMOUNT = 'A decimal string or number with at most 2 places, 0 or more ("1250.50")'
STAGE = (
    "Its stage; the stage's required fields must be filled, and a lost stage needs a "
    "lost_reason_id when the company keeps reasons. Default: the pipeline's first stage"
)


LINES = (
    "Product lines, in order (at most 200); while a deal has lines its amount is their "
    "net total and the amount given is ignored"
)


class LineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    product_id: DbInt | None = Field(
        None, description="A product you may see: its name, unit, price and VAT rate are defaults"
    )
    description: str = Field("", description="Default: the product's name")
    unit: str = Field(
        "", description="A unit code (pc, m, m2, m3, kg, t, l, bag, roll, pack, pallet)"
    )
    quantity: Decimal | str = Field(description="More than 0, at most 3 places")
    unit_price: Decimal | str | None = Field(
        None, description="Default: the product's price, when it is in the deal's currency"
    )
    discount_percent: Decimal | str = Field("0", description="0-100, at most 2 places")
    vat_rate_id: DbInt | None = Field(
        None, description="Default: the product's rate, else the default rate; its % is copied"
    )


class DealIn(PlacedIn):
    title: str
    pipeline_id: DbInt | None = Field(None, description="Default: the first active pipeline")
    stage_id: DbInt | None = Field(None, description=STAGE)
    amount: Decimal | str = Field("0", description=AMOUNT)
    currency: str = Field("", description="ISO 4217 code; default: the company's currency")
    expected_close: IsoDate | None = None
    company_id: DbInt | None = Field(None, description="A company you may see")
    person_id: DbInt | None = Field(None, description="A contact person you may see")
    source: Source = ""
    lost_reason_id: DbInt | None = None
    notes: str = ""
    tags: list[str] = Field([], description="Tag names (new ones are created)")
    lines: list[LineIn] = Field([], description=LINES)
    owner_id: DbInt | None = Field(None, description="Defaults to you")


class DealPatch(PlacedIn, VersionedIn):
    title: str = ""
    pipeline_id: DbInt | None = None
    stage_id: DbInt | None = Field(None, description=STAGE)
    amount: Decimal | str = Field("0", description=AMOUNT)
    currency: str = ""
    expected_close: IsoDate | None = None
    company_id: DbInt | None = None
    person_id: DbInt | None = None
    source: Source = ""
    lost_reason_id: DbInt | None = None
    notes: str = ""
    tags: list[str] | None = Field(None, description="Replaces the whole list when given")
    lines: list[LineIn] | None = Field(
        None, description="Replaces the whole list when given ([]: no lines)"
    )
    owner_id: DbInt | None = None


class StageRef(Ref):
    kind: StageKind
    probability: int = Field(description="Win probability, %")


class LineOut(Schema):
    position: int
    product_id: int | None
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal = Field(description="The VAT %, copied when the line was written")
    net: Decimal = Field(description="Quantity × unit price less the discount, to the cent")


class VatRow(Schema):
    rate: Decimal
    net: Decimal
    vat: Decimal


class TotalsOut(Schema):
    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_breakdown: list[VatRow] = Field(description="VAT per rate, on the sum of its lines' nets")


class DealOut(Schema):
    id: int
    title: str
    pipeline: Ref
    stage: StageRef
    amount: Decimal
    currency: str
    expected_close: datetime.date | None
    company: Ref | None = Field(description="Null also when the company is outside your scope")
    person: Ref | None = Field(description="Null also when the person is outside your scope")
    source: Source
    lost_reason: Ref | None
    notes: str
    stage_entered_at: datetime.datetime
    closed_at: datetime.datetime | None
    tags: list[str]
    lines: list[LineOut]
    totals: TotalsOut | None = Field(description="Of the lines; null for a deal without lines")
    owner: Ref | None
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def stage_ref(stage) -> dict:
    return {
        "id": stage.pk,
        "name": stage.name,
        "kind": stage.kind,
        "probability": stage.probability,
    }


def totals_out(totals) -> dict:
    return {
        "net": totals.net,
        "vat": totals.vat,
        "gross": totals.gross,
        "vat_breakdown": [
            {"rate": row.rate, "net": row.net, "vat": row.vat} for row in totals.vat_breakdown
        ],
    }


def lines_out(deal: Deal) -> tuple[list[dict], dict | None]:
    stored = list(deal.lines.all())
    found = [
        {
            "position": line.position,
            "product_id": line.product_id,
            "description": line.description,
            "unit": line.unit,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "vat_rate": line.vat_rate,
            "net": line.net,
        }
        for line in stored
    ]
    return found, totals_out(deal_lines.totals_of(stored)) if stored else None


def deal_out(deal: Deal) -> dict:
    lines, totals = lines_out(deal)
    return {
        "id": deal.pk,
        "title": deal.title,
        "pipeline": ref(deal.pipeline),
        "stage": stage_ref(deal.stage),
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close": deal.expected_close,
        "company": ref(deal.visible_company),
        "person": ref(deal.visible_person),
        "source": deal.source,
        "lost_reason": ref(deal.lost_reason),
        "notes": deal.notes,
        "stage_entered_at": deal.stage_entered_at,
        "closed_at": deal.closed_at,
        "tags": [tag.name for tag in deal.tags.all()],
        "lines": lines,
        "totals": totals,
        "owner": ref(deal.owner),
        "department": ref(deal.department),
        "version": deal.version,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
    }
