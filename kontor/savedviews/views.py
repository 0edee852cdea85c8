"""Saved views on the list page of every record type: the "Views" menu (what the user
sees for the type, each opening the list in its saved state) and "Save view"; saving,
renaming, re-sharing and deleting post here and go back to the list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kontor.accounts.models import Role
from kontor.accounts.queries import placement_department_tree
from kontor.accounts.views import settings_page
from kontor.core.access import Action
from kontor.core.errors import NotFound, ValidationFailed
from kontor.core.types import RecordType, record_types
from kontor.core.types import get as type_of
from kontor.web.errors import service_errors

from . import services
from .models import SavedView, may_manage_views

# The list's address without a query opens the default view; this one opens every record.
ALL_RECORDS = "?view=all"


def default_address(request, rt: RecordType) -> str | None:
    """Where a bare list address goes instead: the user's default view of the type."""
    if request.GET or request.htmx:
        return None
    view = services.default_view(request.user, rt)
    query = services.open_query(view) if view else ""
    return rt.url("list") + query if query else None


def list_menu(request, rt: RecordType, shown_columns: list) -> dict:
    """What the list page's "Views" and "Save view" controls show."""
    user = request.user
    state = services.state_of(rt, request.GET)
    default_id = services.own_default_id(user, rt)
    pinned = services.pinned_ids(user)
    views = [
        {
            "view": view,
            "url": rt.url("list") + services.open_query(view),
            "current": view.query == state,
            "mine": view.owner_id == user.pk,
            "may_change": services.may_change(user, view),
            "is_default": view.pk == default_id,
            "is_pinned": view.pk in pinned,
        }
        for view in services.seen_for_type(user, rt)
    ]
    sharing = services.sharing_choices(user, rt.object_type)
    return {
        "saved_views": views,
        "all_records_url": rt.url("list") + ALL_RECORDS,
        "view_sharing": [(value, SavedView.Sharing(value).label) for value in sharing],
        "view_departments": (
            placement_department_tree(user, rt.object_type, Action.EDIT)
            if SavedView.Sharing.DEPARTMENT in sharing
            else []
        ),
        "view_query": request.GET.urlencode(),
        "view_columns": [column.key for column in shown_columns],
    }


def _changes(post) -> dict:
    data = {"name": post.get("name", ""), "sharing": post.get("sharing", "personal")}
    if data["sharing"] == SavedView.Sharing.DEPARTMENT:
        data["department_id"] = post.get("department_id", "")
    return data


def _refused(request, exc: ValidationFailed) -> None:
    for message in [m for msgs in exc.errors.values() for m in msgs] or [str(exc.message)]:
        messages.error(request, message)


@login_required
@require_POST
@service_errors
def save_view(request):
    """A new view of the list's state posted (its query string and shown columns)."""
    rt = type_of(request.POST.get("object_type", ""))
    if not isinstance(rt, RecordType):
        raise Http404()
    data = {
        **_changes(request.POST),
        "query": services.state_of(rt, QueryDict(request.POST.get("query", ""))),
        "columns": request.POST.getlist("columns"),
    }
    try:
        view = services.create(rt, data, actor=request.user)
    except ValidationFailed as exc:
        _refused(request, exc)
        return redirect(rt.url("list") + "?" + request.POST.get("query", ""))
    messages.success(request, _("View saved: %(name)s.") % {"name": view.name})
    return redirect(rt.url("list") + services.open_query(view))


@login_required
@require_POST
@service_errors
def view_preference(request, pk: int):
    """The user's own use of a view they see: open the list in it by default, keep it in
    the main menu (``action``: default_on, default_off, pin_on, pin_off)."""
    view = services.view_for(request.user, pk)
    rt = services.record_type(view)
    action = request.POST.get("action", "")
    if rt is None or action not in PREFERENCES:
        raise Http404()
    setter, on, done = PREFERENCES[action]
    try:
        setter(request.user, view, on)
    except ValidationFailed as exc:
        _refused(request, exc)
    else:
        messages.success(request, done % {"name": view.name})
    return redirect(rt.url("list") + services.open_query(view))


PREFERENCES = {
    "default_on": (services.set_own_default, True, gettext_lazy("The list now opens in %(name)s.")),
    "default_off": (
        services.set_own_default,
        False,
        gettext_lazy("The list no longer opens in %(name)s."),
    ),
    "pin_on": (services.set_pinned, True, gettext_lazy("%(name)s is in the menu now.")),
    "pin_off": (services.set_pinned, False, gettext_lazy("%(name)s left the menu.")),
}


@login_required
@require_POST
@service_errors
def change_view(request, pk: int):
    """Rename or re-share a view (``action=save``) or delete it (``action=delete``)."""
    view = services.view_for(request.user, pk)
    rt = services.record_type(view)
    if rt is None:
        raise Http404()
    try:
        if request.POST.get("action") == "delete":
            services.delete(view, actor=request.user)
            messages.success(request, _("View deleted: %(name)s.") % {"name": view.name})
            return redirect(rt.url("list"))
        view = services.update(view, _changes(request.POST), actor=request.user)
    except ValidationFailed as exc:
        _refused(request, exc)
        return redirect(rt.url("list") + services.open_query(view))
    messages.success(request, _("View saved: %(name)s.") % {"name": view.name})
    return redirect(rt.url("list") + services.open_query(view))


# -- Settings → Views: everyone's views and the roles' defaults, for administrators of views --

ADMIN_PAGE_SIZE = 50


def _require_admin(user) -> None:
    # Anyone else gets 404, as on the other administrators' settings pages.
    if not may_manage_views(user):
        raise Http404()


@login_required
def views_admin(request):
    """Every user's views of every record type (filtered by type), and the role defaults."""
    user = request.user
    _require_admin(user)
    view_types = record_types()
    chosen = request.GET.get("type", "")
    found = SavedView.objects.select_related("owner", "department").order_by(
        "object_type", Lower("name"), "id"
    )
    if chosen:
        found = found.filter(object_type=chosen)
    page = Paginator(found, ADMIN_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = {rt.object_type: rt.plural for rt in view_types}
    for view in page.object_list:
        view.type_label = labels.get(view.object_type, view.object_type)
        view.url = (
            (rt.url("list") + services.open_query(view))
            if (rt := services.record_type(view))
            else ""
        )
    shared = SavedView.objects.filter(sharing=SavedView.Sharing.EVERYONE).order_by(
        "object_type", Lower("name")
    )
    context = {
        "page": page,
        "view_types": view_types,
        "chosen_type": chosen,
        "role_defaults": [
            (labels.get(d.object_type, d.object_type), d) for d in services.role_defaults()
        ],
        "roles": Role.objects.order_by("name"),
        "shared_views": [(labels.get(v.object_type, v.object_type), v) for v in shared],
    }
    return settings_page(request, "savedviews/settings.html", context)


@login_required
@require_POST
@service_errors
def views_admin_delete(request, pk: int):
    _require_admin(request.user)
    view = services.view_for(request.user, pk)
    services.delete(view, actor=request.user)
    messages.success(request, _("View deleted: %(name)s.") % {"name": view.name})
    return redirect("savedviews:views_admin")


@login_required
@require_POST
@service_errors
def role_default_set(request):
    _require_admin(request.user)
    try:
        view = services.view_for(request.user, request.POST.get("view_id"))
        default = services.set_role_default(view, request.POST.get("role_id"), actor=request.user)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound):
            messages.error(request, _("Choose a view shared with everyone."))
        else:
            _refused(request, exc)
    else:
        messages.success(
            request,
            _("Members of %(role)s now open the list in %(name)s.")
            % {"role": default.role, "name": default.view.name},
        )
    return redirect("savedviews:views_admin")


@login_required
@require_POST
@service_errors
def role_default_remove(request, pk: int):
    _require_admin(request.user)
    services.remove_role_default(pk, actor=request.user)
    messages.success(request, _("Default view removed."))
    return redirect("savedviews:views_admin")
