"""Settings pages: users, departments, roles, event deliveries and my API tokens.

Thin: reads through queries, writes through services. A page the user may not use is
404, like a record outside their scope.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from kontor.core import events, modules, types
from kontor.core.access import Action, Scope, may, record_in_scope, scope_for
from kontor.core.errors import KontorError, NotFound, with_retry_after
from kontor.core.models import OutboxDelivery

from . import queries, services
from .forms import (
    ChangePasswordForm,
    DepartmentForm,
    PasswordForm,
    RoleForm,
    TokenForm,
    UserFilterForm,
    UserForm,
    add_service_error,
    send_reset_link,
)
from .models import Department, Role, User

USERS_PER_PAGE = 50


def _may_see_roles(user) -> bool:
    # Roles belong to no owner or department: only an "everything" scope shows any.
    return scope_for(user, services.ROLE_TYPE, Action.VIEW) == Scope.ALL


def settings_sections(user) -> list[str]:
    """The URL names of the settings pages this user may open, in menu order."""
    sections = []
    if may(user, services.USER_TYPE, Action.VIEW):
        sections.append("accounts:user_list")
    if may(user, services.DEPARTMENT_TYPE, Action.VIEW):
        sections.append("accounts:department_list")
    if _may_see_roles(user):
        sections.append("accounts:role_list")
    sections += [
        page.url_name
        for page in types.settings_pages()
        if page.allowed(user) and modules.page_enabled(user, page.url_name)
    ]
    if events.may_view_deliveries(user):
        sections.append("accounts:event_list")
    sections += ["accounts:password_change", "accounts:token_list"]
    return sections


SECTION_LABELS = {
    "accounts:user_list": gettext_lazy("Users"),
    "accounts:department_list": gettext_lazy("Departments"),
    "accounts:role_list": gettext_lazy("Roles"),
    "accounts:event_list": gettext_lazy("Event deliveries"),
    "accounts:password_change": gettext_lazy("My password"),
    "accounts:token_list": gettext_lazy("My API tokens"),
}


def settings_page(request, template: str, context: dict, *, status: int = 200):
    """Render a settings page: its content beside the menu of sections ``request.user`` may
    open (other apps' pages included, through ``core.types.register_settings_page``)."""
    # "user_edit" belongs to the "user_list" section, and so on.
    labels = {**SECTION_LABELS, **{p.url_name: p.label for p in types.settings_pages()}}
    current = request.resolver_match.url_name.split("_")[0]
    context = {
        "settings_sections": [
            {
                "url_name": name,
                "label": labels[name],
                "current": name.split(":")[1].startswith(current + "_"),
            }
            for name in settings_sections(request.user)
        ],
        **context,
    }
    return render(request, template, context, status=status)


def _refused_status(error: KontorError) -> int:
    # "Too many attempts" keeps its 429, so a script can tell it from a wrong input.
    return 429 if error.status_code == 429 else 422


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404()


def _visible(model, user, pk):
    try:
        return model.objects.get_visible(user, pk)
    except NotFound:
        raise Http404() from None


@login_required
def settings_home(request):
    return redirect(settings_sections(request.user)[0])


# -- users -------------------------------------------------------------------------------


@login_required
def user_list(request):
    actor = request.user
    _require(may(actor, services.USER_TYPE, Action.VIEW))
    filter_form = UserFilterForm(request.GET)
    filter_form.is_valid()
    cleaned = filter_form.cleaned_data
    active = {"1": True, "0": False}.get(cleaned.get("active") or "")
    filters = queries.UserFilters(
        q=cleaned.get("q") or "", department_id=cleaned.get("department"), active=active
    )
    page = Paginator(queries.users(actor, filters), USERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filter_form": filter_form,
        "department_options": [(d.pk, d.tree_label) for d in queries.department_tree(actor)],
        "selected_department": cleaned.get("department"),
        "query_string": query.urlencode(),
        "may_create": services.may_create_users(actor),
    }
    if request.htmx and request.htmx.target == "user-results":
        return render(request, "accounts/user_list.html#user_results", context)
    return settings_page(request, "accounts/user_list.html", context)


@login_required
def user_create(request):
    actor = request.user
    _require(services.may_create_users(actor))
    form = UserForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        try:
            user = services.create_user(
                email=data["email"],
                password=form.cleaned_data.get("password") or None,
                first_name=data["first_name"],
                last_name=data["last_name"],
                department=data["department"],
                roles=data.get("roles", []),
                is_superuser=data.get("is_superuser", False),
                actor=actor,
            )
        except KontorError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("accounts:user_list")
    status = 422 if form.errors else 200
    return settings_page(
        request, "accounts/user_form.html", {"form": form, "subject": None}, status=status
    )


@login_required
def user_edit(request, pk: int):
    actor = request.user
    subject = _visible(User, actor, pk)
    may_edit = record_in_scope(actor, subject, Action.EDIT)
    form = UserForm(request.POST if request.method == "POST" else None, actor=actor, user=subject)
    if request.method == "POST":
        _require(may_edit)
        if form.is_valid():
            try:
                services.update_user(
                    subject,
                    form.changes(),
                    actor=actor,
                    expected_version=form.cleaned_data.get("version"),
                )
            except NotFound:
                raise Http404() from None
            except KontorError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Changes to %(name)s saved.") % {"name": subject})
                return redirect("accounts:user_list")
    return _user_page(request, subject, form=form)


def _user_page(request, subject: User, *, form=None, password_form=None, status=None):
    """The user edit page: the user's fields, and the password forms of those who manage it."""
    actor = request.user
    may_edit = record_in_scope(actor, subject, Action.EDIT)
    form = form or UserForm(actor=actor, user=subject)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    may_manage_password = services.may_manage_password(actor, subject)
    context = {
        "form": form,
        "subject": subject,
        "may_edit": may_edit,
        "may_deactivate": may_edit and subject.is_active and subject.pk != actor.pk,
        "is_self": subject.pk == actor.pk,
        "password_form": (password_form or PasswordForm()) if may_manage_password else None,
        "may_send_reset": may_manage_password and subject.is_active,
    }
    if status is None:
        status = 422 if form.errors or (password_form and password_form.errors) else 200
    return settings_page(request, "accounts/user_form.html", context, status=status)


@login_required
@require_POST
def user_password(request, pk: int):
    """An administrator sets another user's password (the user is told it by them)."""
    actor = request.user
    subject = _visible(User, actor, pk)
    _require(services.may_manage_password(actor, subject))
    form = PasswordForm(request.POST)
    if form.is_valid():
        try:
            services.set_password(subject, password=form.cleaned_data["password"], actor=actor)
        except NotFound:
            raise Http404() from None
        except KontorError as exc:
            add_service_error(form, exc)
            return _user_page(request, subject, password_form=form, status=_refused_status(exc))
        messages.success(request, _("New password of %(name)s saved.") % {"name": subject})
        return redirect("accounts:user_edit", pk=pk)
    return _user_page(request, subject, password_form=form)


@login_required
@require_POST
def user_send_reset(request, pk: int):
    """Mail the user a link to choose a new password themselves."""
    subject = _visible(User, request.user, pk)
    try:
        services.send_password_reset(
            subject, actor=request.user, send=lambda user: send_reset_link(user, request)
        )
    except NotFound:
        raise Http404() from None
    except KontorError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("A reset link was sent to %(email)s.") % {"email": subject.email}
        )
    return redirect("accounts:user_edit", pk=pk)


@login_required
def password_change(request):
    """Change my own password: the current one first, so a borrowed session cannot."""
    form = ChangePasswordForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(
                request.user,
                password=form.cleaned_data["password"],
                current_password=form.cleaned_data["current_password"],
                actor=request.user,
            )
        except KontorError as exc:
            add_service_error(form, exc)
            status = _refused_status(exc)
            retry_after = getattr(exc, "retry_after", None)
        else:
            # The session hash follows the password; without this the change logs me out.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your new password is saved."))
            return redirect("accounts:password_change")
    if form.errors and status == 200:
        status = 422
    page = settings_page(request, "accounts/password_change.html", {"form": form}, status=status)
    return with_retry_after(page, retry_after)


@login_required
@require_POST
def user_deactivate(request, pk: int):
    subject = _visible(User, request.user, pk)
    try:
        services.deactivate_user(subject, actor=request.user)
    except NotFound:
        raise Http404() from None
    except KontorError as exc:
        messages.error(request, str(exc.message))
        return redirect("accounts:user_edit", pk=pk)
    messages.success(request, _("%(name)s can no longer log in.") % {"name": subject})
    return redirect("accounts:user_list")


# -- departments -------------------------------------------------------------------------


@login_required
def department_list(request):
    actor = request.user
    _require(may(actor, services.DEPARTMENT_TYPE, Action.VIEW))
    may_create = services.may_create_departments(actor)
    form = DepartmentForm(request.POST or None, actor=actor) if may_create else None
    if request.method == "POST":
        _require(may_create)
        if form.is_valid():
            try:
                department = services.create_department(
                    name=form.cleaned_data["name"],
                    parent=form.cleaned_data["parent"],
                    actor=actor,
                )
            except KontorError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Department %(name)s added.") % {"name": department})
                return redirect("accounts:department_list")
    tree = queries.department_tree(actor)
    member_counts = queries.member_counts(actor)
    by_id = {department.pk: department for department in tree}
    roots = []
    for department in tree:
        department.may_edit = record_in_scope(actor, department, Action.EDIT)
        department.member_count = member_counts.get(department.pk, 0)
        department.tree_children = []
        # Tree order puts every parent before its children, siblings already sorted.
        parent = by_id.get(department.parent_id)
        (parent.tree_children if parent else roots).append(department)
    context = {"tree": roots, "form": form}
    status = 422 if form is not None and form.errors else 200
    return settings_page(request, "accounts/department_list.html", context, status=status)


@login_required
def department_edit(request, pk: int):
    actor = request.user
    department = _visible(Department, actor, pk)
    _require(record_in_scope(actor, department, Action.EDIT))
    form = DepartmentForm(request.POST or None, actor=actor, department=department)
    if request.method == "POST" and form.is_valid():
        try:
            version = form.cleaned_data.get("version")
            if form.cleaned_data["name"] != department.name:
                department = services.rename_department(
                    department,
                    name=form.cleaned_data["name"],
                    actor=actor,
                    expected_version=version,
                )
                version = department.version
            parent = form.cleaned_data["parent"]
            if getattr(parent, "pk", None) != department.parent_id:
                services.move_department(
                    department, parent=parent, actor=actor, expected_version=version
                )
        except NotFound:
            raise Http404() from None
        except KontorError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Department %(name)s saved.") % {"name": department})
            return redirect("accounts:department_list")
    context = {
        "form": form,
        "department": department,
        "may_delete": record_in_scope(actor, department, Action.DELETE),
    }
    return settings_page(
        request, "accounts/department_form.html", context, status=422 if form.errors else 200
    )


@login_required
@require_POST
def department_delete(request, pk: int):
    department = _visible(Department, request.user, pk)
    try:
        services.delete_department(department, actor=request.user)
    except NotFound:
        raise Http404() from None
    except KontorError as exc:
        messages.error(request, str(exc.message))
        return redirect("accounts:department_edit", pk=pk)
    messages.success(request, _("Department %(name)s deleted.") % {"name": department.name})
    return redirect("accounts:department_list")


# -- roles -------------------------------------------------------------------------------


@login_required
def role_list(request):
    actor = request.user
    _require(_may_see_roles(actor))
    context = {"roles": queries.roles(actor), "may_manage": services.may_manage_roles(actor)}
    return settings_page(request, "accounts/role_list.html", context)


def _role_form_page(request, role: Role | None):
    actor = request.user
    _require(services.may_manage_roles(actor))
    form = RoleForm(request.POST or None, role=role)
    if request.method == "POST" and form.is_valid():
        fields = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data["description"],
            "grants": form.grants(),
            "actor": actor,
        }
        try:
            if role is None:
                role = services.create_role(**fields)
            else:
                services.update_role(
                    role, expected_version=form.cleaned_data.get("version"), **fields
                )
        except NotFound:
            raise Http404() from None
        except KontorError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": role.display_name})
            return redirect("accounts:role_list")
    context = {"form": form, "role": role, "actions": Action.choices}
    return settings_page(
        request, "accounts/role_form.html", context, status=422 if form.errors else 200
    )


@login_required
def role_create(request):
    return _role_form_page(request, None)


@login_required
def role_edit(request, pk: int):
    _require(_may_see_roles(request.user))
    return _role_form_page(request, _visible(Role, request.user, pk))


@login_required
@require_POST
def role_delete(request, pk: int):
    _require(services.may_manage_roles(request.user))
    role = _visible(Role, request.user, pk)
    try:
        services.delete_role(role, actor=request.user)
    except KontorError as exc:
        messages.error(request, str(exc.message))
        return redirect("accounts:role_edit", pk=pk)
    messages.success(request, _("Role %(name)s deleted.") % {"name": role.display_name})
    return redirect("accounts:role_list")


# -- event deliveries --------------------------------------------------------------------

DELIVERIES_PER_PAGE = 50
DELIVERY_TABS = {
    OutboxDelivery.Status.FAILED: gettext_lazy("Failed"),
    OutboxDelivery.Status.PENDING: gettext_lazy("Waiting"),
}


@login_required
def event_list(request):
    """Deliveries of domain events to handlers that failed, or still wait to run."""
    actor = request.user
    _require(events.may_view_deliveries(actor))
    status = request.GET.get("status")
    if status not in DELIVERY_TABS:
        status = OutboxDelivery.Status.FAILED
    page = Paginator(events.deliveries(actor, status), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "status": status,
        "tabs": [(key, label, f"?status={key}") for key, label in DELIVERY_TABS.items()],
        "may_retry": events.may_retry(actor),
        "query_string": f"status={status}",
    }
    return settings_page(request, "accounts/event_list.html", context)


@login_required
@require_POST
def event_retry(request):
    """Retry one delivery (``delivery`` in the form) or, without it, every failed one."""
    actor = request.user
    _require(events.may_retry(actor))
    status = request.POST.get("status")
    back = f"{reverse('accounts:event_list')}?status={status if status in DELIVERY_TABS else ''}"
    chosen = request.POST.get("delivery")
    try:
        count = events.retry(actor, None if chosen is None else [int(chosen)])
    except ValueError:
        raise Http404() from None
    except NotFound as exc:
        # Done or started meanwhile (another admin, a dispatcher): the list tells which.
        messages.error(request, str(exc.message))
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "%(count)d delivery will be retried now.",
            "%(count)d deliveries will be retried now.",
            count,
        )
        % {"count": count},
    )
    return redirect(back)


# -- my API tokens -----------------------------------------------------------------------


@login_required
def token_list(request):
    """My tokens; a freshly created token is shown on this response only, never stored."""
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        new_token = services.issue_token(
            request.user, name=form.cleaned_data["name"], actor=request.user
        )
        form = TokenForm()
    context = {"tokens": queries.tokens_of(request.user), "form": form, "new_token": new_token}
    response = settings_page(request, "accounts/token_list.html", context)
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = queries.tokens_of(request.user).filter(pk=pk).first()
    _require(token is not None)
    services.revoke_token(token, actor=request.user)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.key_prefix})
    return redirect("accounts:token_list")
