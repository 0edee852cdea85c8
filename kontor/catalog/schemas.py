"""The API's schemas of VAT rates and products. Money and percentages are decimal
strings ("1250.00", "19.00"); a number is taken on input too."""

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kontor.core.api import DbInt, PlacedIn, Ref, VersionedIn, ref

from .models import Product, VatRate

Amount = Decimal | str
PRICE = "At least 0, at most two decimals: 1250.00"
CURRENCY = "An ISO 4217 code of the install's currencies (KONTOR_CURRENCIES)"
UNIT = "One of: " + ", ".join(Product.Unit.values)
VAT_RATE = "A VAT rate's id (/api/v1/vat-rates); left out on create: the default rate"


# -- VAT rates ------------------------------------------------------------------------------


class VatRateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    rate: Amount = Field(description="A percentage: 19.00 is 19 %")
    is_active: bool = True
    is_default: bool = Field(False, description="Moves the default mark here")


class VatRatePatch(VersionedIn):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    rate: Amount = Field("", description="A percentage: 19.00 is 19 %")
    is_active: bool = True
    is_default: bool = Field(False, description="Moves the default mark here")


class VatRateOut(Schema):
    id: int
    name: str
    rate: Decimal = Field(description="A percentage: 19.00 is 19 %")
    label: str = Field(description="Name and percentage, as forms show it")
    is_active: bool
    is_default: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def vat_rate_out(rate: VatRate) -> dict:
    return {
        "id": rate.pk,
        "name": rate.name,
        "rate": rate.rate,
        "label": str(rate),
        "is_active": rate.is_active,
        "is_default": rate.is_default,
        "version": rate.version,
        "created_at": rate.created_at,
        "updated_at": rate.updated_at,
    }


# -- products -------------------------------------------------------------------------------


class ProductIn(PlacedIn):
    sku: str = Field(description="Unique whatever its case")
    name: str
    unit: str = Field(Product.Unit.PIECE, description=UNIT)
    price: Amount = Field(description=PRICE)
    currency: str = Field("", description=f"{CURRENCY}; empty: the default currency")
    vat_rate_id: DbInt | None = Field(None, description=VAT_RATE)
    is_active: bool = True
    description: str = ""


class ProductPatch(PlacedIn, VersionedIn):
    sku: str = ""
    name: str = ""
    unit: str = Field("", description=UNIT)
    price: Amount = Field("", description=PRICE)
    currency: str = Field("", description=CURRENCY)
    vat_rate_id: DbInt | None = Field(None, description="A VAT rate's id (/api/v1/vat-rates)")
    is_active: bool = True
    description: str = ""


class VatRateRef(Schema):
    id: int
    name: str
    rate: Decimal


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    unit: str = Field(description=UNIT)
    unit_label: str = Field(description="The unit in the request's language")
    price: Decimal = Field(description=PRICE)
    currency: str
    vat_rate: VatRateRef = Field(
        description="Its rate now; a document line keeps the value it copied"
    )
    is_active: bool
    description: str
    owner: Ref | None
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def product_out(product: Product) -> dict:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "unit_label": product.unit_label,
        "price": product.price,
        "currency": product.currency,
        "vat_rate": {
            "id": product.vat_rate.pk,
            "name": product.vat_rate.name,
            "rate": product.vat_rate.rate,
        },
        "is_active": product.is_active,
        "description": product.description,
        "owner": ref(product.owner),
        "department": ref(product.department),
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }
