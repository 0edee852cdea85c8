"""The company details settings page, its logo and a sample document to check the print.

Thin: reads and writes through ``services``. A page the user may not open is 404, as the
other settings pages are.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.accounts.forms import add_service_error
from kontor.accounts.views import settings_page
from kontor.core import money
from kontor.core.errors import KontorError

from . import pdf, services
from .forms import CompanyDetailsForm


def _require_viewer(user) -> None:
    if not services.may_view_details(user):
        raise Http404()


@login_required
def company_details(request):
    actor = request.user
    _require_viewer(actor)
    details = services.company_details()
    may_edit = services.may_edit_details(actor)
    form = CompanyDetailsForm(request.POST or None, request.FILES or None, details=details)
    if request.method == "POST" and not may_edit:
        raise Http404()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        logo = {}
        if data["remove_logo"]:
            logo["logo"] = None
        elif data["logo"]:
            # One byte past the limit is enough for the service to refuse it.
            logo["logo"] = data["logo"].read(settings.KONTOR_LOGO_MAX_BYTES + 1)
        try:
            services.update_company_details(
                {name: data[name] for name in services.TEXT_FIELDS},
                actor=actor,
                expected_version=data["version"],
                **logo,
            )
        except KontorError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Company details saved."))
            return redirect("documents:company_details")
    context = {"form": form, "details": details, "may_edit": may_edit}
    return settings_page(
        request, "documents/company_details.html", context, status=422 if form.errors else 200
    )


@login_required
def company_logo(request):
    _require_viewer(request.user)
    details = services.company_details()
    if not details.logo:
        raise Http404()
    return HttpResponse(bytes(details.logo), content_type=details.logo_type)


@login_required
def company_sample(request):
    """A sample quote with the stored details, in the user's language: how documents print."""
    _require_viewer(request.user)
    lines = (
        pdf.DocumentLine(_("Sample product"), _("pcs"), money.line_totals(3, "0.35", 0, 7)),
        pdf.DocumentLine(
            _("Sample service with a discount"),
            _("h"),
            money.line_totals("2.5", "80.00", "12.5", 20),
        ),
        pdf.DocumentLine(_("Sample exempt item"), _("pcs"), money.line_totals(1, "15.00", 0, 0)),
    )
    today = timezone.localdate()
    document = pdf.CommercialDocument(
        title=pdf.QUOTE,
        number=_("SAMPLE"),
        date=today,
        valid_until=today + datetime.timedelta(days=30),
        seller=services.seller(),
        buyer=pdf.Buyer(_("Sample customer"), _("Sample street 1\nSample town")),
        currency=money.default_currency(),
        lines=lines,
        totals=money.document_totals(line.totals for line in lines),
        notes=_("A sample: no offer is made by it."),
    )
    content = pdf.render_pdf(document, language=translation.get_language())
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="sample.pdf"'
    return response
