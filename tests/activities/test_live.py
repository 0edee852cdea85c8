"""The live bell: a server-sent event stream that sends the bell again when the count moves."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from kontor.activities import live, notifications

pytestmark = pytest.mark.django_db


def read_stream(user, *, then=None, messages=40):
    """The stream's messages as ``user`` sees them; ``then`` runs after the first."""

    async def read():
        client = AsyncClient()
        if user is not None:
            await client.aforce_login(user)
        response = await client.get("/live/notifications/")
        if response.status_code != 200:
            return response, []
        seen = []
        async for chunk in response.streaming_content:
            seen.append(chunk.decode())
            if len(seen) == 1 and then is not None:
                await sync_to_async(then)()
            elif len(seen) >= messages or (len(seen) > 1 and seen[-1].startswith("event: bell")):
                break
        return response, seen

    return async_to_sync(read)()


def test_the_bell_is_sent_again_when_a_notification_arrives(org, settings):
    settings.KONTOR_LIVE_POLL_SECONDS = 0.01
    response, seen = read_stream(
        org.member_a, then=lambda: notifications.notify(org.member_a, "test", "Call Petrov")
    )
    assert response["Content-Type"] == "text/event-stream"
    assert "no-cache" in response["Cache-Control"]
    first, last = seen[0], seen[-1]
    assert first.startswith("event: bell\ndata: ") and "bell-count" not in first
    assert last.startswith("event: bell\n") and 'class="bell-count" aria-hidden="true">1<' in last
    # Between the two, the stream only said it was alive.
    assert all(message == ": still here\n\n" for message in seen[1:-1])


def test_a_stream_ends_and_a_stranger_gets_none(org, settings):
    settings.KONTOR_LIVE_POLL_SECONDS = 0.01
    settings.KONTOR_LIVE_STREAM_SECONDS = 0.05
    _response, seen = read_stream(org.member_a, messages=1000)
    assert 1 <= len(seen) < 1000  # it ended by itself
    anonymous, nothing = read_stream(None)
    assert anonymous.status_code == 401 and nothing == []


def test_every_line_of_a_message_is_its_own_data_line():
    assert (
        live.sse_message("bell", "<a>\n1\n</a>")
        == "event: bell\ndata: <a>\ndata: 1\ndata: </a>\n\n"
    )


def test_without_asgi_the_bell_is_sent_once_with_a_time_to_ask_again(client, org):
    client.force_login(org.member_a)
    notifications.notify(org.member_a, "test", "Call Petrov")
    response = client.get("/live/notifications/")
    assert response["Content-Type"] == "text/event-stream" and not response.streaming
    body = response.content.decode()
    assert body.startswith(f"retry: {live.WSGI_RETRY_MS}\nevent: bell\ndata: ")
    assert 'class="bell-count" aria-hidden="true">1<' in body
