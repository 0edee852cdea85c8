from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "kontor.dedup"
    label = "dedup"
    verbose_name = _("Duplicates")

    def ready(self):
        from kontor.core import modules

        from .api import router

        # Duplicates are people's and companies': they go with the contacts module.
        modules.extend("contacts", pages=("dedup:*",), routers=(router,))
