from .context import Channel, acting


class RequestContextMiddleware:
    """Marks everything a browser request writes as coming through the UI channel.

    The API sets its own channel in its auth step (see ``kontor.core.api``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = Channel.API if request.path.startswith("/api/") else Channel.UI
        with acting(channel, request.headers.get("X-Request-ID")):
            return self.get_response(request)
