from django.apps import AppConfig


class OutboxProbeConfig(AppConfig):
    name = "tests.core.outbox_probe"
    label = "outbox_probe"

    def ready(self):
        from kontor.core import events, timers

        from . import handler

        events.subscribe("probe.*", handler.record, name="probe.record")
        timers.handle("probe.timer", handler.fire)
