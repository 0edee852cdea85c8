"""The ASGI application ``kontor serve`` runs under uvicorn.

Every view is synchronous today. Django's own ASGI handler runs each request's
middleware and view through a thread hop and a disconnect listener of its own, which
cost about 2 ms a request (a phone lookup 5.3 ms against 3.6 ms, docs/benchmarks.md);
a2wsgi runs Django's WSGI handler in a pool of threads instead. When Kontor gets an
async endpoint (server-sent events), a path router here sends that path to
``django.core.asgi``'s handler and everything else on here.
"""

import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
application = WSGIMiddleware(get_wsgi_application())

# `kontor serve` asks each server process for an event dispatcher of its own (kontor.cli).
if os.environ.get("KONTOR_SERVE_DISPATCHER") == "1":
    from kontor.core import events

    events.start_dispatcher_thread()
