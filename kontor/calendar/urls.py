from django.urls import path

from kontor.web.records import record_urls

from . import views
from .types import MEETING

app_name = "calendar"

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/move/<str:kind>/<int:pk>/", views.move, name="move"),
    path("calendar/feed/<str:token>.ics", views.feed, name="ical_feed"),
    path("settings/calendar-feed/", views.feed_settings, name="feed_settings"),
    path("settings/calendar-feed/revoke/", views.feed_revoke, name="feed_revoke"),
    path("meetings/<int:pk>/ics/", views.meeting_ics, name="meeting_ics"),
    *record_urls(MEETING),
]
