"""Settings → VAT rates, for administrators (everyone else reads the rates through the
API and the product form's choices).

Products' pages are the engine's (``kontor.web.records``, see ``urls.py``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.accounts.forms import add_service_error
from kontor.accounts.views import settings_page
from kontor.core.errors import KontorError, NotFound

from . import services
from .forms import VatRateForm
from .models import VatRate, may_manage_vat_rates


def _require_manager(user) -> None:
    # Anyone else gets 404, as on the other administrators' settings pages.
    if not may_manage_vat_rates(user):
        raise Http404()


def _vat_rate(user, pk: int) -> VatRate:
    try:
        return VatRate.objects.visible_to(user, "edit").get_visible(user, pk, "edit")
    except NotFound:
        raise Http404() from None


@login_required
def vat_rate_list(request):
    _require_manager(request.user)
    rates = VatRate.objects.visible_to(request.user, "edit").annotate(
        product_count=Count("products")
    )
    return settings_page(request, "catalog/vat_rate_list.html", {"vat_rates": rates})


def _save(form: VatRateForm, write) -> tuple[bool, int]:
    """Run ``write(data, version)`` with the form's input: (saved, status to answer)."""
    if not form.is_valid():
        return False, 422
    data = dict(form.cleaned_data)
    version = data.pop("version", None)
    try:
        write(data, version)
    except KontorError as exc:
        add_service_error(form, exc)
        return False, 409 if exc.status_code == 409 else 422
    return True, 200


@login_required
@require_http_methods(["GET", "POST"])
def vat_rate_create(request):
    _require_manager(request.user)
    form = VatRateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        saved, status = _save(
            form,
            lambda data, version: services.create_vat_rate(data, actor=request.user),
        )
        if saved:
            messages.success(request, _("The VAT rate was added."))
            return redirect("catalog:vat_rate_list")
    return settings_page(request, "catalog/vat_rate_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def vat_rate_edit(request, pk: int):
    _require_manager(request.user)
    vat_rate = _vat_rate(request.user, pk)
    form = VatRateForm(request.POST or None, vat_rate=vat_rate)
    status = 200
    if request.method == "POST":
        saved, status = _save(
            form,
            lambda data, version: services.update_vat_rate(
                vat_rate, data, actor=request.user, expected_version=version
            ),
        )
        if saved:
            messages.success(
                request, _("Changes to “%(name)s” were saved.") % {"name": vat_rate.name}
            )
            return redirect("catalog:vat_rate_list")
    context = {"form": form, "vat_rate": vat_rate}
    return settings_page(request, "catalog/vat_rate_form.html", context, status=status)


@login_required
@require_POST
def vat_rate_delete(request, pk: int):
    _require_manager(request.user)
    vat_rate = _vat_rate(request.user, pk)
    try:
        services.delete_vat_rate(vat_rate, actor=request.user)
    except KontorError as exc:
        messages.error(request, str(exc.message))
        return redirect("catalog:vat_rate_edit", pk)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": vat_rate.name})
    return redirect("catalog:vat_rate_list")
