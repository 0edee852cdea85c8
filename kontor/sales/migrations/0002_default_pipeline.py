"""A company starts with one pipeline and the usual lost reasons (editable in Settings)."""

from django.db import migrations

STAGES = (
    ("Lead", 10, "open"),
    ("Qualified", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
)
LOST_REASONS = ("Price", "Competitor", "No budget", "No decision", "Other")


def create_defaults(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LostReason = apps.get_model("sales", "LostReason")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="Sales", position=0)
    for position, (name, probability, kind) in enumerate(STAGES):
        Stage.objects.create(
            pipeline=pipeline, name=name, position=position, probability=probability, kind=kind
        )
    for position, name in enumerate(LOST_REASONS):
        LostReason.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
