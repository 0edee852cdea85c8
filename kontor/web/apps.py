from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "kontor.web"
    label = "web"
    verbose_name = _("Web UI")

    def ready(self):
        from kontor.core import types
        from kontor.core.customfields.services import may_manage_fields

        types.register_settings_page(
            types.SettingsPage("web:field_list", _("Fields"), may_manage_fields)
        )
