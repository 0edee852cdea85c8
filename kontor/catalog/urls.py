from django.urls import path

from kontor.web.records import record_urls

from . import views
from .types import PRODUCT

app_name = "catalog"

urlpatterns = [
    path("settings/vat-rates/", views.vat_rate_list, name="vat_rate_list"),
    path("settings/vat-rates/new/", views.vat_rate_create, name="vat_rate_create"),
    path("settings/vat-rates/<int:pk>/", views.vat_rate_edit, name="vat_rate_edit"),
    path("settings/vat-rates/<int:pk>/delete/", views.vat_rate_delete, name="vat_rate_delete"),
    *record_urls(PRODUCT),
]
