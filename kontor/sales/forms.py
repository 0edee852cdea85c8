"""The deal form: the engine's record form with a deal's own fields."""

from kontor.web.forms import TaggedForm

from . import services


class DealForm(TaggedForm):
    scalar_fields = (
        *services.DEAL_FIELDS,
        "pipeline_id",
        "stage_id",
        "company_id",
        "person_id",
        "lost_reason_id",
        "owner_id",
        "department_id",
    )
