"""/api/v1/deals: every route from the engine; /api/v1/pipelines, /lost-reasons,
/quotes, /plans and /reports/sales/..."""

from ninja import Router

from kontor.core.api_records import add_record_routes

from .plan_api import router as plan_router
from .quote_api import router as quote_router
from .report_api import router as report_router
from .setup_api import router as setup_router
from .types import DEAL

router = Router(tags=["deals"])
add_record_routes(router, DEAL)
router.add_router("/", setup_router)
router.add_router("/", quote_router)
router.add_router("/", plan_router)
router.add_router("/", report_router)
