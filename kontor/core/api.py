"""The API object, its authentication and its error format; domain apps add routers.

Auth: ``Authorization: Bearer <token>`` or the browser session (which must then send
the CSRF token on writes). Errors are always ``{"detail": ..., "errors": {field: [..]}}``;
every operation declares the error statuses it can answer (``KontorAPI``), and input the
database could not take (a query parameter the operation does not know, NUL characters,
unpaired surrogates) is refused with 422 before a route's code runs (``_check_input``).
"""

import contextvars
import datetime
import functools
import json
import re
from typing import Annotated, Any

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema

from . import modules
from .errors import KontorError, ValidationFailed, with_retry_after
from .inputs import DB_INT_MAX, text_problem
from .pagination import COUNT_CAP, capped_count

MAX_LIMIT = 200
MAX_OFFSET = DB_INT_MAX - MAX_LIMIT  # offset + limit is still a 64-bit number


def _not_a_bool(value):
    # Python's True is an int: without this, JSON's true would be accepted as 1.
    if isinstance(value, bool):
        raise ValueError("Input should be a valid integer")
    return value


def _date_text(value):
    # Without this, a number would be taken as a Unix timestamp.
    if not isinstance(value, str | datetime.date):
        raise ValueError("Input should be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[datetime.date, BeforeValidator(_date_text)]


def _moment_text(value):
    if not isinstance(value, str | datetime.datetime):
        raise ValueError("Input should be a date and time as ISO 8601 text")
    return value


# A moment from its ISO text (a number is not taken as a Unix timestamp).
IsoMoment = Annotated[datetime.datetime, BeforeValidator(_moment_text)]
# Both databases store integers in 64 bits; a larger id or version is a 422, never an
# overflow inside the database driver (a 500).
DbInt = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=-DB_INT_MAX - 1, le=DB_INT_MAX)]


# A time of day on the server's clock (a task's due time): no offset, which JSON Schema's
# "time" format demands (RFC 3339's full-time), so it is described by its pattern.
def _time_text(value):
    if not isinstance(value, str | datetime.time):
        raise ValueError("Input should be a time of day as HH:MM[:SS]")
    return value


LocalTime = Annotated[
    datetime.time,
    BeforeValidator(_time_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
            "description": "A time of day, HH:MM[:SS], in the server's time zone",
        }
    ),
]


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


class ErrorOut(Schema):
    """The body of every 4xx answer."""

    detail: str
    errors: dict[str, list[str]] = Field(description="Messages per field, e.g. phones.0.number")


_ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON or form data, or a rule refused the operation",
    401: "No valid token or session",
    403: "Not allowed for you (or a session write without its CSRF token)",
    404: "No such record, or outside your scope (or its module is switched off for you)",
    409: "Someone saved a newer version first",
    422: "Invalid input: see errors",
}
_WRITES = {"post", "put", "patch", "delete"}


def _declares_version(operation: dict, components: dict) -> bool:
    if any(p.get("name") == "version" for p in operation.get("parameters", ())):
        return True
    for content in operation.get("requestBody", {}).get("content", {}).values():
        ref = content.get("schema", {}).get("$ref", "")
        body = components.get(ref.rsplit("/", 1)[-1], {})
        if "version" in body.get("properties", {}):
            return True
    return False


def _error_statuses(method: str, operation: dict, components: dict) -> set[int]:
    """What an operation can answer besides success, read from its own shape."""
    statuses = {401, 422}  # every route needs auth and validates its input
    if "requestBody" in operation or method in _WRITES:
        statuses.add(400)  # a body that does not parse; a service's rule (KontorError)
    if method in _WRITES:
        statuses.add(403)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.add(404)
    if modules.OPENAPI_MODULE in operation:
        statuses.add(404)  # its module may be switched off for the caller
    if _declares_version(operation, components):
        statuses.add(409)
    return statuses


# Who asks for the OpenAPI document: it describes the custom fields that reader may see.
_document_reader = contextvars.ContextVar("openapi_reader", default=None)


def _for_its_reader(view):
    """ninja's docs_decorator: the document's views know their reader (session or token)."""

    @functools.wraps(view)
    def described_for_reader(request, **kwargs):
        reader = request.user if request.user.is_authenticated else None
        if reader is None and "authorization" in request.headers:
            reader = TokenAuth()(request)
        token = _document_reader.set(reader)
        try:
            return view(request, **kwargs)
        finally:
            _document_reader.reset(token)

    return described_for_reader


class KontorAPI(NinjaAPI):
    """Ninja's API whose OpenAPI document lists every error status an operation answers,
    and each type's custom fields as its reader may see them.

    Routes declare their success responses, and any unusual error (an export's 403, the
    audit's 404) in their decorator; the statuses that follow from an operation's shape
    (auth, input, path ids, versions, writes) are added here, all with ``ErrorOut``.
    """

    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        # JSON is never rendered (nosniff is on every answer): a Content-Security-Policy
        # guards pages, and building it cost a tenth of a small API call. The docs page
        # is a page and keeps it.
        response._csp_exempt = True
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        from .customfields import openapi as custom_field_docs

        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        reader = _document_reader.get()
        if reader is not None:
            custom_field_docs.describe(schema, reader)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema()
        ref = {"$ref": "#/components/schemas/ErrorOut"}
        for methods in schema["paths"].values():
            for method, operation in methods.items():
                responses = operation.setdefault("responses", {})
                for status in sorted(_error_statuses(method, operation, components)):
                    if status in responses:  # declared by the route itself (an int key)
                        continue
                    responses.setdefault(
                        str(status),
                        {
                            "description": _ERROR_DESCRIPTIONS[status],
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema


api = KontorAPI(
    title="Kontor API",
    version="1",
    description="Kontor REST API. Lists use limit/offset pagination: see docs/api.md.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=_for_its_reader,
)


def error_body(detail, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "errors": errors or {}}


@api.exception_handler(KontorError)
def on_kontor_error(request, exc: KontorError):
    response = api.create_response(
        request, error_body(exc.message, exc.errors), status=exc.status_code
    )
    return with_retry_after(response, getattr(exc, "retry_after", None))


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


@csrf_exempt
def unknown_endpoint(request, path=""):
    """A path under /api/ that no route matches: a JSON 404 too, never Django's HTML page."""
    return JsonResponse(error_body(_("Not found.")), status=404)


def _query_names(operation) -> frozenset[str]:
    """The query parameters an operation declares (a ``Query[Schema]`` counts field by field)."""
    names = set()
    for model in operation.models:
        if model.__ninja_param_source__ == "query":
            names.update(model.__ninja_flatten_map__)
    return frozenset(names)


def _json_problems(value, path: str, problems: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        if problem := text_problem(value):
            problems.setdefault(path or "__all__", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            if problem := text_problem(key):
                problems.setdefault(path or "__all__", []).append(problem)
            else:
                _json_problems(item, f"{path}.{key}" if path else key, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_problems(item, f"{path}.{index}" if path else str(index), problems)


def _input_problems(request, query_names: frozenset[str], takes_body: bool) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        if name not in query_names:
            problems.setdefault(name, []).append(_("Unknown parameter."))
        for value in values:
            if problem := text_problem(value):
                problems.setdefault(name, []).append(problem)
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return problems  # ninja answers a body it cannot parse with 400
        if takes_body and not isinstance(body, dict):
            problems.setdefault("__all__", []).append(_("Send a JSON object."))
        _json_problems(body, "", problems)
    return problems


def _check_input(run):
    """Refuse what no operation can take: unknown query parameters, unstorable text.

    Installed for every operation through ``api.add_decorator(mode="view")``, which hands
    over the operation's bound ``run``; the check wraps the operation's view function
    instead, so that it comes after authentication (anonymous is always 401) and after
    the declared parameters were validated.
    """
    operation = run.__self__
    query_names = _query_names(operation)
    takes_body = any(m.__ninja_param_source__ == "body" for m in operation.models)
    view = operation.view_func

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if problems := _input_problems(request, query_names, takes_body):
            raise ValidationFailed(errors=problems)
        return view(request, *args, **kwargs)

    operation.view_func = checked
    return run


api.add_decorator(_check_input, mode="view")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, error_body(_("Authentication required.")), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, error_body(exc.message), status=exc.status_code)


class Ref(Schema):
    """A linked record or user, by id and display name."""

    id: int
    name: str


def ref(obj) -> dict | None:
    """``Ref`` of ``obj``; None for no link."""
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


class StrictIn(Schema):
    """A request body that refuses keys it does not know (a typo is a 422, not ignored)."""

    model_config = ConfigDict(extra="forbid")


class PlacedIn(StrictIn):
    """What every record type's create and update take beside its own fields."""

    owner_id: DbInt | None = Field(None, description="Defaults to you on create")
    department_id: DbInt | None = Field(None, description="Defaults to your department on create")
    custom: dict[str, Any] = Field(
        {}, description="Custom field values by API name; a name left out keeps its value"
    )


class VersionedIn(Schema):
    """An update's optimistic lock."""

    version: DbInt | None = Field(
        None, description="The version you edited; or send it as the If-Match header"
    )


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
