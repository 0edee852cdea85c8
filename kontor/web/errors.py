"""Turning service errors into pages: NotFound is Django's 404, PermissionDenied its 403."""

import functools

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404

from kontor.core.errors import NotFound, PermissionDenied


def service_errors(view):
    """Let a view raise our NotFound/PermissionDenied and get Django's 404/403 pages."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from None

    return wrapped
