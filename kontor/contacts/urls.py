from django.urls import path

from kontor.web.records import record_urls

from . import views
from .types import COMPANY, PERSON

app_name = "contacts"

urlpatterns = [
    path("companies/autocomplete/", views.company_autocomplete, name="company_autocomplete"),
    *record_urls(PERSON),
    *record_urls(COMPANY),
]
