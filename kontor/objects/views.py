"""Settings pages where an administrator defines custom object types (not Django's admin).

The records of a custom type are served by the engine's generic pages
(``kontor.web.records``, see ``urls.py``); these pages manage the types themselves.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontor.accounts.forms import add_service_error
from kontor.accounts.views import settings_page
from kontor.core.access import Action, record_in_scope
from kontor.core.customfields.services import may_manage_fields
from kontor.core.errors import KontorError, NotFound

from . import services
from .forms import DefinitionForm
from .models import ObjectTypeDefinition


def _definitions(user, action: str = Action.VIEW):
    return ObjectTypeDefinition.objects.visible_to(user, action)


def _definition(user, pk: int, action: str = Action.VIEW) -> ObjectTypeDefinition:
    try:
        definition = _definitions(user).get_visible(user, pk)
    except NotFound:
        raise Http404() from None
    if not record_in_scope(user, definition, action):
        raise Http404()
    return definition


def _preview(data: dict) -> dict:
    """How the type will show: its menu entry and address (the form's preview)."""
    slug = (data.get("slug") or "").strip().lower()
    return {
        "menu": f"{data.get('icon') or ''} {data.get('plural') or ''}".strip(),
        "path": f"/objects/{slug}/" if slug else "",
    }


@login_required
def definition_list(request):
    if not services.may_view_definitions(request.user):
        raise Http404()
    definitions = _definitions(request.user).annotate(record_count=Count("records"))
    return settings_page(
        request,
        "objects/definition_list.html",
        {"definitions": definitions, "may_define": services.may_define(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def definition_create(request):
    if not services.may_define(request.user):
        raise Http404()
    form = DefinitionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                definition = services.create_definition(form.cleaned_data, actor=request.user)
            except KontorError as exc:
                add_service_error(form, exc)
            else:
                if not may_manage_fields(request.user):
                    messages.success(
                        request, _("“%(name)s” is ready: it is in the menu.") % {"name": definition}
                    )
                    return redirect("objects:definition_list")
                # A new type has a name only: its fields are what the admin adds next.
                messages.success(
                    request,
                    _("“%(name)s” is ready: it is in the menu. Now add its fields.")
                    % {"name": definition},
                )
                return redirect("web:field_type", definition.object_type)
    context = {"form": form, "preview": _preview(form.data or {})}
    return settings_page(request, "objects/definition_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def definition_edit(request, pk: int):
    definition = _definition(request.user, pk, Action.EDIT)
    form = DefinitionForm(request.POST or None, definition=definition)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            try:
                services.update_definition(
                    definition, data, actor=request.user, expected_version=version
                )
            except KontorError as exc:
                add_service_error(form, exc)
                status = exc.status_code if exc.status_code == 409 else 422
            else:
                messages.success(
                    request, _("Changes to “%(name)s” were saved.") % {"name": definition}
                )
                return redirect("objects:definition_list")
    data = form.data if form.is_bound else form.initial
    context = {
        "form": form,
        "definition": definition,
        "may_manage_fields": may_manage_fields(request.user),
        "preview": _preview({**data, "slug": definition.slug}),
    }
    return settings_page(request, "objects/definition_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def definition_delete(request, pk: int):
    definition = _definition(request.user, pk, Action.DELETE)
    count = definition.records.count()
    if request.method == "POST":
        archive = request.POST.get("archive") == "1"
        try:
            done = services.delete_definition(definition, actor=request.user, archive=archive)
        except KontorError as exc:
            messages.error(request, str(exc.message))
            return redirect(reverse("objects:definition_delete", args=[pk]))
        if done == "archived":
            messages.success(
                request, _("“%(name)s” was archived; its records are kept.") % {"name": definition}
            )
        else:
            messages.success(request, _("“%(name)s” was deleted.") % {"name": definition})
        return redirect("objects:definition_list")
    return settings_page(
        request, "objects/definition_delete.html", {"definition": definition, "count": count}
    )
