"""/api/v1/tasks: every route comes from the engine (``kontor.core.api_records``)."""

from ninja import Router

from kontor.core.api_records import add_record_routes

from .types import TASK

router = Router(tags=["tasks"])
add_record_routes(router, TASK)
