from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("settings/backups/", views.backups, name="backups"),
    path("settings/backups/start/", views.backup_start, name="backup_start"),
]
