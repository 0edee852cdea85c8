from django.urls import path

from kontor.web.records import record_urls

from . import live, task_pages, task_report, views
from .entry_types import ENTRY_TYPES
from .types import TASK

app_name = "activities"

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/report/", task_report.task_report, name="task_report"),
    path("tasks/<int:pk>/done/", views.complete_task, name="task_done"),
    path("tasks/<int:pk>/waits-on/", task_pages.add_waits_on, name="task_waits_on_add"),
    path(
        "tasks/<int:pk>/waits-on/<int:other>/remove/",
        task_pages.remove_waits_on,
        name="task_waits_on_remove",
    ),
    path("tasks/<int:pk>/checklist/", task_pages.add_checklist_item, name="task_checklist_add"),
    path(
        "tasks/<int:pk>/checklist/<int:item>/",
        task_pages.change_checklist_item,
        name="task_checklist_item",
    ),
    path("tasks/<int:pk>/comments/", task_pages.add_comment, name="task_comment_add"),
    path("tasks/<int:pk>/watchers/", task_pages.add_watcher, name="task_watcher_add"),
    path(
        "tasks/<int:pk>/watchers/<int:user>/remove/",
        task_pages.remove_watcher,
        name="task_watcher_remove",
    ),
    path("notifications/", views.notification_list, name="notifications"),
    # Under kontor.asgi.LIVE_PREFIX: served by Django's ASGI handler.
    path("live/notifications/", live.bell_stream, name="live_bell"),
    path("notifications/read/", views.mark_all_read, name="notifications_read"),
    path("notifications/<int:pk>/", views.open_notification, name="notification_open"),
    *record_urls(TASK),
    *(url for entry_type in ENTRY_TYPES for url in record_urls(entry_type)),
]
