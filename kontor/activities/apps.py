from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kontor.activities"
    label = "activities"
    verbose_name = _("Work and communication")

    def ready(self):
        from kontor.core import events, modules, timers, types

        from . import dates, notifications, reminders, services
        from .api import router
        from .entry_types import ENTRY_TYPES
        from .types import TASK

        types.register(TASK)
        for entry_type in ENTRY_TYPES:
            types.register(entry_type)
        types.register_menu_page(
            types.MenuPage(
                types.MenuEntry(_("My day"), order=5), "activities:my_day", _is_signed_in
            )
        )
        types.register_topbar_item("activities/_bell.html")
        timers.handle(reminders.TASK_REMINDER, reminders.remind_of_task)
        timers.handle(reminders.TASK_RECURRENCE, services.repeat_task)
        timers.handle(notifications.EMAIL_TIMER, notifications.email_if_unseen)
        timers.standing(dates.DATES_TIMER, dates.remind_of_dates, dates.next_sweep)
        modules.register(
            modules.Module(
                "tasks",
                _("Tasks and calendar"),
                _("Tasks, My day, meetings and the calendar, with their reminders."),
                order=20,
                object_types=(TASK.object_type,),
                pages=("activities:task_*", "activities:my_day"),
                routers=(router,),
                timer_kinds=(reminders.TASK_REMINDER, reminders.TASK_RECURRENCE),
            )
        )
        # Clients' birthdays and other dates: contacts' own reminders.
        modules.extend("contacts", timer_kinds=(dates.DATES_TIMER,))
        events.subscribe(
            notifications.UNSEEN_EVENT,
            notifications.mail_unseen,
            name=notifications.MAIL_HANDLER,
        )


def _is_signed_in(user) -> bool:
    return user.is_authenticated
