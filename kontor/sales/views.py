"""The kanban board: a pipeline's open stages, their cards a page at a time, and moving a
card to another stage (or won / lost) with the version the board showed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kontor.accounts.models import Department
from kontor.core.access import Action, may
from kontor.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id

from . import board, services
from .models import LostReason, Pipeline, Stage
from .types import DEAL


def _pipeline(request, pipelines: list[Pipeline]) -> Pipeline:
    chosen = as_db_id(request.GET.get("pipeline", ""))
    found = next((p for p in pipelines if p.pk == chosen), None) or next(iter(pipelines), None)
    if found is None:
        raise Http404()
    return found


@login_required
@require_GET
def board_page(request):
    if not may(request.user, DEAL.object_type, Action.VIEW):
        raise Http404()
    pipelines = list(Pipeline.objects.filter(is_active=True).prefetch_related("stages"))
    pipeline = _pipeline(request, pipelines)
    filters = board.BoardFilters.from_query(request.GET)
    stages = list(pipeline.stages.all())
    return render(
        request,
        "sales/board.html",
        {
            "rt": DEAL,
            "pipeline": pipeline,
            "pipelines": pipelines,
            "columns": board.columns(request.user, pipeline, filters),
            "closing": [s for s in stages if s.kind != Stage.Kind.OPEN],
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
            "lost_reasons": LostReason.objects.filter(is_active=True),
            "filters": filters,
            "query": filters.as_query(),
            "owners": get_user_model()
            .objects.filter(is_active=True)
            .order_by("first_name", "email"),
            "departments": Department.objects.order_by("path"),
            "tags": DEAL.tags_in_use(request.user),
            "periods": _periods(),
            "may_edit": may(request.user, DEAL.object_type, Action.EDIT),
        },
    )


def _periods():
    return [
        ("overdue", _("Close date passed")),
        ("this_month", _("Closing this month")),
        ("next_month", _("Closing next month")),
        ("this_quarter", _("Closing this quarter")),
    ]


@login_required
@require_GET
def board_cards(request, stage_id: int):
    """A page of one column's cards (the board loads each column by itself)."""
    stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
    if stage is None or not may(request.user, DEAL.object_type, Action.VIEW):
        raise Http404()
    filters = board.BoardFilters.from_query(request.GET)
    found, cursor = board.cards(request.user, stage, filters, request.GET.get("after", ""))
    stages = list(stage.pipeline.stages.all())
    return render(
        request,
        "sales/_board_cards.html",
        {
            "cards": found,
            "cursor": cursor,
            "stage": stage,
            "query": filters.as_query(),
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
            "closing": [s for s in stages if s.kind != Stage.Kind.OPEN],
        },
    )


def _answer(request, pipeline_id, message: str, status: int, errors: dict | None = None):
    """A refused move: JSON for the board's script; a message on the board for a form
    posted without it."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": str(message), "errors": errors or {}}, status=status)
    details = [str(m) for found in (errors or {}).values() for m in found]
    messages.error(request, " ".join([str(message), *details]))
    return redirect(f"{reverse('sales:board')}?pipeline={pipeline_id or ''}")


@login_required
@require_POST
def move(request, pk: int):
    """Move a deal to ``stage_id`` with the ``version`` the board showed; the answer has
    the board's columns again (their counts and totals) for the board to show."""
    version = as_db_id(request.POST.get("version", ""))
    stage_id = as_db_id(request.POST.get("stage_id", ""))
    try:
        deal = DEAL.one(request.user, pk)
    except NotFound:
        raise Http404() from None
    if version is None or stage_id is None:
        return _answer(request, deal.pipeline_id, _("Choose a stage."), 422)
    try:
        deal = services.move_deal(
            deal,
            stage_id,
            actor=request.user,
            expected_version=version,
            lost_reason_id=request.POST.get("lost_reason_id") or None,
        )
    except Conflict:
        message = _(
            "Someone else moved or changed this deal meanwhile. Reload the board to see it."
        )
        return _answer(request, deal.pipeline_id, message, 409)
    except PermissionDenied as exc:
        return _answer(request, deal.pipeline_id, exc.message, 403)
    except ValidationFailed as exc:
        return _answer(request, deal.pipeline_id, exc.message, 422, exc.errors)
    if "application/json" not in request.headers.get("Accept", ""):
        messages.success(request, _("Moved: %(deal)s") % {"deal": deal.title})
        return redirect(f"{reverse('sales:board')}?pipeline={deal.pipeline_id}")
    filters = board.BoardFilters.from_query(request.POST)
    heads = {
        column.stage.pk: render_to_string(
            "sales/_board_head.html", {"column": column}, request=request
        )
        for column in board.columns(request.user, deal.pipeline, filters)
    }
    return JsonResponse(
        {
            "version": deal.version,
            "stage": deal.stage_id,
            "closed": not deal.is_open,
            "heads": heads,
        }
    )
