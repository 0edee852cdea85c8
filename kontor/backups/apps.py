from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "kontor.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self):
        from kontor.core import timers, types

        from . import services

        types.register_admin_area(services.AREA, _("Backups"))
        types.register_settings_page(
            types.SettingsPage("backups:backup_list", _("Backups"), services.may_view)
        )
        timers.standing(services.BACKUP_TIMER, services.scheduled_backup, services.next_backup)
        timers.standing(services.DRILL_TIMER, services.scheduled_drill, services.next_drill)
