"""The contacts' own pages. Lists, detail tabs, forms, bulk actions and documents of people
and companies come from the engine (``kontor.web.records``, configured by
``kontor.contacts.types``)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import queries

AUTOCOMPLETE_LIMIT = 10


@login_required
@require_GET
def company_autocomplete(request):
    q = request.GET.get("company_label", request.GET.get("q", "")).strip()
    found = queries.companies(request.user, queries.ListFilters(q=q))[:AUTOCOMPLETE_LIMIT]
    return render(request, "contacts/_company_options.html", {"companies": found, "q": q})
