"""The API's schemas of deals."""

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import DbInt, IsoDate, PlacedIn, Ref, VersionedIn, ref

from .models import Deal

Source = Literal["", "website", "referral", "call", "email", "event", "partner", "tender", "other"]
StageKind = Literal["open", "won", "lost"]
AMOUNT = 'A decimal string or number with at most 2 places, 0 or more ("1250.50")'
STAGE = (
    "Its stage; the stage's required fields must be filled, and a lost stage needs a "
    "lost_reason_id when the company keeps reasons. Default: the pipeline's first stage"
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
    owner_id: DbInt | None = None


class StageRef(Ref):
    kind: StageKind
    probability: int = Field(description="Win probability, %")


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


def deal_out(deal: Deal) -> dict:
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
        "owner": ref(deal.owner),
        "department": ref(deal.department),
        "version": deal.version,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
    }
