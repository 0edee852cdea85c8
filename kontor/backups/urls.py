from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("settings/backups/", views.backup_list, name="backup_list"),
    path("settings/backups/start/", views.backup_start, name="backup_start"),
]
