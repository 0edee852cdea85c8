from django.urls import path

from kontor.web.records import record_urls

from . import views
from .types import TASK

app_name = "activities"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read/", views.mark_all_read, name="notifications_read"),
    path("notifications/<int:pk>/", views.open_notification, name="notification_open"),
    *record_urls(TASK),
]
