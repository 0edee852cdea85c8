"""Every write of deals, through the engine's one path (``kontor.core.services``).

A deal enters a stage only with the fields the stage requires filled in, and a lost
stage only with a reason (when the company keeps reasons). Each stage change is kept
(``StageChange``) in the write's transaction, with when and who; entering a won or lost
stage closes the deal, leaving it for an open stage reopens it. Two people moving one
card: the second move names the version the board showed and is refused (invariant 5).
The deal is on the timelines of its company and contact person, and what is about the
deal (a task, a note) is on theirs too (``DealType.timeline_parents``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.contacts import services as contacts
from kontor.contacts.models import Company, Person
from kontor.core import money, timeline
from kontor.core import services as records
from kontor.core.errors import ValidationFailed
from kontor.core.inputs import as_db_id

from . import lines as deal_lines
from .models import Deal, DealLine, LostReason, Pipeline, Stage, StageChange

# The links the services read when they set them (``_client``, ``_stage``, ``_lost_reason``).
_CHECKED_LINKS = ("company", "person", "pipeline", "stage", "lost_reason")
DEAL_FIELDS = ("title", "amount", "currency", "expected_close", "source", "notes")
_TEXT_FIELDS = ("title", "notes", "source")


def currencies() -> list[str]:
    return money.currencies()


def _amount(value, errors: records.FieldErrors):
    if value in (None, ""):
        return Decimal("0.00")
    try:
        return money.parse_amount(value)
    except ValidationFailed as failed:
        for message in failed.errors.get("amount", []):
            errors.add("amount", message)
        return None


def _date(value, errors: records.FieldErrors, field: str):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(field, _("Enter a date as YYYY-MM-DD."))
        return None


def _apply_fields(deal: Deal, data: dict, errors: records.FieldErrors) -> None:
    for field in DEAL_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in _TEXT_FIELDS:
            value = "" if value is None else str(value).strip()
        elif field == "amount":
            value = _amount(value, errors)
            if value is None:
                continue
        elif field == "currency":
            value = str(value or "").strip().upper()
            if value not in currencies():
                errors.add(
                    "currency", _("Choose one of: %(codes)s.") % {"codes": ", ".join(currencies())}
                )
                continue
        elif field == "expected_close":
            value = _date(value, errors, field)
            if "expected_close" in errors.by_field:
                continue
        setattr(deal, field, value)
    if not deal.title:
        errors.add("title", _("This field is required."))
    if not deal.currency and "currency" not in errors.by_field:
        deal.currency = money.default_currency()


def _client(deal: Deal, data: dict, actor, errors: records.FieldErrors) -> None:
    """The company and contact person: records the actor may see, or "unknown"."""
    for field, model, unknown in (
        ("company_id", Company, _("Unknown company.")),
        ("person_id", Person, _("Unknown person.")),
    ):
        if field not in data:
            continue
        if data[field] in (None, ""):
            setattr(deal, field, None)
            continue
        pk = as_db_id(data[field])
        if pk is None or not model.objects.visible_to(actor).filter(pk=pk).exists():
            errors.add(field, unknown)
            continue
        setattr(deal, field, pk)


def _stage(deal: Deal, data: dict, errors: records.FieldErrors) -> None:
    """The pipeline and stage: a stage of the pipeline; a pipeline alone starts at its
    first open stage, a stage alone brings its pipeline."""
    pipeline_id = (
        as_db_id(data["pipeline_id"]) if data.get("pipeline_id") not in (None, "") else None
    )
    stage_id = as_db_id(data["stage_id"]) if data.get("stage_id") not in (None, "") else None
    if "pipeline_id" in data and data["pipeline_id"] not in (None, "") and pipeline_id is None:
        errors.add("pipeline_id", _("Unknown pipeline."))
        return
    if "stage_id" in data and data["stage_id"] not in (None, "") and stage_id is None:
        errors.add("stage_id", _("Unknown stage."))
        return
    if stage_id is not None:
        stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
        if stage is None or (pipeline_id is not None and stage.pipeline_id != pipeline_id):
            errors.add("stage_id", _("Choose a stage of the deal's pipeline."))
            return
        # The stage read here is the one entering it checks (``_enter_stage``).
        deal.pipeline_id, deal.stage = stage.pipeline_id, stage
        return
    if pipeline_id is not None and pipeline_id != deal.pipeline_id:
        pipeline = Pipeline.objects.filter(pk=pipeline_id, is_active=True).first()
        first = pipeline.stages.filter(kind=Stage.Kind.OPEN).first() if pipeline else None
        if first is None:
            errors.add("pipeline_id", _("Unknown pipeline."))
            return
        deal.pipeline_id, deal.stage_id = pipeline.pk, first.pk
        return
    if deal.stage_id is None:
        default = default_pipeline()
        first = default.stages.filter(kind=Stage.Kind.OPEN).first() if default else None
        if first is None:
            errors.add(
                "pipeline_id", _("Set up a pipeline with stages first (Settings → Pipelines).")
            )
            return
        deal.pipeline_id, deal.stage_id = default.pk, first.pk


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).first()


def _lost_reason(deal: Deal, data: dict, errors: records.FieldErrors) -> None:
    if "lost_reason_id" not in data:
        return
    raw = data["lost_reason_id"]
    if raw in (None, ""):
        deal.lost_reason_id = None
        return
    pk = as_db_id(raw)
    if pk is None or not LostReason.objects.filter(pk=pk, is_active=True).exists():
        errors.add("lost_reason_id", _("Unknown lost reason."))
        return
    deal.lost_reason_id = pk


def _enter_stage(deal: Deal, previous_stage_id, errors: records.FieldErrors) -> Stage | None:
    """The checks and bookkeeping of a deal entering its (new) stage; the stage entered,
    None if the stage did not change."""
    if deal.stage_id == previous_stage_id or deal.stage_id is None:
        return None
    stage = deal.stage
    for field in stage.required_fields:
        if field in Stage.REQUIRABLE and not _filled(deal, field):
            errors.add(
                _field_key(field),
                _("Fill this in before the deal enters “%(stage)s”.") % {"stage": stage.name},
            )
    if stage.kind == Stage.Kind.LOST:
        if deal.lost_reason_id is None and LostReason.objects.filter(is_active=True).exists():
            errors.add("lost_reason_id", _("Choose why the deal was lost."))
    place_in_stage(deal, stage, timezone.now())
    return stage


def place_in_stage(deal: Deal, stage: Stage, now) -> None:
    """A deal entering ``stage`` at ``now``: won or lost closes it (won forgets a lost
    reason), an open stage reopens it."""
    deal.stage_id, deal.stage_entered_at = stage.pk, now
    if stage.kind == Stage.Kind.OPEN:
        deal.closed_at, deal.lost_reason_id = None, None
    else:
        deal.closed_at = now
        if stage.kind == Stage.Kind.WON:
            deal.lost_reason_id = None


def record_move(deal: Deal, from_stage_id, to_stage: Stage, actor) -> StageChange:
    """The row that keeps a move: from where, to where, when and by whom."""
    return StageChange.objects.create(
        deal=deal,
        pipeline_id=deal.pipeline_id,
        from_stage_id=from_stage_id,
        to_stage=to_stage,
        moved_at=deal.stage_entered_at,
        moved_by=actor if getattr(actor, "pk", None) else None,
    )


def _filled(deal: Deal, field: str) -> bool:
    if field == "amount":
        return bool(deal.amount)
    return getattr(deal, _field_key(field)) not in (None, "")


def _field_key(field: str) -> str:
    return f"{field}_id" if field in ("company", "person") else field


def _add_model_errors(deal: Deal, errors: records.FieldErrors) -> None:
    found = records.field_errors(
        deal,
        exclude=["owner", "department", "company", "person", "pipeline", "stage", "lost_reason"],
        validate_unique=False,
    )
    for field, messages in found.items():
        if field not in errors.by_field:
            for message in messages:
                errors.add(field, message)


def _tags(data: dict, errors: records.FieldErrors) -> list[str] | None:
    """The tag names given (None: not given), from the tag list contacts share."""
    if "tags" not in data:
        return None
    names = contacts.clean_tags(data["tags"], errors)
    contacts.check_new_tags(names, errors)
    return names


def _lines(deal: Deal, data: dict, actor, errors: records.FieldErrors):
    """The lines given (None: not given). While a deal has lines, its amount is their net
    total: the amount given is then ignored."""
    if data.get("lines") is not None:
        parsed = deal_lines.parse_lines(data["lines"], deal.currency, actor, errors)
        if parsed:
            deal.amount = sum((line.totals.net for line in parsed), Decimal("0.00"))
        return parsed
    if deal.pk is not None:
        # Summed here, not by SUM(): SQLite would add the cents as floating point.
        kept = list(DealLine.objects.filter(deal_id=deal.pk).values_list("net", flat=True))
        if kept:
            deal.amount = sum(kept, Decimal("0.00"))
    return None


def _saver(entered: list, actor, client_changed: list, tags: list, lines: list):
    def save_related(deal: Deal) -> None:
        if tags and tags[0] is not None:
            deal.tags.set(contacts.tags_named(tags[0]))
        if lines and lines[0] is not None:
            deal_lines.write_lines(deal, lines[0])
        if entered and entered[0] is not None:
            record_move(deal, entered[1], entered[0], actor)
        if client_changed and client_changed[0]:
            timeline.set_links(deal, clients_of(deal))

    return save_related


def clients_of(deal: Deal) -> list:
    """The records the deal is about on timelines: its company and contact person."""
    found = []
    if deal.company_id:
        found += list(Company._base_manager.filter(pk=deal.company_id))
    if deal.person_id:
        found += list(Person._base_manager.filter(pk=deal.person_id))
    return found


def create_deal(data: dict, *, actor) -> Deal:
    deal = Deal()
    errors = records.FieldErrors()
    _apply_fields(deal, data, errors)
    parsed_lines = _lines(deal, data, actor, errors)
    _client(deal, data, actor, errors)
    _stage(deal, data, errors)
    _lost_reason(deal, data, errors)
    records.place_new(deal, data, actor, errors)
    entered = _enter_stage(deal, None, errors) if "stage_id" not in errors.by_field else None
    tags = _tags(data, errors)
    records.apply_custom_values(deal, data, actor, errors)
    _add_model_errors(deal, errors)
    errors.raise_if_any()
    return records.create_record(
        deal,
        actor=actor,
        save_related=_saver([entered, None], actor, [True], [tags], [parsed_lines]),
        checked_links=_CHECKED_LINKS,
    )


def update_deal(deal: Deal, data: dict, *, actor, expected_version=None) -> Deal:
    entered: list = []
    client_changed: list = []
    tags: list = []
    parsed_lines: list = []

    def apply(target: Deal) -> None:
        previous_stage, previous_client = target.stage_id, (target.company_id, target.person_id)
        errors = records.FieldErrors()
        _apply_fields(target, data, errors)
        parsed_lines.append(_lines(target, data, actor, errors))
        _client(target, data, actor, errors)
        _stage(target, data, errors)
        _lost_reason(target, data, errors)
        records.place_edited(target, data, actor, errors)
        entered.extend([_enter_stage(target, previous_stage, errors), previous_stage])
        client_changed.append((target.company_id, target.person_id) != previous_client)
        tags.append(_tags(data, errors))
        records.apply_custom_values(target, data, actor, errors)
        _add_model_errors(target, errors)
        errors.raise_if_any()

    with transaction.atomic():
        return records.update_record(
            deal,
            apply,
            actor=actor,
            expected_version=expected_version,
            save_related=_saver(entered, actor, client_changed, tags, parsed_lines),
            checked_links=_CHECKED_LINKS,
        )


def move_deal(deal: Deal, stage_id, *, actor, expected_version, lost_reason_id=None) -> Deal:
    """The board's drag and drop: into another stage of its pipeline."""
    data = {"stage_id": stage_id, "pipeline_id": deal.pipeline_id}
    if lost_reason_id not in (None, ""):
        data["lost_reason_id"] = lost_reason_id
    return update_deal(deal, data, actor=actor, expected_version=expected_version)


def delete_deal(deal: Deal, *, actor, expected_version=None) -> None:
    records.delete_record(deal, actor=actor, expected_version=expected_version)
