"""/api/v1/products (every route from the engine) and /api/v1/vat-rates.

VAT rates: every signed-in user reads them; creating, changing and deleting them is an
administrator's (403 for anyone else, whatever the id). Errors are the API's
``{"detail", "errors"}``; a change needs the version edited (``version`` or If-Match).
"""

from django.http import HttpResponse
from ninja import Query, Router, Status

from kontor.core.api import DbInt, etag, expected_version
from kontor.core.api_records import add_record_routes
from kontor.core.errors import PermissionDenied

from . import services
from .models import VatRate, may_manage_vat_rates
from .schemas import VatRateIn, VatRateOut, VatRatePatch, vat_rate_out
from .types import PRODUCT

router = Router(tags=["products"])
add_record_routes(router, PRODUCT)

vat_router = Router(tags=["vat-rates"])


def _vat_rate(user, vat_rate_id: int) -> VatRate:
    return VatRate.objects.get_visible(user, vat_rate_id)


def _for_writing(user, vat_rate_id: int) -> VatRate:
    if not may_manage_vat_rates(user):
        raise PermissionDenied()
    return _vat_rate(user, vat_rate_id)


def _answer(rate: VatRate, response: HttpResponse) -> dict:
    response["ETag"] = etag(rate.version)
    return vat_rate_out(rate)


@vat_router.get("/vat-rates", response=list[VatRateOut], operation_id="vat_rates_list")
def list_vat_rates(request, active: bool | None = Query(None, description="Only (in)active")):
    """Every VAT rate, the highest first; the default one is marked ``is_default``."""
    rates = VatRate.objects.visible_to(request.user)
    if active is not None:
        rates = rates.filter(is_active=active)
    return [vat_rate_out(rate) for rate in rates]


@vat_router.get("/vat-rates/{int:vat_rate_id}", response=VatRateOut, operation_id="vat_rates_get")
def get_vat_rate(request, vat_rate_id: int, response: HttpResponse):
    return _answer(_vat_rate(request.user, vat_rate_id), response)


@vat_router.post("/vat-rates", response={201: VatRateOut}, operation_id="vat_rates_create")
def create_vat_rate(request, payload: VatRateIn, response: HttpResponse):
    """Add a rate (administrators). The first rate becomes the default."""
    rate = services.create_vat_rate(payload.model_dump(), actor=request.user)
    return Status(201, _answer(rate, response))


@vat_router.patch(
    "/vat-rates/{int:vat_rate_id}",
    response=VatRateOut,
    operation_id="vat_rates_update",
)
def update_vat_rate(request, vat_rate_id: int, payload: VatRatePatch, response: HttpResponse):
    """Change the sent fields (administrators); 409 if someone saved first. Document
    lines made before keep the rate they copied."""
    rate = _for_writing(request.user, vat_rate_id)
    data = payload.model_dump(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    rate = services.update_vat_rate(rate, data, actor=request.user, expected_version=version)
    return _answer(rate, response)


@vat_router.delete(
    "/vat-rates/{int:vat_rate_id}",
    response={204: None},
    operation_id="vat_rates_delete",
)
def delete_vat_rate(request, vat_rate_id: int, version: DbInt | None = None):
    """Delete a rate no product uses (administrators); deactivate one in use instead."""
    rate = _for_writing(request.user, vat_rate_id)
    services.delete_vat_rate(
        rate,
        actor=request.user,
        expected_version=expected_version(request, version, required=False),
    )
    return Status(204, None)
