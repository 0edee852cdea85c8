"""The API object, its authentication and its error format; domain apps add routers.

Auth: ``Authorization: Bearer <token>`` or the browser session (which must then send
the CSRF token on writes). Errors are always ``{"detail": ..., "errors": {field: [..]}}``.
"""

import re

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import Field

from .errors import KontorError, ValidationFailed
from .pagination import COUNT_CAP, capped_count

MAX_LIMIT = 200


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        # Resolved through the user model's app so core imports no domain app.
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.for_api_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser session; a write through it must carry the CSRF token, as a form does.

    Unlike ninja's ``django_auth`` an anonymous request is 401 whatever its method: the
    CSRF check (403) only guards a live session against forged cross-site writes.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        return request.user if key and request.user.is_authenticated else None


api = NinjaAPI(
    title="Kontor API",
    version="1",
    description="Kontor REST API. Lists use limit/offset pagination: see docs/api.md.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_body(detail, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "errors": errors or {}}


@api.exception_handler(KontorError)
def on_kontor_error(request, exc: KontorError):
    return api.create_response(request, error_body(exc.message, exc.errors), status=exc.status_code)


_PARAMETER_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is ("body", "payload", "field", ...), ("query", "field") or ("file", "file"):
        # drop the source and the body parameter's name, keep the field path.
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in _PARAMETER_SOURCES:
            loc = loc[1:]
        if loc and loc[0] == "payload":
            loc = loc[1:]
        errors.setdefault(".".join(loc) or "__all__", []).append(error.get("msg", ""))
    return api.create_response(
        request, error_body(_("Please correct the errors below."), errors), status=422
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body(_("Not found.")), status=404)


def unknown_endpoint(request, path=""):
    """A path under /api/ that no route matches: a JSON 404 too, never Django's HTML page."""
    return JsonResponse(error_body(_("Not found.")), status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, error_body(_("Authentication required.")), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, error_body(exc.message), status=exc.status_code)


class Page(Schema):
    """The envelope of every list; subclasses name the type of ``items``."""

    count: int = Field(description=f"Matching rows, counted up to {COUNT_CAP:,}")
    count_capped: bool = Field(description=f"True when more than {COUNT_CAP:,} rows match")
    limit: int
    offset: int


def page(qs, limit: int, offset: int) -> dict:
    """One limit/offset page of ``qs`` with its total (see docs/api.md)."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    count, capped = capped_count(qs)
    return {
        "items": list(qs[offset : offset + limit]),
        "count": count,
        "count_capped": capped,
        "limit": limit,
        "offset": offset,
    }


_ETAG_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')


def expected_version(request, sent: int | None, *, required: bool = True) -> int | None:
    """The record version the client edited: ``version`` sent, else the ``If-Match`` header.

    Required for updates: a write that names no version could overwrite a newer edit unseen.
    """
    if sent is not None:
        return sent
    header = request.headers.get("If-Match", "").strip()
    if match := _ETAG_VERSION.match(header):
        return int(match.group(1))
    if not required:
        return None
    raise ValidationFailed(
        errors={"version": [_("Send the version you edited (field “version” or If-Match).")]}
    )


def etag(version: int) -> str:
    return f'"{version}"'
