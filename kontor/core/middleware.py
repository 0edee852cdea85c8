from django.utils.cache import patch_cache_control

from . import stamps
from .context import Channel, acting


class RequestContextMiddleware:
    """Marks everything a browser request writes as coming through the UI channel, and
    reads each definitions' token once per request (kontor.core.stamps).

    The API sets its own channel in its auth step (see ``kontor.core.api``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = Channel.API if request.path.startswith("/api/") else Channel.UI
        with acting(channel, request.headers.get("X-Request-ID")), stamps.read_once():
            return self.get_response(request)


class NoStoreWhenAuthenticatedMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in user, page or API.

    What a user may see must not stay in a shared proxy's or the browser's cache for the
    next person at that computer. Static files never get here: whitenoise answers them
    earlier in the chain. The API's bearer-token user is set inside the view, which has
    run by the time the response comes back through here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True)
        return response
