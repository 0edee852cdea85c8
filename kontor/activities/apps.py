from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kontor.activities"
    label = "activities"
    verbose_name = _("Work and communication")

    def ready(self):
        from kontor.core import types

        from .types import TASK

        types.register(TASK)
