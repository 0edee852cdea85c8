from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModulesConfig(AppConfig):
    name = "kontor.modules"
    label = "modules"
    verbose_name = _("Modules")

    def ready(self):
        from kontor.core import modules, types

        from .models import ModuleSwitch
        from .services import may_manage_modules
        from .state import SwitchState

        modules.set_state(SwitchState())
        # Audited, and grantable: "edit" with scope "all" on it makes a manager of modules.
        types.register(types.AuditedType.of(ModuleSwitch, _("module switch"), _("module switches")))
        types.register_settings_page(
            types.SettingsPage("modules:module_settings", _("Modules"), may_manage_modules)
        )
