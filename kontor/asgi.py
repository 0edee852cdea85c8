import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
application = get_asgi_application()

# `kontor serve` asks each server process for an event dispatcher of its own (kontor.cli).
if os.environ.get("KONTOR_SERVE_DISPATCHER") == "1":
    from kontor.core import events

    events.start_dispatcher_thread()
