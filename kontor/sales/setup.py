"""Configuring sales: pipelines with their stages, and lost reasons (Settings → Pipelines).

Administrators (a grant of "edit" with scope "all" on the admin area ``sales.pipeline``)
change them; everyone signed in reads them (the deal form and the board need them).
Each write is one transaction: permission, validation (field errors), write, an audit
row per pipeline, stage or reason changed. A pipeline's stages are written as one
ordered list: stages left out are removed, which a stage still holding deals allows only
when the request names a stage of the same pipeline to move them to; each moved deal
gets its ``StageChange``, a new version and an audit entry, like a move on the board.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.core import audit
from kontor.core import services as records
from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id, text_problem

from . import services as deals
from .models import Deal, LostReason, Pipeline, Stage

AREA = "sales.pipeline"
NAME_LIMIT = 100
STAGE_FIELDS = ("name", "kind", "probability", "rotting_days", "required_fields")


def may_configure(user) -> bool:
    return scope_for(user, AREA, Action.EDIT) == Scope.ALL


def _require(actor) -> None:
    if not may_configure(actor):
        raise PermissionDenied(_("Only an administrator can change pipelines and lost reasons."))


def _snapshot(obj) -> dict:
    return records.field_snapshot(obj)


def _audited(verb: str, obj, before: dict, *, actor) -> None:
    changes = audit.diff(before, _snapshot(obj) if verb != "deleted" else {})
    if changes:
        audit.record(f"{obj._meta.label_lower}.{verb}", obj, actor=actor, changes=changes)


def _name(value, errors: records.FieldErrors, key: str) -> str:
    name = "" if value is None else str(value).strip()
    problem = text_problem(name)
    if problem:
        errors.add(key, problem)
    elif not name:
        errors.add(key, _("This field is required."))
    elif len(name) > NAME_LIMIT:
        errors.add(key, _("Keep it to %(limit)d characters.") % {"limit": NAME_LIMIT})
    return name


def pipelines_with_stages():
    """Every pipeline (inactive ones too) with its ordered stages."""
    return Pipeline.objects.prefetch_related("stages")


def deal_counts(pipeline: Pipeline | None = None) -> dict[int, int]:
    """{stage id: how many deals are in it} for the stages holding any (of ``pipeline``)."""
    deals = Deal._base_manager.all()
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    return dict(
        deals.values("stage_id").annotate(count=Count("id")).values_list("stage_id", "count")
    )


# -- pipelines --------------------------------------------------------------------------------


def _pipeline_fields(pipeline: Pipeline, data: dict, errors: records.FieldErrors) -> None:
    if "name" in data or pipeline.pk is None:
        pipeline.name = _name(data.get("name"), errors, "name")
        taken = Pipeline.objects.filter(name__iexact=pipeline.name).exclude(pk=pipeline.pk)
        if "name" not in errors.by_field and taken.exists():
            errors.add("name", _("A pipeline with this name exists already."))
    if "is_active" in data:
        pipeline.is_active = bool(data["is_active"])


def create_pipeline(data: dict, *, actor) -> Pipeline:
    """A pipeline ``{"name", "is_active"?, "stages": [...]}``, last in the order."""
    with transaction.atomic():
        _require(actor)
        pipeline = Pipeline(position=_next_position(Pipeline))
        errors = records.FieldErrors()
        _pipeline_fields(pipeline, data, errors)
        stages, _moves = _clean_stages(pipeline, data.get("stages") or [], errors, {})
        errors.raise_if_any()
        pipeline.save(force_insert=True)
        _audited("created", pipeline, {}, actor=actor)
        _write_stages(pipeline, stages, {}, actor=actor)
    return pipeline


def update_pipeline(pipeline: Pipeline, data: dict, *, actor) -> Pipeline:
    """Change the sent attributes; ``stages`` (when sent) is the whole ordered list, each
    kept stage named by its ``id``; ``move_deals`` ``{removed stage id: stage id}`` says
    where the deals of removed stages go."""
    with transaction.atomic():
        _require(actor)
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        before = _snapshot(pipeline)
        errors = records.FieldErrors()
        _pipeline_fields(pipeline, data, errors)
        stages = None
        if "stages" in data:
            stages = _clean_stages(
                pipeline, data["stages"] or [], errors, data.get("move_deals") or {}
            )
        errors.raise_if_any()
        pipeline.save()
        _audited("updated", pipeline, before, actor=actor)
        if stages is not None:
            _write_stages(pipeline, *stages, actor=actor)
    return pipeline


def reorder_pipelines(ids: list, *, actor) -> None:
    """Put the pipelines in the order of ``ids`` (every pipeline, each once)."""
    with transaction.atomic():
        _require(actor)
        _reorder(Pipeline, ids, actor=actor)


def delete_pipeline(pipeline: Pipeline, *, actor) -> None:
    """Only a pipeline that never held a deal (or whose deals are all gone); else deactivate."""
    with transaction.atomic():
        _require(actor)
        held = Deal._base_manager.filter(pipeline=pipeline).count()
        if held:
            raise ValidationFailed(
                ngettext(
                    "“%(name)s” holds %(count)d deal: deactivate it instead.",
                    "“%(name)s” holds %(count)d deals: deactivate it instead.",
                    held,
                )
                % {"name": pipeline.name, "count": held}
            )
        for stage in pipeline.stages.all():
            _audited("deleted", stage, _snapshot(stage), actor=actor)
        _audited("deleted", pipeline, _snapshot(pipeline), actor=actor)
        pipeline.delete()


def _next_position(model) -> int:
    last = model.objects.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def _reorder(model, ids: list, *, actor) -> None:
    wanted = [as_db_id(pk) for pk in ids]
    existing = set(model.objects.values_list("pk", flat=True))
    if None in wanted or len(set(wanted)) != len(wanted) or set(wanted) != existing:
        raise ValidationFailed(errors={"ids": [_("Name every one of them, each once.")]})
    rows = {obj.pk: obj for obj in model.objects.select_for_update()}
    for position, pk in enumerate(wanted):
        obj = rows[pk]
        if obj.position != position:
            before = _snapshot(obj)
            obj.position = position
            obj.save(update_fields=["position"])
            _audited("updated", obj, before, actor=actor)


# -- stages -------------------------------------------------------------------------------------


def _clean_stage(row: dict, index: int, errors: records.FieldErrors) -> Stage:
    key = f"stages.{index}."
    stage = Stage()
    stage.name = _name(row.get("name"), errors, key + "name")
    kind = row.get("kind") or Stage.Kind.OPEN
    if kind not in Stage.Kind.values:
        errors.add(key + "kind", _("Choose open, won or lost."))
    stage.kind = kind
    probability = _whole(row.get("probability"), 0)
    if probability is None or not 0 <= probability <= 100:
        errors.add(key + "probability", _("Enter a whole number from 0 to 100."))
    stage.probability = probability if probability is not None else 0
    rotting = _whole(row.get("rotting_days"), None)
    if row.get("rotting_days") not in (None, "") and (rotting is None or rotting < 1):
        errors.add(key + "rotting_days", _("Enter a number of days of 1 or more, or nothing."))
        rotting = None
    stage.rotting_days = rotting
    required = row.get("required_fields") or []
    if not isinstance(required, list | tuple) or set(required) - set(Stage.REQUIRABLE):
        errors.add(
            key + "required_fields",
            _("Choose among: %(fields)s.") % {"fields": ", ".join(Stage.REQUIRABLE)},
        )
        required = []
    stage.required_fields = [field for field in Stage.REQUIRABLE if field in required]
    return stage


def _whole(value, empty):
    if value in (None, ""):
        return empty
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _clean_stages(pipeline: Pipeline, rows: list, errors: records.FieldErrors, move_deals: dict):
    """(the stages in order, {removed stage: stage its deals go to}) or errors."""
    current = {s.pk: s for s in pipeline.stages.all()} if pipeline.pk else {}
    stages, names = [], set()
    for index, row in enumerate(rows):
        pk = as_db_id(row.get("id")) if row.get("id") not in (None, "") else None
        if row.get("id") not in (None, "") and pk not in current:
            errors.add(f"stages.{index}.id", _("Unknown stage."))
            continue
        stage = _clean_stage(row, index, errors)
        stage.pk = pk
        if stage.name and stage.name.casefold() in names:
            errors.add(f"stages.{index}.name", _("Two stages cannot share a name."))
        names.add(stage.name.casefold())
        stages.append(stage)
    if not any(s.kind == Stage.Kind.OPEN for s in stages):
        errors.add("stages", _("A pipeline needs at least one open stage."))
    kept = {s.pk for s in stages if s.pk}
    moves = {}
    counts = deal_counts(pipeline) if pipeline.pk else {}
    for pk, removed in current.items():
        if pk in kept or not counts.get(pk):
            continue
        key = f"move_deals.{pk}"
        target = _move_target(move_deals, pk)
        if target is None:
            errors.add(
                key,
                ngettext(
                    "“%(stage)s” still holds %(count)d deal: choose a stage to move it to.",
                    "“%(stage)s” still holds %(count)d deals: choose a stage to move them to.",
                    counts[pk],
                )
                % {"stage": removed.name, "count": counts[pk]},
            )
        elif target not in kept:
            errors.add(key, _("Choose a stage this pipeline keeps."))
        else:
            moves[removed] = target
    return stages, moves


def _move_target(move_deals: dict, pk: int):
    raw = move_deals.get(pk, move_deals.get(str(pk)))
    return as_db_id(raw) if raw not in (None, "") else None


def _write_stages(pipeline: Pipeline, stages: list, moves: dict, *, actor) -> None:
    current = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    before = {pk: _snapshot(s) for pk, s in current.items()}
    # Names move between kept stages (a swap): free them first, so the unique constraint
    # on (pipeline, name) never sees two stages with one name mid-write.
    for pk in current:
        Stage.objects.filter(pk=pk).update(name=f"{pk}-{uuid.uuid4().hex}")
    for removed, target_pk in moves.items():
        _move_deals(removed, current[target_pk], actor=actor)
    kept = {s.pk for s in stages if s.pk}
    for pk, stage in current.items():
        if pk not in kept:
            _audited("deleted", stage, before[pk], actor=actor)
            stage.delete()
    for position, stage in enumerate(stages):
        stage.pipeline, stage.position = pipeline, position
        if stage.pk:
            stage.save(force_update=True)
            _audited("updated", stage, before[stage.pk], actor=actor)
        else:
            stage.save(force_insert=True)
            _audited("created", stage, {}, actor=actor)


def _move_deals(removed: Stage, target: Stage, *, actor) -> None:
    """The deals of a removed stage into ``target``, each move kept as on the board: a
    StageChange, a new version and an audit entry; won or lost closes, open reopens."""
    now = timezone.now()
    for deal in Deal._base_manager.select_for_update().filter(stage=removed):
        before = records.snapshot(deal)
        deals.place_in_stage(deal, target, now)
        deal.save(update_fields=["stage", "stage_entered_at", "closed_at", "lost_reason"])
        deals.record_move(deal, removed.pk, target, actor)
        records.record_cascaded_update(
            deal, actor=actor, changes=audit.diff(before, records.snapshot(deal))
        )


# -- lost reasons ---------------------------------------------------------------------------


def _reason_fields(reason: LostReason, data: dict, errors: records.FieldErrors) -> None:
    if "name" in data or reason.pk is None:
        reason.name = _name(data.get("name"), errors, "name")
        taken = LostReason.objects.filter(name__iexact=reason.name).exclude(pk=reason.pk)
        if "name" not in errors.by_field and taken.exists():
            errors.add("name", _("This reason exists already."))
    if "is_active" in data:
        reason.is_active = bool(data["is_active"])


def create_lost_reason(data: dict, *, actor) -> LostReason:
    with transaction.atomic():
        _require(actor)
        reason = LostReason(position=_next_position(LostReason))
        errors = records.FieldErrors()
        _reason_fields(reason, data, errors)
        errors.raise_if_any()
        reason.save(force_insert=True)
        _audited("created", reason, {}, actor=actor)
    return reason


def update_lost_reason(reason: LostReason, data: dict, *, actor) -> LostReason:
    """Rename, deactivate (deals keep it; it is no longer offered) or reactivate."""
    with transaction.atomic():
        _require(actor)
        reason = LostReason.objects.select_for_update().get(pk=reason.pk)
        before = _snapshot(reason)
        errors = records.FieldErrors()
        _reason_fields(reason, data, errors)
        errors.raise_if_any()
        reason.save()
        _audited("updated", reason, before, actor=actor)
    return reason


def reorder_lost_reasons(ids: list, *, actor) -> None:
    with transaction.atomic():
        _require(actor)
        _reorder(LostReason, ids, actor=actor)


def delete_lost_reason(reason: LostReason, *, actor) -> None:
    """Only a reason no deal names; one in use is deactivated instead."""
    with transaction.atomic():
        _require(actor)
        used = Deal._base_manager.filter(lost_reason=reason).count()
        if used:
            raise ValidationFailed(
                ngettext(
                    "%(count)d deal was lost for “%(name)s”: deactivate it instead.",
                    "%(count)d deals were lost for “%(name)s”: deactivate it instead.",
                    used,
                )
                % {"name": reason.name, "count": used}
            )
        _audited("deleted", reason, _snapshot(reason), actor=actor)
        reason.delete()
