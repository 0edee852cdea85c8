"""Saved views on the list page of every record type: the "Views" menu (what the user
sees for the type, each opening the list in its saved state) and "Save view"; saving,
renaming, re-sharing and deleting post here and go back to the list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.accounts.queries import placement_department_tree
from kontor.core.access import Action
from kontor.core.errors import ValidationFailed
from kontor.core.types import RecordType
from kontor.core.types import get as type_of
from kontor.web.errors import service_errors

from . import services
from .models import SavedView


def list_menu(request, rt: RecordType, shown_columns: list) -> dict:
    """What the list page's "Views" and "Save view" controls show."""
    user = request.user
    state = services.state_of(rt, request.GET)
    views = [
        {
            "view": view,
            "url": rt.url("list") + services.open_query(view),
            "current": view.query == state,
            "mine": view.owner_id == user.pk,
            "may_change": services.may_change(user, view),
        }
        for view in services.seen_for_type(user, rt)
    ]
    sharing = services.sharing_choices(user, rt.object_type)
    return {
        "saved_views": views,
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
