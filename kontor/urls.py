"""Every URL of Kontor, explicitly: the UI apps and the API's routers."""

from django.urls import include, path

from kontor.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("kontor.web.urls")),
]
