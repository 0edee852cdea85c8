"""What a new install starts with: one pipeline of the usual stages and the usual lost
reasons (editable in the settings afterwards). Run by a data migration, and by tests that
empty the database between them."""

STAGES = (
    ("Lead", 10, "open"),
    ("Qualified", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
)
LOST_REASONS = ("Price", "Competitor", "No budget", "No decision", "Other")


def install_default_pipeline(pipeline_model=None, stage_model=None, reason_model=None) -> None:
    """The default pipeline and lost reasons, unless any pipeline exists already."""
    if pipeline_model is None:
        from .models import LostReason, Pipeline, Stage

        pipeline_model, stage_model, reason_model = Pipeline, Stage, LostReason
    if pipeline_model.objects.exists():
        return
    pipeline = pipeline_model.objects.create(name="Sales", position=0)
    stage_model.objects.bulk_create(
        stage_model(pipeline=pipeline, name=name, position=i, probability=p, kind=kind)
        for i, (name, p, kind) in enumerate(STAGES)
    )
    for position, name in enumerate(LOST_REASONS):
        reason_model.objects.get_or_create(name=name, defaults={"position": position})
