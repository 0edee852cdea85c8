"""The ASGI application ``kontor serve`` runs under uvicorn.

Every view but the live streams is synchronous. Django's own ASGI handler runs each
request's middleware and view through a thread hop and a disconnect listener of its own,
which cost about 2 ms a request (a phone lookup 5.3 ms against 3.6 ms,
docs/benchmarks.md); a2wsgi runs Django's WSGI handler in a pool of threads instead. The
server-sent event streams under ``LIVE_PREFIX`` are async views that stay open for
minutes: they go to Django's ASGI handler, where an open stream holds no thread.
"""

import gc
import os

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")

LIVE_PREFIX = "/live/"
_streams = get_asgi_application()
_pages = WSGIMiddleware(get_wsgi_application())


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(LIVE_PREFIX):
        await _streams(scope, receive, send)
    else:
        await _pages(scope, receive, send)


# What is loaded by now (Django, the apps, URL patterns: about 200,000 objects) lives as
# long as the process: frozen, a full garbage collection no longer walks it, and no
# request pays for that walk (docs/benchmarks.md).
gc.freeze()

# `kontor serve` asks each server process for an event dispatcher of its own (kontor.cli).
if os.environ.get("KONTOR_SERVE_DISPATCHER") == "1":
    from kontor.core import events

    events.start_dispatcher_thread()
