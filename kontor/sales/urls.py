from django.urls import path

from kontor.web.records import record_urls

from . import views
from .types import DEAL

app_name = "sales"

urlpatterns = [
    path("deals/board/", views.board_page, name="board"),
    path("deals/board/stages/<int:stage_id>/", views.board_cards, name="board_cards"),
    path("deals/<int:pk>/move/", views.move, name="move"),
    *record_urls(DEAL),
]
