"""Keeps this process's custom object types in step with their definitions."""

from . import registry


class CustomTypesMiddleware:
    """Before each request: one cheap read of the definitions' stamp, a rebuild if it moved
    (another process added, renamed or archived a type)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        registry.sync()
        return self.get_response(request)
