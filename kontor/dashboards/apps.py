from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "kontor.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from kontor.core import types

        from . import kinds  # noqa: F401 (the kinds of widget register themselves)
        from .models import DASHBOARD_TYPE
        from .services import may_manage_dashboards

        types.register_admin_area(DASHBOARD_TYPE, _("Dashboards"))
        types.register_settings_page(
            types.SettingsPage("dashboards:dashboard_admin", _("Dashboards"), may_manage_dashboards)
        )
