"""The API object, its authentication and its error format; domain apps add routers.

Auth: ``Authorization: Bearer <token>`` or the browser session (which must then send
the CSRF token on writes). Errors are always ``{"detail": ..., "errors": {field: [..]}}``.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from .errors import KontorError


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        # Resolved through the user model's app so core imports no domain app.
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.for_api_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Kontor API",
    version="1",
    description="Kontor REST API. Lists use limit/offset pagination: see docs/api.md.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_body(detail, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "errors": errors or {}}


@api.exception_handler(KontorError)
def on_kontor_error(request, exc: KontorError):
    return api.create_response(request, error_body(exc.message, exc.errors), status=exc.status_code)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is ("body", "payload", "field", ...) or ("query", "field"): keep the field path.
        loc = [
            str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "payload")
        ]
        errors.setdefault(".".join(loc) or "__all__", []).append(error.get("msg", ""))
    return api.create_response(
        request, error_body(_("Please correct the errors below."), errors), status=422
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body(_("Not found.")), status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, error_body(_("Authentication required.")), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, error_body(exc.message), status=exc.status_code)
