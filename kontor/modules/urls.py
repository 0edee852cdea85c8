from django.urls import path

from . import views

app_name = "modules"

urlpatterns = [
    path("settings/modules/", views.module_settings, name="module_settings"),
]
