"""Keeps this process's custom object types in step with their definitions."""

from . import registry


class CustomTypesMiddleware:
    """Before each request: one cheap read of the definitions' stamp, a rebuild if it moved
    (another process added, renamed or archived a type)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only for someone signed in (a session or a token): a login page or a health
        # check reads no type, and may run before the tables exist.
        if "authorization" in request.headers or request.user.is_authenticated:
            registry.sync()
        return self.get_response(request)
