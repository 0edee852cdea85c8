"""Every URL of Kontor, explicitly: the UI apps and the API's routers."""

from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from kontor.accounts.api import router as accounts_router
from kontor.activities.api import entries_router, inbox_router
from kontor.activities.api import router as activities_router
from kontor.backups.api import router as backups_router
from kontor.calendar.api import calendar_router
from kontor.calendar.api import router as meetings_router
from kontor.catalog.api import router as products_router
from kontor.catalog.api import vat_router
from kontor.contacts.api import router as contacts_router
from kontor.core.api import api, unknown_endpoint
from kontor.core.api_routes import router as core_router
from kontor.core.customfields.api import router as fields_router
from kontor.dashboards.api import router as dashboards_router
from kontor.dedup.api import router as dedup_router
from kontor.imports.api import router as imports_router
from kontor.modules.api import router as modules_router
from kontor.objects.api import router as objects_router
from kontor.sales.api import router as deals_router
from kontor.savedviews.api import router as views_router
from kontor.web.views import set_language

api.add_router("/", accounts_router)
api.add_router("/", activities_router)
api.add_router("/", backups_router)
api.add_router("/", inbox_router)
api.add_router("/", entries_router)
api.add_router("/", meetings_router)
api.add_router("/", calendar_router)
api.add_router("/", products_router)
api.add_router("/", vat_router)
api.add_router("/", contacts_router)
api.add_router("/", core_router)
api.add_router("/", fields_router)
api.add_router("/", objects_router)
api.add_router("/", deals_router)
api.add_router("/", dedup_router)
api.add_router("/", imports_router)
api.add_router("/", modules_router)
api.add_router("/", views_router)
api.add_router("/", dashboards_router)

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<path>.*)$", unknown_endpoint),
    # The language switch in the user menu and at login (POST, CSRF): Django's set_language,
    # which also keeps a logged-in user's choice on their account.
    path("i18n/setlang/", set_language, name="set_language"),
    path("settings/", include("kontor.accounts.urls")),
    path("", include("kontor.contacts.urls")),
    path("", include("kontor.activities.urls")),
    path("", include("kontor.calendar.urls")),
    path("", include("kontor.sales.urls")),
    path("", include("kontor.catalog.urls")),
    path("", include("kontor.objects.urls")),
    path("", include("kontor.documents.urls")),
    path("", include("kontor.backups.urls")),
    path("", include("kontor.dedup.urls")),
    path("", include("kontor.imports.urls")),
    path("", include("kontor.savedviews.urls")),
    path("", include("kontor.modules.urls")),
    path("", include("kontor.dashboards.urls")),
    path("", include("kontor.web.urls")),
    # For clients that ask the conventional place instead of reading the page's <link>.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.ico"), permanent=True)),
]
