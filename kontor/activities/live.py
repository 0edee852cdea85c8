"""The bell, live: a server-sent event stream of the reader's unread count.

An open page keeps one stream (htmx's SSE extension); each stream looks at its reader's
unread count every ``KONTOR_LIVE_POLL_SECONDS`` (an indexed count) and sends the bell
anew when it changed, so a reminder fired by any worker or server process shows without
a reload. A stream ends after ``KONTOR_LIVE_STREAM_SECONDS`` and the browser opens the
next one: no connection is held for ever, and a logged-out session stops being served.
"""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string

from . import notifications

BELL_EVENT = "bell"
# Without ASGI (a WSGI server, the test server) a stream would be read whole before it
# is sent: the bell is sent once and the browser asks again after this long.
WSGI_RETRY_MS = 30_000


def _bell(request) -> str:
    return render_to_string("activities/_bell_link.html", request=request)


def sse_message(event: str, html: str) -> str:
    """One server-sent event; each line of ``html`` its own ``data:`` line."""
    lines = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


async def bell_stream(request):
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=401)
    render = sync_to_async(_bell)
    if not isinstance(request, ASGIRequest):
        once = f"retry: {WSGI_RETRY_MS}\n" + sse_message(BELL_EVENT, await render(request))
        return _no_cache(HttpResponse(once, content_type="text/event-stream"))
    count = sync_to_async(notifications.unread_count)

    async def messages():
        shown = None
        ends = time.monotonic() + settings.KONTOR_LIVE_STREAM_SECONDS
        while time.monotonic() < ends:
            now = await count(user)
            if now != shown:
                shown = now
                yield sse_message(BELL_EVENT, await render(request))
            else:
                yield ": still here\n\n"  # a comment: a closed tab ends the stream
            await asyncio.sleep(settings.KONTOR_LIVE_POLL_SECONDS)

    return _no_cache(StreamingHttpResponse(messages(), content_type="text/event-stream"))


def _no_cache(response):
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold the events back
    return response
