"""The app shell: login, logout, home dashboard and global search."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from kontor.accounts import services as accounts
from kontor.accounts.forms import RESET_MAIL_TEMPLATES, PasswordResetForm, ResetPasswordForm
from kontor.core import files, modules, types
from kontor.core import search as core_search
from kontor.core.access import Action
from kontor.core.api_routes import finished_export_file, own_export
from kontor.dashboards.views import dashboard_page

from . import records
from .errors import service_errors

SUGGEST_LIMIT = 5
PAGE_LIMIT = 50


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule): a link or an image cannot log someone out."""


@require_POST
def set_language(request):
    """Django's language switch (cookie, redirect); a logged-in user's choice is kept on them."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        accounts.set_language(request.user, language, actor=request.user)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Forgot password: the same answer whether the email is known, unknown or throttled."""

    form_class = PasswordResetForm
    template_name = "web/password_reset_form.html"
    subject_template_name = RESET_MAIL_TEMPLATES["subject_template_name"]
    email_template_name = RESET_MAIL_TEMPLATES["email_template_name"]
    success_url = reverse_lazy("web:password_reset_done")

    def get_form_kwargs(self):
        # The address as the login throttle reads it (axes), so both count the same client.
        return {**super().get_form_kwargs(), "client_ip": get_client_ip_address(self.request)}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link's page: Django checks the token, the accounts service stores and audits."""

    form_class = ResetPasswordForm
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"


def _why(obj) -> str:
    """ "matched: phone +7 916 123-45-67": the fields that matched, but the title itself."""
    title = str(obj)
    shown = [f"{m.label} {m.text}" for m in obj.match_reasons if m.text != title]
    return _("matched: %(fields)s") % {"fields": ", ".join(shown)} if shown else ""


def _grouped_results(user, q: str, limit: int) -> list[dict]:
    groups = []
    for entry, objs in core_search.search(user, q, limit=limit):
        hits = [
            {
                "obj": obj,
                "url": types.url_of(obj),
                "subtitle": entry.subtitle(obj) if entry.subtitle else "",
                "why": _why(obj),
            }
            for obj in objs
        ]
        groups.append({"label": entry.label, "hits": hits})
    return groups


@login_required
def home(request):
    """The user's dashboard (``kontor.dashboards``)."""
    return dashboard_page(request)


@login_required
@require_GET
def search_suggest(request):
    """The dropdown under the global search box (htmx partial)."""
    q = request.GET.get("q", "").strip()
    groups = _grouped_results(request.user, q, SUGGEST_LIMIT) if q else []
    return render(
        request,
        "web/_search_suggest.html",
        {"q": q, "groups": [g for g in groups if g["hits"]]},
    )


@login_required
@require_GET
def search_page(request):
    q = request.GET.get("q", "").strip()
    groups = _grouped_results(request.user, q, PAGE_LIMIT) if q else []
    return render(
        request,
        "web/search.html",
        {
            "q": q,
            "search_q": q,
            "groups": groups,
            "total": sum(len(g["hits"]) for g in groups),
        },
    )


@login_required
@require_GET
@service_errors
def object_history(request, object_type: str, pk: int):
    """The history of anything registered (a user, a role, a department, a record), to
    whoever may view it; 404 otherwise, as for an unknown id."""
    entry = types.get(object_type)
    if entry is None:
        raise Http404()
    obj = entry.visible(request.user).get_visible(request.user, pk)
    if isinstance(entry, types.RecordType):
        return redirect(entry.url("tab", pk, "history"))
    return render(
        request,
        "web/history.html",
        {"obj": obj, "entry": entry, "history": records.history(request.user, entry, obj)},
    )


RECORD_OPTIONS_LIMIT = 10


@login_required
@require_GET
def record_options(request, object_type: str):
    """The first records of a type matching ``q`` that the user may see: the options of a
    relation field's picker (any registered record type, custom objects included)."""
    rt = types.get(object_type)
    if not isinstance(rt, types.RecordType) or not modules.type_enabled(request.user, object_type):
        raise Http404()
    q = request.GET.get("q", "").strip()
    found = rt.list_query(request.user, types.ListFilters(q=q))[:RECORD_OPTIONS_LIMIT]
    options = [{"pk": r.pk, "label": str(r), "subtitle": rt.row_subtitle(r)} for r in found]
    return render(request, "web/records/_record_options.html", {"options": options, "q": q})


@login_required
@require_GET
@service_errors
def attachment_download(request, pk):
    """A document of any record, to whoever can see that record (404 otherwise)."""
    attachment = files.attachment_for(request.user, pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_POST
@service_errors
def attachment_delete(request, pk):
    attachment = files.attachment_for(request.user, pk, Action.EDIT)
    record = files.record_of(attachment)
    files.delete_attachment(attachment, actor=request.user)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": attachment.name})
    return redirect(
        records.safe_back(request, request.POST.get("next", ""))
        or types.url_of(record)
        or "web:home"
    )


@login_required
@require_GET
@service_errors
def export_job(request, pk):
    """A big export's page: its progress (reloaded by htmx while it runs) and its file."""
    job = own_export(request.user, pk)
    rt = types.get(job.object_type)
    context = {"job": job, "rt": rt}
    if request.htmx:
        return render(request, "web/_export_progress.html", context)
    return render(request, "web/export_job.html", context)


@login_required
@require_GET
@service_errors
def export_job_file(request, pk):
    return finished_export_file(request.user, pk)
