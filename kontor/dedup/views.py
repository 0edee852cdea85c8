"""Duplicates pages: the pairs found, the side-by-side merge, the scan's progress, undo.

Thin: reads and writes through ``services`` and ``merge``; a pair or merge the user may
not see is 404, as an unknown one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.core import types
from kontor.core.errors import KontorError, NotFound
from kontor.core.pagination import CappedPaginator

from . import merge, services
from .models import Merge, Scan

PAGE_SIZE = 50
FIRST, SECOND = "first", "second"


def _object_type(name: str | None) -> str:
    rt = types.by_name(name or "person")
    if rt is None or rt.object_type not in services.TYPES:
        raise Http404()
    return rt.object_type


def _list_url(object_type: str) -> str:
    return f"{reverse('dedup:list')}?type={types.get(object_type).name}"


@login_required
def candidates(request):
    user = request.user
    object_type = _object_type(request.GET.get("type"))
    try:
        rows = services.visible_candidates(user, object_type)
    except NotFound:
        raise Http404() from None
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dedup/candidates.html",
        {
            "rt": types.get(object_type),
            "kinds": [types.get(t) for t in services.TYPES],
            "page": page,
            "pairs": services.named_pairs(user, object_type, list(page.object_list)),
            "scan": services.latest_scan(object_type),
            "may_scan": services.may_scan(user, object_type),
        },
    )


@login_required
@require_POST
def start_scan(request):
    object_type = _object_type(request.POST.get("type"))
    try:
        services.start_scan(request.user, object_type)
    except KontorError as exc:
        messages.error(request, exc.message)
    return redirect(_list_url(object_type))


@login_required
def scan_progress(request, scan_id: int):
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None or not services.may_scan(request.user, scan.object_type):
        raise Http404()
    return render(request, "dedup/_scan.html", {"scan": scan, "rt": types.get(scan.object_type)})


@login_required
@require_POST
def dismiss(request, candidate_id: int):
    try:
        candidate = services.dismiss(request.user, candidate_id)
    except NotFound:
        raise Http404() from None
    except KontorError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("dedup:list"))
    messages.success(request, _("The pair will not be offered again."))
    return redirect(_list_url(candidate.object_type))


def _choices(post, view: dict, keep: str) -> dict:
    """The form's picks (first / second record) as the merge takes them."""
    side = {keep: merge.SURVIVOR, (SECOND if keep == FIRST else FIRST): merge.MERGED}
    choices = {}
    for row in view["fields"]:
        picked = post.get(f"field:{row['name']}")
        if picked in side:
            choices[row["name"]] = side[picked]
    for row in view["lists"]:
        picked = post.get(f"list:{row['name']}")
        if picked == "both":
            choices[row["name"]] = merge.BOTH
        elif picked in side:
            choices[row["name"]] = side[picked]
    return choices


@login_required
def merge_form(request, candidate_id: int):
    user = request.user
    try:
        candidate = services.candidate_for(user, candidate_id)
        first, second = services.records_of(user, candidate)
    except NotFound:
        raise Http404() from None
    rt = types.get(candidate.object_type)
    view = merge.comparison(rt, first, second, user)
    status = 200
    keep = request.POST.get("keep", FIRST)
    if request.method == "POST":
        survivor, merged = (first, second) if keep == FIRST else (second, first)
        versions = [request.POST.get(f"version:{side}") for side in (FIRST, SECOND)]
        try:
            by_side = dict(zip((FIRST, SECOND), (int(v) for v in versions), strict=True))
        except (TypeError, ValueError):
            by_side = None
        try:
            log = merge.merge(
                candidate.object_type,
                survivor.pk,
                merged.pk,
                actor=user,
                choices=_choices(request.POST, view, keep),
                versions=(
                    (by_side[keep], by_side[SECOND if keep == FIRST else FIRST])
                    if by_side
                    else None
                ),
            )
        except KontorError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
        else:
            return redirect("dedup:merge_done", merge_id=log.pk)
    picked = {
        row["name"]: request.POST.get(f"field:{row['name']}")
        or (FIRST if row["default"] == merge.SURVIVOR else SECOND)
        for row in view["fields"]
    }
    picked.update(
        {row["name"]: request.POST.get(f"list:{row['name']}", "both") for row in view["lists"]}
    )
    return render(
        request,
        "dedup/merge.html",
        {
            "rt": rt,
            "candidate": candidate,
            "first": first,
            "second": second,
            "fields": [(row, picked[row["name"]]) for row in view["fields"]],
            "lists": [(row, picked[row["name"]]) for row in view["lists"]],
            "keep": keep,
            "reasons": candidate.reason_labels,
        },
        status=status,
    )


def _merge_for(user, merge_id: int) -> tuple:
    log = Merge.objects.filter(pk=merge_id).first()
    if log is None or log.object_type not in services.TYPES:
        raise Http404()
    rt = types.get(log.object_type)
    survivor = rt.visible(user).filter(pk=log.survivor_id).first()
    if survivor is None:
        raise Http404()
    return log, rt, survivor


@login_required
def merge_done(request, merge_id: int):
    log, rt, survivor = _merge_for(request.user, merge_id)
    return render(request, "dedup/merge_done.html", {"log": log, "rt": rt, "survivor": survivor})


@login_required
@require_POST
def undo(request, merge_id: int):
    log, rt, survivor = _merge_for(request.user, merge_id)
    try:
        merge.undo(log.pk, actor=request.user)
    except KontorError as exc:
        messages.error(request, exc.message)
        return redirect("dedup:merge_done", merge_id=log.pk)
    messages.success(request, _("The merge is undone: both records are back."))
    return redirect(rt.url_of(survivor))
