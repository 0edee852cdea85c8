"""Deals in a bulk import: their part of ``kontor.core.bulk``.

A row is what ``services.create_deal`` takes, cleaned by that service's own functions
(fields, client, pipeline and stage, lost reason, what the stage asks on entry, custom
values); what they ask the database per deal is answered once per import (stages, lost
reasons) or per batch (which of the rows' companies and people the actor sees). The
engine writes the rest as for any type: placement, audit entry, search document, event,
and the deal's rows on its clients' timelines (``DealType.import_links``).

A row may carry ``history``: the stages the deal went through, ``[(stage id, moment),
...]`` in order of time, the last one its present stage. Each becomes a ``StageChange``
made by the deal's owner, instead of the one entry into its stage a new deal gets: an
install moving its past deals in, or the demo company's three years. The moments must
grow and not lie ahead; the deal's stage, ``stage_entered_at`` and ``closed_at`` follow
the last one.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.contacts import services as contacts
from kontor.contacts.bulk import TaggedImporter
from kontor.contacts.models import Company, Person
from kontor.core import services as records
from kontor.core.inputs import as_db_id

from . import services
from .models import Deal, LostReason, Pipeline, Stage, StageChange


class _ReadOnce(services.Lookups):
    """The single write's questions, answered from reads made once (stages and reasons
    per import, the rows' clients per batch)."""

    def __init__(self):
        self.stages = {stage.pk: stage for stage in Stage.objects.order_by("position", "id")}
        active = set(Pipeline.objects.filter(is_active=True).values_list("pk", flat=True))
        self.first_open: dict[int, Stage] = {}
        for stage in self.stages.values():
            if stage.kind == Stage.Kind.OPEN and stage.pipeline_id in active:
                self.first_open.setdefault(stage.pipeline_id, stage)
        default = services.default_pipeline()
        self.default_id = default.pk if default else None
        self.reasons = set(LostReason.objects.filter(is_active=True).values_list("pk", flat=True))
        self.seen: dict[type, set[int]] = {Company: set(), Person: set()}

    def read_clients(self, rows: list[dict], actor) -> None:
        for model, field in ((Company, "company_id"), (Person, "person_id")):
            wanted = {as_db_id(row.get(field)) for row in rows} - {None}
            found = model.objects.visible_to(actor).filter(pk__in=wanted) if wanted else ()
            self.seen[model] = set(found.values_list("pk", flat=True)) if wanted else set()

    def visible(self, model, pk: int, actor) -> bool:
        return pk in self.seen[model]

    def stage(self, pk: int) -> Stage | None:
        return self.stages.get(pk)

    def first_open_stage(self, pipeline_id: int | None) -> Stage | None:
        return self.first_open.get(self.default_id if pipeline_id is None else pipeline_id)

    def reason_active(self, pk: int) -> bool:
        return pk in self.reasons

    def reasons_exist(self) -> bool:
        return bool(self.reasons)


class DealImporter(TaggedImporter):
    related = ("stage_changes", "tags")
    checked_elsewhere = ("company", "person", "pipeline", "stage", "lost_reason")

    def __init__(self, record_type, actor):
        super().__init__(record_type, actor)
        self.lookups = _ReadOnce()

    def start_batch(self, rows):
        super().start_batch(rows)
        self.lookups.read_clients(rows, self.actor)

    def clean(self, obj, data, errors):
        history = _history(data, errors)
        if history:
            given = data.get("stage_id")
            if given not in (None, "") and as_db_id(given) != history[-1][0]:
                errors.add("history", _("The last move must enter the deal's stage."))
            data = {**data, "stage_id": history[-1][0]}
        services._apply_fields(obj, data, errors)
        services._client(obj, data, self.actor, errors, self.lookups)
        services._stage(obj, data, errors, self.lookups)
        services._lost_reason(obj, data, errors, self.lookups)
        moves = []
        if obj.stage_id is not None and "stage_id" not in errors.by_field:
            moves = self._moves(obj, history, errors)
        tags = contacts.clean_tags(data["tags"], errors) if "tags" in data else []
        records.apply_custom_values(obj, data, self.actor, errors)
        # Past moves were made by the deal's owner, known once placed (``check``).
        return {"stage_changes": moves, "tags": tags, "owner_moved": bool(history)}

    def _moves(self, deal: Deal, history: list, errors) -> list[StageChange]:
        """Its stage entered (checked as a single write checks it), and the moves kept."""
        stage = self.lookups.stage(deal.stage_id)
        services.check_entry(deal, stage, errors, self.lookups)
        if not history:
            services.place_in_stage(deal, stage, timezone.now())
            mover = self.actor.pk if getattr(self.actor, "pk", None) else None
            return [_move(deal, None, stage.pk, deal.stage_entered_at, mover)]
        for stage_id, _moment in history:
            entered = self.lookups.stage(stage_id)
            if entered is None or entered.pipeline_id != deal.pipeline_id:
                errors.add("history", _("Choose a stage of the deal's pipeline."))
                return []
        services.place_in_stage(deal, stage, history[-1][1])
        froms = [None, *(stage_id for stage_id, _moment in history[:-1])]
        return [
            _move(deal, from_id, stage_id, moment, None)
            for from_id, (stage_id, moment) in zip(froms, history, strict=True)
        ]

    def check(self, obj, related, errors):
        if related["owner_moved"]:
            for move in related["stage_changes"]:
                move.moved_by_id = obj.owner_id


def _move(deal: Deal, from_id, to_id: int, moment, mover_id) -> StageChange:
    # Positional (id, deal, pipeline, from, to, moment, mover): a few times faster than
    # keywords, which counted at the demo's 80,000 moves.
    return StageChange(None, None, deal.pipeline_id, from_id, to_id, moment, mover_id)


def _history(data: dict, errors) -> list[tuple[int, datetime.datetime]]:
    """The row's ``history`` as (stage id, aware moment) pairs, or [] (none, or errors)."""
    raw = data.get("history")
    if not raw:
        return []
    now = timezone.now()
    found, previous = [], None
    for entry in raw:
        try:
            stage_id, moment = entry
        except (TypeError, ValueError):
            stage_id, moment = None, None
        pk = as_db_id(stage_id)
        if pk is None or not isinstance(moment, datetime.datetime) or timezone.is_naive(moment):
            errors.add("history", _("Give each move as a stage and the moment it was made."))
            return []
        if moment > now or (previous is not None and moment <= previous):
            errors.add("history", _("Give the moves in order of time, none ahead of now."))
            return []
        found.append((pk, moment))
        previous = moment
    return found
