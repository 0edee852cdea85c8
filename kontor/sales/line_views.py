"""A deal's product lines editor and its "Issue a quote" form.

The lines are one form of repeated rows, written as a whole list with the version the
form showed (someone who saved the deal meanwhile makes it a conflict, nothing lost).
"Add a line" is a submit button that shows the form again with one more row (nothing
saved), so the editor works without JavaScript; a row left blank is skipped.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.catalog import vat
from kontor.catalog.models import Product
from kontor.core.access import Action
from kontor.core.errors import Conflict, ValidationFailed
from kontor.core.services import FieldErrors
from kontor.web.errors import service_errors

from . import lines as deal_lines
from . import quotes, services
from .models import Deal
from .types import DEAL

ROW_FIELDS = deal_lines.LINE_FIELDS
BLANK_ROWS = 1  # an empty row to type into below the lines


def _row(line=None, rates=()) -> dict:
    """A form row: empty, or a stored line with the offered rate of its VAT % chosen."""
    if line is None:
        return {field: "" for field in ROW_FIELDS} | {"errors": {}}
    return {
        "product_id": str(line.product_id or ""),
        "description": line.description,
        "unit": line.unit,
        "quantity": f"{line.quantity.normalize():f}",
        "unit_price": str(line.unit_price),
        "discount_percent": f"{line.discount_percent.normalize():f}",
        "vat_rate_id": next((str(r.pk) for r in rates if r.rate == line.vat_rate), ""),
        "errors": {},
    }


def _posted_rows(post) -> list[dict]:
    raw = post.get("lines-count", "")
    count = min(int(raw) if raw.isdigit() else 0, deal_lines.MAX_LINES + BLANK_ROWS)
    rows = []
    for index in range(count):
        prefix = f"lines-{index}-"
        if post.get(prefix + "remove") == "1":
            continue
        row = {field: post.get(prefix + field, "").strip() for field in ROW_FIELDS}
        row["errors"] = {}
        rows.append(row)
    return rows


def _is_blank(row: dict) -> bool:
    return not any(row.get(field) for field in ROW_FIELDS)


def _label_products(user, rows: list[dict]) -> None:
    """Each row's product name, for the picker to show (products the user may see)."""
    ids = {int(row["product_id"]) for row in rows if row.get("product_id", "").isdigit()}
    names = dict(Product.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name"))
    for index, row in enumerate(rows):
        pk, name = row.get("product_id", ""), f"lines-{index}-product_id"
        # Keyed as the picker (web/records/_link_field.html) names its input.
        row["form"] = {
            "data": {name: pk},
            "errors": {name: row["errors"].get("product_id", [])},
        }
        row["links"] = {name: names.get(int(pk)) if pk.isdigit() else ""}


def _spread_errors(errors: dict, origin: list[int], rows: list[dict]) -> list[str]:
    """Each ``lines.N.field`` message onto its form row; the others returned."""
    general = []
    for key, found in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
            row = rows[origin[int(parts[1])]]
            row["errors"].setdefault(parts[2], []).extend(found)
        else:
            general.extend(found)
    return general


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def deal_lines_edit(request, pk: int):
    deal = DEAL.one(request.user, pk, action=Action.EDIT)
    general: list[str] = []
    version = deal.version
    if request.method == "POST":
        rows = _posted_rows(request.POST)
        version = request.POST.get("version", "")
        if request.POST.get("action") == "add":
            rows.append(_row())
        else:
            kept = [(index, row) for index, row in enumerate(rows) if not _is_blank(row)]
            data = [{field: row[field] for field in ROW_FIELDS} for _index, row in kept]
            try:
                services.update_deal(
                    deal,
                    {"lines": data},
                    actor=request.user,
                    expected_version=int(version) if version.isdigit() else deal.version,
                )
            except ValidationFailed as failed:
                general = _spread_errors(failed.errors, [index for index, _row in kept], rows)
            except Conflict as conflict:
                general = [str(conflict.message)]
            else:
                messages.success(request, _("The lines were saved."))
                return redirect("sales:deal_detail", pk=deal.pk)
    else:
        rates = vat.offered_rates()
        rows = [_row(line, rates) for line in deal.lines.all()]
        rows += [_row() for _blank in range(BLANK_ROWS)]
    _label_products(request.user, rows)
    return render(
        request,
        "sales/deal_lines.html",
        {
            "rt": DEAL,
            "obj": deal,
            "rows": rows,
            "version": version,
            "general_errors": general,
            "has_errors": general or any(row["errors"] for row in rows),
            "units": Product.Unit.choices,
            "vat_rates": vat.offered_rates(),
        },
    )


def quote_context(request, deal: Deal) -> dict:
    """What the deal page's lines and quotes card shows."""
    stored = list(deal.lines.all())
    return {
        "deal_lines": stored,
        "deal_totals": deal_lines.totals_of(stored) if stored else None,
        "quotes": list(quotes.quotes_of(deal)[:20]),
        "quote_languages": settings.LANGUAGES,
        "quote_language": get_language() or settings.LANGUAGE_CODE,
        "quote_valid_until": timezone.localdate()
        + datetime.timedelta(days=quotes.DEFAULT_VALID_DAYS),
    }


def _valid_until(raw: str) -> datetime.date | None:
    """The date typed, read as the deal form reads its dates (services._date)."""
    errors = FieldErrors()
    found = services._date(raw, errors, "valid_until")
    errors.raise_if_any()
    return found


@login_required
@require_POST
@service_errors
def quote_create(request, pk: int):
    deal = DEAL.one(request.user, pk, action=Action.EDIT)
    try:
        quote = quotes.create_quote(
            deal,
            actor=request.user,
            valid_until=_valid_until(request.POST.get("valid_until", "").strip()),
            notes=request.POST.get("notes", ""),
            language=request.POST.get("language") or None,
        )
    except ValidationFailed as failed:
        for found in failed.errors.values():
            for message in found:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("Quote %(number)s was issued: it is under Documents.") % {"number": quote.number},
        )
    return redirect("sales:deal_detail", pk=deal.pk)
