from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kontor.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kontor.core import types

        from .types import DEAL

        types.register(DEAL)
