"""/api/v1/pipelines and /api/v1/lost-reasons: read by everyone signed in (the deal form
and the board need them), written by administrators (``setup.may_configure``) through the
same services as Settings → Pipelines; errors are ``{"detail", "errors"}`` keyed like
``stages.0.name`` and ``move_deals.<stage id>``."""

from __future__ import annotations

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from kontor.core.api import DbInt
from kontor.core.errors import NotFound

from . import setup
from .models import LostReason, Pipeline, Stage
from .schemas import StageKind

router = Router(tags=["pipelines"])
REQUIRABLE = ", ".join(Stage.REQUIRABLE)


class StageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: DbInt | None = Field(None, description="A stage of this pipeline to keep; none: a new one")
    name: str
    kind: StageKind = "open"
    probability: int = Field(0, description="Win probability, % (0-100)")
    rotting_days: int | None = Field(None, description="1 or more; null: never rotting")
    required_fields: list[str] = Field([], description=f"Among: {REQUIRABLE}")


class PipelineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    is_active: bool = True
    stages: list[StageIn] = Field(description="In order; at least one open stage")


class PipelinePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    is_active: bool | None = None
    stages: list[StageIn] | None = Field(
        None, description="The whole ordered list: stages left out are removed"
    )
    move_deals: dict[str, DbInt] | None = Field(
        None,
        description="{removed stage id: kept stage id}: where the deals of removed stages go; "
        "removing a stage that holds deals without it is refused",
    )


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[DbInt] = Field(description="Every one of them, each once, in the new order")


class StageOut(Schema):
    id: int
    name: str
    position: int
    kind: StageKind
    probability: int
    rotting_days: int | None
    required_fields: list[str]


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    stages: list[StageOut]


class LostReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    is_active: bool = True


class LostReasonPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    is_active: bool | None = None


class LostReasonOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool


def pipeline_out(pipeline: Pipeline) -> dict:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "position": pipeline.position,
        "is_active": pipeline.is_active,
        "stages": [
            {
                "id": s.pk,
                "name": s.name,
                "position": s.position,
                "kind": s.kind,
                "probability": s.probability,
                "rotting_days": s.rotting_days,
                "required_fields": s.required_fields,
            }
            for s in pipeline.stages.all()
        ],
    }


def _sent(payload: Schema) -> dict:
    return {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound()
    return pipeline


def _reason(reason_id: int) -> LostReason:
    reason = LostReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise NotFound()
    return reason


@router.get("/pipelines", response=list[PipelineOut], operation_id="pipelines_list")
def list_pipelines(request):
    """Every pipeline (inactive ones too: ``is_active``) with its stages, in order."""
    return [pipeline_out(p) for p in setup.pipelines_with_stages()]


@router.get("/pipelines/{int:pipeline_id}", response=PipelineOut, operation_id="pipelines_get")
def get_pipeline(request, pipeline_id: int):
    return pipeline_out(_pipeline(pipeline_id))


@router.post("/pipelines", response={201: PipelineOut}, operation_id="pipelines_create")
def create_pipeline(request, payload: PipelineIn):
    pipeline = setup.create_pipeline(payload.model_dump(), actor=request.user)
    return Status(201, pipeline_out(pipeline))


@router.post("/pipelines/order", response={204: None}, operation_id="pipelines_order")
def order_pipelines(request, payload: OrderIn):
    setup.reorder_pipelines(payload.ids, actor=request.user)
    return Status(204, None)


@router.patch("/pipelines/{int:pipeline_id}", response=PipelineOut, operation_id="pipelines_update")
def update_pipeline(request, pipeline_id: int, payload: PipelinePatch):
    """Rename, (de)activate, or write the stages (the whole ordered list)."""
    data = _sent(payload)
    if "stages" in data:
        data["stages"] = [stage.model_dump() for stage in payload.stages]
    pipeline = setup.update_pipeline(_pipeline(pipeline_id), data, actor=request.user)
    return pipeline_out(Pipeline.objects.get(pk=pipeline.pk))


@router.delete(
    "/pipelines/{int:pipeline_id}", response={204: None}, operation_id="pipelines_delete"
)
def delete_pipeline(request, pipeline_id: int):
    """Only a pipeline holding no deals; deactivate one that does (PATCH is_active)."""
    setup.delete_pipeline(_pipeline(pipeline_id), actor=request.user)
    return Status(204, None)


@router.get("/lost-reasons", response=list[LostReasonOut], operation_id="lost_reasons_list")
def list_lost_reasons(request):
    """Every lost reason in order; inactive ones are no longer offered."""
    return list(LostReason.objects.all())


@router.post("/lost-reasons", response={201: LostReasonOut}, operation_id="lost_reasons_create")
def create_lost_reason(request, payload: LostReasonIn):
    return Status(201, setup.create_lost_reason(payload.model_dump(), actor=request.user))


@router.post("/lost-reasons/order", response={204: None}, operation_id="lost_reasons_order")
def order_lost_reasons(request, payload: OrderIn):
    setup.reorder_lost_reasons(payload.ids, actor=request.user)
    return Status(204, None)


@router.patch(
    "/lost-reasons/{int:reason_id}", response=LostReasonOut, operation_id="lost_reasons_update"
)
def update_lost_reason(request, reason_id: int, payload: LostReasonPatch):
    """Rename, deactivate (deals keep it) or reactivate."""
    return setup.update_lost_reason(_reason(reason_id), _sent(payload), actor=request.user)


@router.delete(
    "/lost-reasons/{int:reason_id}", response={204: None}, operation_id="lost_reasons_delete"
)
def delete_lost_reason(request, reason_id: int):
    """Only a reason no deal names; deactivate one that is (PATCH is_active)."""
    setup.delete_lost_reason(_reason(reason_id), actor=request.user)
    return Status(204, None)
