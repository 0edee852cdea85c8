"""The pages of a module switched off for the user answer 404, as an unknown address."""

from django.http import Http404

from kontor.core import modules


class ModulesMiddleware:
    """One gate for every page a module owns (``Module.pages``); the API's is on the
    module's routers (``core.modules.register``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and not modules.page_enabled(request.user, match.view_name):
            raise Http404()
        return None
