from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedViewsConfig(AppConfig):
    name = "kontor.savedviews"
    label = "savedviews"
    verbose_name = _("Saved views")

    def ready(self):
        from kontor.core import types

        from .models import may_manage_views

        types.register_settings_page(
            types.SettingsPage("savedviews:views_admin", _("Views"), may_manage_views)
        )
