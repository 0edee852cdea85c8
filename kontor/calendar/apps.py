from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarConfig(AppConfig):
    name = "kontor.calendar"
    label = "calendar"
    verbose_name = _("Calendar")

    def ready(self):
        from kontor.core import modules, timers, types

        from . import reminders
        from .api import calendar_router, router
        from .types import MEETING

        types.register(MEETING)
        types.register_menu_page(
            types.MenuPage(
                types.MenuEntry(_("Calendar"), order=35), "calendar:calendar", _signed_in
            )
        )
        types.register_settings_page(
            types.SettingsPage("calendar:feed_settings", _("Calendar feed"), _signed_in)
        )
        timers.handle(reminders.MEETING_REMINDER, reminders.remind_of_meeting)
        modules.extend(
            "tasks",
            object_types=(MEETING.object_type,),
            pages=("calendar:*",),
            routers=(router, calendar_router),
            timer_kinds=(reminders.MEETING_REMINDER,),
        )


def _signed_in(user) -> bool:
    return user.is_authenticated
