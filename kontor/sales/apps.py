from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kontor.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kontor.core import modules, types

        from . import plans, setup
        from .api import router
        from .types import DEAL

        types.register(DEAL)
        modules.register(
            modules.Module(
                "sales",
                _("Sales"),
                _("Deals, pipelines, quotes, sales targets and reports."),
                order=30,
                object_types=(DEAL.object_type,),
                pages=("sales:*",),
                routers=(router,),
            )
        )
        types.register_admin_area(setup.AREA, _("Pipelines and lost reasons"))
        types.register_admin_area(plans.AREA, _("Sales targets"))
        types.register_settings_page(
            types.SettingsPage("sales:pipeline_settings", _("Pipelines"), setup.may_configure)
        )
