"""People and companies in the browser: lists, detail tabs, forms, bulk actions, documents.

Thin by rule: every read goes through ``queries`` (a record outside the user's scope is a
404), every write through ``services`` or ``kontor.core.files``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.accounts.models import Department
from kontor.accounts.queries import assignable_owners, placement_department_tree
from kontor.core import files
from kontor.core.access import Action, may, record_in_scope, require
from kontor.core.errors import Conflict, KontorError, NotFound, PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id
from kontor.core.models import AuditEntry
from kontor.core.pagination import CappedPaginator
from kontor.web.errors import service_errors
from kontor.web.templatetags.kontor import query_string

from . import queries, services
from .forms import CompanyForm, PersonForm
from .models import Company, Person

PAGE_SIZE = 50
AUTOCOMPLETE_LIMIT = 10
HISTORY_LIMIT = 200
RELATED_LIMIT = 200


@dataclass(frozen=True)
class RecordType:
    """Everything the shared views need to know to serve people or companies."""

    name: str  # "person" / "company": URL names and template names
    model: type
    list_query: Callable
    one_query: Callable
    form_class: type
    create: Callable
    update: Callable
    delete: Callable
    sorts: dict
    columns: tuple  # (sort key or "", label)
    export_path: str
    singular: str
    plural: str

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower

    def url(self, suffix: str, *args) -> str:
        return reverse(f"contacts:{self.name}_{suffix}", args=args)


PERSON = RecordType(
    name="person",
    model=Person,
    list_query=queries.people,
    one_query=queries.person,
    form_class=PersonForm,
    create=services.create_person,
    update=services.update_person,
    delete=services.delete_person,
    sorts=queries.PERSON_SORTS,
    columns=(
        ("name", pgettext_lazy("person", "Name")),
        ("company", gettext_lazy("Company")),
        ("", gettext_lazy("Phone")),
        ("", gettext_lazy("Email")),
        ("", gettext_lazy("Owner")),
        ("", gettext_lazy("Tags")),
    ),
    export_path="/api/v1/people/export",
    singular=gettext_lazy("person"),
    plural=gettext_lazy("people"),
)
COMPANY = RecordType(
    name="company",
    model=Company,
    list_query=queries.companies,
    one_query=queries.company,
    form_class=CompanyForm,
    create=services.create_company,
    update=services.update_company,
    delete=services.delete_company,
    sorts=queries.COMPANY_SORTS,
    columns=(
        ("name", gettext_lazy("Name")),
        ("industry", gettext_lazy("Industry")),
        ("", gettext_lazy("Phone")),
        ("", gettext_lazy("Email")),
        ("", gettext_lazy("Owner")),
        ("", gettext_lazy("Tags")),
    ),
    export_path="/api/v1/companies/export",
    singular=gettext_lazy("company"),
    plural=gettext_lazy("companies"),
)


def _permissions(user, rt: RecordType) -> dict:
    return {a: may(user, rt.object_type, a) for a in Action.all}


# -- lists ---------------------------------------------------------------------------------


def _int_or_none(value):
    return as_db_id(value)


def _filters(params, rt: RecordType) -> queries.ListFilters:
    sort = params.get("sort", "name")
    return queries.ListFilters(
        q=params.get("q", "").strip(),
        tag=params.get("tag", "").strip(),
        owner_id=_int_or_none(params.get("owner_id")),
        department_id=_int_or_none(params.get("department_id")),
        company_id=_int_or_none(params.get("company_id")) if rt is PERSON else None,
        industry=params.get("industry", "").strip() if rt is COMPANY else "",
        # The last value: the list form sends "false" before its checkbox's "true".
        mine=params.get("mine") == "true",
        sort=sort if sort in rt.sorts else "name",
    )


def _sort_columns(request, rt: RecordType, current: str) -> list[dict]:
    columns = []
    for key, label in rt.columns:
        column = {"key": key, "label": label, "state": None, "url": ""}
        if key:
            if current == key:
                column["state"], next_sort = "ascending", "-" + key
            elif current == "-" + key:
                column["state"], next_sort = "descending", key
            else:
                next_sort = key
            column["url"] = query_string(request.GET, sort=next_sort)
        columns.append(column)
    return columns


@login_required
@require_GET
def _list(request, rt: RecordType):
    filters = _filters(request.GET, rt)
    qs = rt.list_query(request.user, filters).prefetch_related("phones", "emails", "tags")
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    filter_company = None
    if filters.company_id:
        try:
            filter_company = queries.company(request.user, filters.company_id)
        except NotFound:
            filter_company = None
    export_query = query_string(request.GET, page=None)
    context = {
        "rt": rt,
        "page": page,
        "rows": rows,
        "filters": filters,
        "columns": _sort_columns(request, rt, filters.sort),
        "can": _permissions(request.user, rt),
        "tags": queries.tags_in_use(request.user, rt.model),
        # Filters offer whom and where the user can see; bulk changes, where they may put.
        "owners": assignable_owners(request.user, rt.object_type, Action.VIEW),
        "departments": placement_department_tree(request.user, rt.object_type, Action.VIEW),
        "bulk_owners": assignable_owners(request.user, rt.object_type, Action.EDIT),
        "bulk_departments": (
            placement_department_tree(request.user, rt.object_type, Action.EDIT)
            if may(request.user, rt.object_type, Action.EDIT)
            else []
        ),
        "industries": (
            queries.companies(request.user)
            .exclude(industry="")
            .order_by("industry")
            .values_list("industry", flat=True)
            .distinct()
            if rt is COMPANY
            else []
        ),
        "filter_company": filter_company,
        "is_filtered": any(
            [
                filters.q,
                filters.tag,
                filters.owner_id,
                filters.department_id,
                filters.company_id,
                filters.industry,
                filters.mine,
            ]
        ),
        "export_csv": rt.export_path + query_string(request.GET, page=None, format="csv"),
        "export_xlsx": rt.export_path + query_string(request.GET, page=None, format="xlsx"),
        "list_query": export_query,
    }
    template = "contacts/record_list.html"
    if request.htmx and request.htmx.target == "list-results":
        template += "#results"
    return render(request, template, context)


def person_list(request):
    return _list(request, PERSON)


def company_list(request):
    return _list(request, COMPANY)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# A bulk result names at most this many skipped records; the rest are counted.
SKIPPED_NAMES_SHOWN = 10


def _bulk_message(request, done_text: str, result: services.BulkResult) -> None:
    """Say what was done and, if some rows were not, which and why."""
    (messages.success if result.done else messages.warning)(request, done_text)
    if result.skipped:
        names = [str(obj) for obj in result.skipped[:SKIPPED_NAMES_SHOWN]]
        if len(result.skipped) > SKIPPED_NAMES_SHOWN:
            names.append("…")
        messages.warning(
            request,
            ngettext(
                "Skipped %(count)s record you may not change: %(names)s.",
                "Skipped %(count)s records you may not change: %(names)s.",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "names": ", ".join(names)},
        )
    if result.missing:
        messages.warning(
            request,
            ngettext(
                "%(count)s selected record was not found.",
                "%(count)s selected records were not found.",
                result.missing,
            )
            % {"count": result.missing},
        )


@login_required
@require_POST
def _bulk(request, rt: RecordType):
    ids = [i for i in map(as_db_id, request.POST.getlist("ids")) if i is not None]
    action = request.POST.get("action", "")
    back = _safe_next(request, rt.url("list"))
    if not ids:
        messages.warning(request, _("Select at least one row first."))
        return redirect(back)
    try:
        if action == "tag":
            tag = request.POST.get("tag", "").strip()
            if not tag:
                messages.warning(request, _("Type the tag to add."))
                return redirect(back)
            result = services.bulk_add_tag(rt.model, ids, tag, actor=request.user)
            done = ngettext(
                "Tag “%(tag)s” added to %(count)s record.",
                "Tag “%(tag)s” added to %(count)s records.",
                result.done,
            ) % {"tag": tag, "count": result.done}
        elif action in ("owner", "department"):
            key = f"{action}_id"
            target = _int_or_none(request.POST.get(key))
            if target is None:
                messages.warning(
                    request,
                    _("Choose the new owner.")
                    if action == "owner"
                    else _("Choose the department."),
                )
                return redirect(back)
            result = services.bulk_update(rt.model, ids, {key: target}, actor=request.user)
            if action == "owner":
                done = ngettext(
                    "Owner changed on %(count)s record.",
                    "Owner changed on %(count)s records.",
                    result.done,
                )
            else:
                done = ngettext(
                    "Department changed on %(count)s record.",
                    "Department changed on %(count)s records.",
                    result.done,
                )
            done %= {"count": result.done}
        elif action == "delete":
            result = services.bulk_delete(rt.model, ids, actor=request.user)
            done = ngettext(
                "%(count)s record deleted.", "%(count)s records deleted.", result.done
            ) % {"count": result.done}
        else:
            messages.warning(request, _("Choose what to do with the selected rows."))
            return redirect(back)
    except ValidationFailed as exc:
        for message in [m for msgs in exc.errors.values() for m in msgs] or [exc.message]:
            messages.error(request, message)
        return redirect(back)
    except KontorError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    _bulk_message(request, done, result)
    return redirect(back)


def person_bulk(request):
    return _bulk(request, PERSON)


def company_bulk(request):
    return _bulk(request, COMPANY)


@login_required
@require_GET
def company_autocomplete(request):
    q = request.GET.get("company_label", request.GET.get("q", "")).strip()
    found = queries.companies(request.user, queries.ListFilters(q=q))[:AUTOCOMPLETE_LIMIT]
    return render(request, "contacts/_company_options.html", {"companies": found, "q": q})


# -- detail --------------------------------------------------------------------------------


def _tabs(rt: RecordType, obj) -> list[tuple[str, str]]:
    related = _("Company") if rt is PERSON else _("People")
    return [
        ("profile", _("Profile")),
        ("related", related),
        ("documents", _("Documents")),
        ("history", _("History")),
    ]


def _history(user, obj) -> list[dict]:
    entries = list(AuditEntry.objects.for_object(obj)[:HISTORY_LIMIT])
    names = _reference_names(user, entries)
    model = type(obj)
    history = []
    for entry in entries:
        changes = []
        for field, pair in entry.changes.items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                {
                    "label": _field_label(model, field),
                    "old": _display(field, old, names),
                    "new": _display(field, new, names),
                }
            )
        history.append(
            {"entry": entry, "verb": entry.action.rsplit(".", 1)[-1], "changes": changes}
        )
    return history


# Audited keys that are not fields of the record itself.
EXTRA_HISTORY_LABELS = {"attachments": gettext_lazy("documents")}


def _field_label(model, field: str) -> str:
    name = field.removesuffix("_id")
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(EXTRA_HISTORY_LABELS.get(name, name.replace("_", " ")))
    if model_field.is_relation and model_field.auto_created:
        return str(model_field.related_model._meta.verbose_name_plural)
    return str(model_field.verbose_name)


def _reference_names(user, entries) -> dict:
    """Names for owner, department and company ids in the history (companies only if visible)."""
    ids = {"owner_id": set(), "department_id": set(), "company_id": set()}
    for entry in entries:
        for field, pair in entry.changes.items():
            if field in ids and isinstance(pair, list):
                ids[field] |= {v for v in pair if isinstance(v, int)}
    names = {}
    if ids["owner_id"]:
        for u in get_user_model().objects.filter(pk__in=ids["owner_id"]):
            names[("owner_id", u.pk)] = str(u)
    if ids["department_id"]:
        for d in Department.objects.filter(pk__in=ids["department_id"]):
            names[("department_id", d.pk)] = d.name
    if ids["company_id"]:
        for c in Company.objects.visible_to(user).filter(pk__in=ids["company_id"]):
            names[("company_id", c.pk)] = c.name
    return names


def _display(field: str, value, names: dict) -> str:
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if (field, value) in names:
        return names[(field, value)]
    if field == "company_id":
        return _("a company you cannot see")
    return str(value)


@login_required
@require_GET
@service_errors
def _detail(request, rt: RecordType, pk: int, tab: str = "profile"):
    obj = rt.one_query(request.user, pk)
    tabs = _tabs(rt, obj)
    if tab not in dict(tabs):
        raise Http404()
    context = {
        "rt": rt,
        "obj": obj,
        "tab": tab,
        "tabs": [
            (
                key,
                label,
                rt.url("detail", obj.pk) if key == "profile" else rt.url("tab", obj.pk, key),
            )
            for key, label in tabs
        ],
        "may_edit": record_in_scope(request.user, obj, Action.EDIT),
        "may_delete": record_in_scope(request.user, obj, Action.DELETE),
        "can": _permissions(request.user, rt),
    }
    if tab == "related":
        if rt is COMPANY:
            context["related_people"] = list(
                queries.people_of_company(request.user, obj).select_related("owner")[:RELATED_LIMIT]
            )
    elif tab == "documents":
        context["attachments"] = list(files.attachments_of(obj).select_related("uploaded_by"))
    elif tab == "history":
        context["history"] = _history(request.user, obj)
    template = "contacts/record_detail.html"
    if request.htmx and request.htmx.target == "tab-panel":
        template += "#tab"
    return render(request, template, context)


def person_detail(request, pk, tab="profile"):
    return _detail(request, PERSON, pk, tab)


def company_detail(request, pk, tab="profile"):
    return _detail(request, COMPANY, pk, tab)


# -- create / edit / delete ----------------------------------------------------------------


def _form_context(request, rt: RecordType, form, **extra) -> dict:
    company_label = ""
    if rt is PERSON and form.data.get("company_id"):
        try:
            company_label = queries.company(request.user, form.data["company_id"]).name
        except NotFound:
            form.errors.setdefault("company_id", [_("Unknown company.")])
    # A new record is placed with "create"; an edited one with "edit", and keeps its
    # current owner and department on offer even if the user could not choose them.
    obj = extra.get("obj")
    action = Action.CREATE if obj is None else Action.EDIT
    return {
        "rt": rt,
        "form": form,
        "company_label": company_label,
        "owners": assignable_owners(
            request.user, rt.object_type, action, keep=getattr(obj, "owner_id", None)
        ),
        "departments": placement_department_tree(
            request.user, rt.object_type, action, keep=getattr(obj, "department_id", None)
        ),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def _create(request, rt: RecordType):
    if not may(request.user, rt.object_type, Action.CREATE):
        raise PermissionDenied()
    if request.method == "GET":
        data = {}
        if rt is PERSON and _int_or_none(request.GET.get("company_id")):
            data["company_id"] = int(request.GET["company_id"])
        form = rt.form_class(data, is_new=True)
        return render(request, "contacts/record_form.html", _form_context(request, rt, form))
    form = rt.form_class.from_post(request.POST, is_new=True)
    status = 200
    extra = {}
    if form.errors:
        status = 422
    elif not request.POST.get("save_anyway"):
        duplicates = services.likely_duplicates(form.data, actor=request.user, model=rt.model)
        if duplicates:
            extra["duplicates"] = duplicates
        if services.hidden_duplicate_exists(form.data, actor=request.user, model=rt.model):
            extra["hidden_duplicate"] = services.HIDDEN_DUPLICATE
    if not form.errors and not extra:
        try:
            obj = rt.create(form.data, actor=request.user)
        except ValidationFailed as exc:
            form.errors.update(exc.errors)
            extra["form_message"] = exc.message
            status = 422
        except PermissionDenied as exc:
            extra["form_message"] = exc.message
            status = 403
        else:
            messages.success(request, _("“%(name)s” was created.") % {"name": obj})
            return redirect(rt.url("detail", obj.pk))
    context = _form_context(request, rt, form, **extra)
    return render(request, "contacts/record_form.html", context, status=status)


def person_create(request):
    return _create(request, PERSON)


def company_create(request):
    return _create(request, COMPANY)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def _edit(request, rt: RecordType, pk: int):
    obj = rt.one_query(request.user, pk)
    require(request.user, Action.EDIT, obj)
    title = str(obj)
    if request.method == "GET":
        form = rt.form_class.from_record(obj)
        context = _form_context(request, rt, form, obj=obj, title=title, version=obj.version)
        return render(request, "contacts/record_form.html", context)
    form = rt.form_class.from_post(request.POST, is_new=False)
    version = _int_or_none(request.POST.get("version"))
    extra = {"obj": obj, "title": title, "version": version}
    status = 422
    if not form.errors:
        try:
            rt.update(obj, form.data, actor=request.user, expected_version=version)
        except Conflict as exc:
            extra["conflict"] = exc.message
            status = 409
        except ValidationFailed as exc:
            form.errors.update(exc.errors)
            extra["form_message"] = exc.message
        except PermissionDenied as exc:
            extra["form_message"] = exc.message
            status = 403
        else:
            messages.success(request, _("Changes to “%(name)s” were saved.") % {"name": obj})
            return redirect(rt.url("detail", obj.pk))
    context = _form_context(request, rt, form, **extra)
    return render(request, "contacts/record_form.html", context, status=status)


def person_edit(request, pk):
    return _edit(request, PERSON, pk)


def company_edit(request, pk):
    return _edit(request, COMPANY, pk)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def _delete(request, rt: RecordType, pk: int):
    obj = rt.one_query(request.user, pk)
    require(request.user, Action.DELETE, obj)
    if request.method == "POST":
        name = str(obj)
        try:
            rt.delete(
                obj, actor=request.user, expected_version=_int_or_none(request.POST.get("version"))
            )
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(rt.url("detail", pk))
        messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
        return redirect(rt.url("list"))
    return render(request, "contacts/record_delete.html", {"rt": rt, "obj": obj})


def person_delete(request, pk):
    return _delete(request, PERSON, pk)


def company_delete(request, pk):
    return _delete(request, COMPANY, pk)


# -- documents -----------------------------------------------------------------------------


@login_required
@require_POST
@service_errors
def _upload(request, rt: RecordType, pk: int):
    obj = rt.one_query(request.user, pk)
    try:
        attachment = files.add_attachment(obj, request.FILES.get("file"), actor=request.user)
    except ValidationFailed as exc:
        for msgs in exc.errors.values():
            for message in msgs:
                messages.error(request, message)
    else:
        messages.success(request, _("“%(name)s” was uploaded.") % {"name": attachment.name})
    return redirect(rt.url("tab", pk, "documents"))


def person_documents(request, pk):
    return _upload(request, PERSON, pk)


def company_documents(request, pk):
    return _upload(request, COMPANY, pk)
