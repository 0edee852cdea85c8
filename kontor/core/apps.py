from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kontor.core"
    label = "core"
    verbose_name = _("Kontor core")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import events, jobs, timers, types
        from .customfields import computed, reindex
        from .models import CustomField

        post_migrate.connect(_sync_custom_field_indexes, sender=self)
        types.register(types.AuditedType.of(CustomField, _("custom field"), _("custom fields")))
        types.register_admin_area(events.OBJECT_TYPE, _("Event deliveries"))
        events.add_pass(timers.keep_standing)
        events.add_pass(jobs.run_timers, next_due=jobs.next_timer_due)
        events.add_pass(jobs.run_ready)
        events.subscribe(
            reindex.EVENTS, reindex.rebuild_search_documents, name=reindex.HANDLER_NAME
        )
        for pattern in (reindex.EVENTS, computed.REFRESH_EVENT):
            events.subscribe(
                pattern, computed.recompute_formulas, name=f"{computed.RECOMPUTE_HANDLER}:{pattern}"
            )
        timers.standing(computed.REFRESH_TIMER, computed.refresh_daily, computed.next_refresh)


def _sync_custom_field_indexes(using, **kwargs):
    """A migration that rebuilds a SQLite table drops the indexes Django does not know of:
    custom fields' indexes are put back after every ``migrate``."""
    from django.db import connections

    from .customfields import indexes

    if connections[using].vendor in ("sqlite", "postgresql"):
        indexes.sync()
