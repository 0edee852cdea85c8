"""/api/v1/deals: every route from the engine."""

from ninja import Router

from kontor.core.api_records import add_record_routes

from .types import DEAL

router = Router(tags=["deals"])
add_record_routes(router, DEAL)
