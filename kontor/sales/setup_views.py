"""Settings → Pipelines: pipelines with their stages, and lost reasons (``setup`` services).

The stage editor is one form of repeated rows. Adding a row and moving one up or down are
submit buttons that show the form again with the rows rearranged (nothing is saved), so
it works without JavaScript and from the keyboard; "Save" writes the whole list at once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.accounts.views import settings_page
from kontor.core.errors import KontorError, ValidationFailed

from . import setup
from .models import Deal, LostReason, Pipeline, Stage

ROW_FIELDS = ("id", "name", "kind", "probability", "rotting_days", "move_to")


def _require_configure(user) -> None:
    if not setup.may_configure(user):
        raise Http404()


def requirable_choices() -> list[tuple[str, str]]:
    return [(name, str(Deal._meta.get_field(name).verbose_name)) for name in Stage.REQUIRABLE]


@login_required
def pipeline_settings(request):
    _require_configure(request.user)
    pipelines = list(setup.pipelines_with_stages())
    counts, labels = setup.deal_counts(), dict(requirable_choices())
    for pipeline in pipelines:
        for stage in pipeline.stages.all():
            stage.deal_count = counts.get(stage.pk, 0)
            stage.required_labels = [labels[f] for f in stage.required_fields if f in labels]
    context = {"pipelines": pipelines, "reasons": LostReason.objects.all()}
    return settings_page(request, "sales/settings/pipelines.html", context)


# -- the pipeline form ------------------------------------------------------------------------


def _stage_row(stage: Stage) -> dict:
    return {
        "id": str(stage.pk),
        "name": stage.name,
        "kind": stage.kind,
        "probability": str(stage.probability),
        "rotting_days": "" if stage.rotting_days is None else str(stage.rotting_days),
        "required_fields": list(stage.required_fields),
        "remove": False,
        "move_to": "",
    }


def _posted_rows(post) -> list[dict]:
    rows = []
    for index in range(min(_count(post.get("stages-count")), 100)):
        prefix = f"stages-{index}-"
        row = {field: post.get(prefix + field, "").strip() for field in ROW_FIELDS}
        row["required_fields"] = post.getlist(prefix + "required_fields")
        row["remove"] = post.get(prefix + "remove") == "1"
        rows.append(row)
    return rows


def _count(raw) -> int:
    return int(raw) if str(raw or "").isdigit() else 0


def _rearranged(rows: list[dict], action: str) -> list[dict]:
    """The rows after "add a stage" or "move up/down" (``up-2``, ``down-0``)."""
    if action == "add":
        return [*rows, {"kind": Stage.Kind.OPEN, "probability": "0", "required_fields": []}]
    verb, _sep, raw = action.partition("-")
    index = _count(raw)
    other = index - 1 if verb == "up" else index + 1
    if verb in ("up", "down") and 0 <= min(index, other) and max(index, other) < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    return rows


def _to_service(rows: list[dict]) -> tuple[list[dict], list[int], dict]:
    """(the stage list to write, the form row of each, {removed stage id: target id})."""
    stages, origin, moves = [], [], {}
    for index, row in enumerate(rows):
        if row.get("remove") or not (row.get("id") or row.get("name")):
            if row.get("id") and row.get("move_to"):
                moves[row["id"]] = row["move_to"]
            continue
        stages.append({k: row.get(k) for k in ("id", *setup.STAGE_FIELDS)})
        origin.append(index)
    return stages, origin, moves


def _row_errors(errors: dict, rows: list[dict], origin: list[int]) -> tuple[dict, list[str]]:
    """Spread the service's messages: each row's onto it (``row["errors"]``); returned,
    the pipeline's own by field and the rest (shown on top)."""
    own, by_row, general = {}, {}, []
    by_id = {row.get("id"): index for index, row in enumerate(rows) if row.get("id")}
    for key, found in errors.items():
        parts = key.split(".")
        if parts[0] == "stages" and len(parts) == 3 and parts[1].isdigit() and parts[2] != "id":
            index = origin[int(parts[1])]
            by_row.setdefault(index, {}).setdefault(parts[2], []).extend(found)
        elif parts[0] == "move_deals" and parts[-1] in by_id:
            by_row.setdefault(by_id[parts[-1]], {}).setdefault("move_to", []).extend(found)
        elif key in ("name", "is_active"):
            own[key] = found
        else:
            general.extend(found)
    for index, row in enumerate(rows):
        row["errors"] = by_row.get(index, {})
    return own, general


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_create(request):
    _require_configure(request.user)
    return _pipeline_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request, pk: int):
    _require_configure(request.user)
    return _pipeline_form(request, get_object_or_404(Pipeline, pk=pk))


def _pipeline_form(request, pipeline: Pipeline | None):
    status, own_errors, general = 200, {}, []
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "is_active": request.POST.get("is_active") == "1",
        }
        rows = _posted_rows(request.POST)
        action = request.POST.get("action", "save")
        if action != "save":
            rows = _rearranged(rows, action)
        else:
            stages, origin, moves = _to_service(rows)
            data = {**values, "stages": stages, "move_deals": moves}
            try:
                if pipeline is None:
                    saved = setup.create_pipeline(data, actor=request.user)
                else:
                    saved = setup.update_pipeline(pipeline, data, actor=request.user)
            except KontorError as exc:
                status = 422
                own_errors, general = _row_errors(exc.errors, rows, origin)
                if not exc.errors:
                    general = [str(exc.message)]
            else:
                messages.success(request, _("“%(name)s” was saved.") % {"name": saved.name})
                return redirect("sales:pipeline_settings")
    elif pipeline is not None:
        values = {"name": pipeline.name, "is_active": pipeline.is_active}
        rows = [_stage_row(stage) for stage in pipeline.stages.all()]
    else:
        values = {"name": "", "is_active": True}
        rows = _rearranged([], "add")
    counts = setup.deal_counts(pipeline) if pipeline is not None else {}
    targets = list(pipeline.stages.all()) if pipeline is not None else []
    for index, row in enumerate(rows):
        row.setdefault("errors", {})
        row["index"] = index
        row["deal_count"] = counts.get(_count(row.get("id")), 0)
        row["targets"] = [s for s in targets if str(s.pk) != row.get("id")]
    context = {
        "pipeline": pipeline,
        "values": values,
        "rows": rows,
        "own_errors": own_errors,
        "general_errors": general,
        "kinds": Stage.Kind.choices,
        "requirable": requirable_choices(),
        "holds_deals": bool(counts),
        "rows_have_errors": any(row["errors"] for row in rows),
    }
    return settings_page(request, "sales/settings/pipeline_form.html", context, status=status)


@login_required
@require_POST
def pipeline_order(request, pk: int):
    """Move a pipeline up or down the list (the list's arrows)."""
    _require_configure(request.user)
    ids = list(Pipeline.objects.values_list("pk", flat=True))
    if pk not in ids:
        raise Http404()
    index = ids.index(pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        setup.reorder_pipelines(ids, actor=request.user)
    return redirect("sales:pipeline_settings")


@login_required
@require_POST
def pipeline_delete(request, pk: int):
    _require_configure(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    try:
        setup.delete_pipeline(pipeline, actor=request.user)
    except KontorError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("“%(name)s” was deleted.") % {"name": pipeline.name})
    return redirect("sales:pipeline_settings")


# -- lost reasons -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_reasons(request):
    """The lost reasons editor: rename, deactivate, reorder, delete unused ones, add one."""
    _require_configure(request.user)
    reasons = list(LostReason.objects.all())
    status, errors = 200, {}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            with transaction.atomic():
                done = _save_reasons(request, reasons, action)
        except KontorError as exc:
            status = 422
            errors = exc.errors or {"": [str(exc.message)]}
        else:
            messages.success(request, done)
            return redirect("sales:pipeline_reasons")
    used = set(
        Deal._base_manager.filter(lost_reason__isnull=False).values_list(
            "lost_reason_id", flat=True
        )
    )
    rows = [
        {
            "reason": reason,
            "name": request.POST.get(f"reason-{reason.pk}-name", reason.name)
            if status != 200
            else reason.name,
            "is_active": reason.is_active,
            "used": reason.pk in used,
            "errors": errors.get(f"reasons.{reason.pk}.name", []),
        }
        for reason in reasons
    ]
    context = {
        "rows": rows,
        "new_name": request.POST.get("new_name", "") if status != 200 else "",
        "new_errors": errors.get("new_name", []),
        "general_errors": errors.get("", []),
        "failed": status != 200,
    }
    return settings_page(request, "sales/settings/lost_reasons.html", context, status=status)


def _save_reasons(request, reasons: list[LostReason], action: str) -> str:
    verb, _sep, raw = action.partition("-")
    target = next((r for r in reasons if str(r.pk) == raw), None)
    if verb in ("up", "down") and target is not None:
        ids = [r.pk for r in reasons]
        index = ids.index(target.pk)
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            setup.reorder_lost_reasons(ids, actor=request.user)
        return _("The order was saved.")
    if verb == "delete" and target is not None:
        setup.delete_lost_reason(target, actor=request.user)
        return _("“%(name)s” was deleted.") % {"name": target.name}
    found: dict[str, list[str]] = {}
    for reason in reasons:
        data = {
            "name": request.POST.get(f"reason-{reason.pk}-name", reason.name),
            "is_active": request.POST.get(f"reason-{reason.pk}-is_active") == "1",
        }
        try:
            setup.update_lost_reason(reason, data, actor=request.user)
        except KontorError as exc:
            found[f"reasons.{reason.pk}.name"] = exc.errors.get("name", [str(exc.message)])
    new_name = request.POST.get("new_name", "").strip()
    if new_name:
        try:
            setup.create_lost_reason({"name": new_name}, actor=request.user)
        except KontorError as exc:
            found["new_name"] = exc.errors.get("name", [str(exc.message)])
    if found:
        raise ValidationFailed(errors=found)
    return _("Lost reasons were saved.")
