from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectsConfig(AppConfig):
    name = "kontor.objects"
    label = "objects"
    verbose_name = _("Custom objects")

    def ready(self):
        from kontor.core import types

        from . import registry, services
        from .models import ObjectTypeDefinition

        types.register(
            types.AuditedType.of(ObjectTypeDefinition, _("object type"), _("object types"))
        )
        types.register_refresher(registry.sync)
        types.register_settings_page(
            types.SettingsPage(
                "objects:definition_list",
                _("Object types"),
                services.may_view_definitions,
            )
        )
