"""Every URL of Kontor, explicitly: the UI apps and the API's routers."""

from django.urls import include, path

from kontor.accounts.api import router as accounts_router
from kontor.contacts.api import router as contacts_router
from kontor.core.api import api
from kontor.core.api_routes import router as core_router

api.add_router("/", accounts_router)
api.add_router("/", contacts_router)
api.add_router("/", core_router)

urlpatterns = [
    path("api/v1/", api.urls),
    path("settings/", include("kontor.accounts.urls")),
    path("", include("kontor.web.urls")),
]
