from django.urls import path

from kontor.web.records import record_urls

from . import line_views, plan_views, report_views, setup_views, views
from .types import DEAL

app_name = "sales"

urlpatterns = [
    path("deals/board/", views.board_page, name="board"),
    path("deals/board/stages/<int:stage_id>/", views.board_cards, name="board_cards"),
    path("deals/<int:pk>/move/", views.move, name="move"),
    path("deals/<int:pk>/lines/", line_views.deal_lines_edit, name="deal_lines"),
    path("deals/<int:pk>/quotes/new/", line_views.quote_create, name="quote_create"),
    path("deals/reports/", report_views.report_page, name="reports"),
    path("deals/plans/", plan_views.plan_list, name="plans"),
    path("deals/plans/new/", plan_views.plan_create, name="plan_create"),
    path("deals/plans/<int:pk>/", plan_views.plan_edit, name="plan_edit"),
    path("deals/plans/<int:pk>/delete/", plan_views.plan_delete, name="plan_delete"),
    *record_urls(DEAL),
    path("settings/pipelines/", setup_views.pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/new/", setup_views.pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pk>/", setup_views.pipeline_edit, name="pipeline_edit"),
    path("settings/pipelines/<int:pk>/order/", setup_views.pipeline_order, name="pipeline_order"),
    path(
        "settings/pipelines/<int:pk>/delete/", setup_views.pipeline_delete, name="pipeline_delete"
    ),
    path("settings/lost-reasons/", setup_views.pipeline_reasons, name="pipeline_reasons"),
]
