from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("settings/company/", views.company_details, name="company_details"),
    path("settings/company/logo/", views.company_logo, name="company_logo"),
    path("settings/company/sample.pdf", views.company_sample, name="company_sample"),
]
