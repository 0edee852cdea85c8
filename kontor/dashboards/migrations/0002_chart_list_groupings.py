"""Charts group as lists do (``RecordType.groupings``): a stored chart grouped by one of its
type's choice filters ("filter.<name>") is given the list grouping of the same groups.
A filter without one (overlapping options: a task's "set by", a deal's status with its
"won or lost"; a product's or a company's own filters) is left as it was: the widget
asks for another grouping."""

from django.db import migrations

# record type -> {the chart's former key: the list grouping's key}
RENAMED = {
    "sales.deal": {
        "filter.stage_id": "stage",
        "filter.pipeline_id": "pipeline",
        "filter.currency": "currency",
    },
    "activities.task": {"filter.status": "status"},
    "catalog.product": {"filter.currency": "currency"},
}


def rename(apps, schema_editor, renamed):
    Widget = apps.get_model("dashboards", "Widget")
    SavedView = apps.get_model("savedviews", "SavedView")
    for widget in Widget.objects.filter(kind="view_chart"):
        settings = widget.settings
        object_type = settings.get("type") or (
            SavedView.objects.filter(pk=settings.get("view_id"))
            .values_list("object_type", flat=True)
            .first()
        )
        new_key = renamed.get(object_type, {}).get(settings.get("group_by"))
        if new_key:
            widget.settings = {**settings, "group_by": new_key}
            widget.save(update_fields=["settings"])


def forwards(apps, schema_editor):
    rename(apps, schema_editor, RENAMED)


def backwards(apps, schema_editor):
    rename(
        apps,
        schema_editor,
        {kind: {new: old for old, new in keys.items()} for kind, keys in RENAMED.items()},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_initial"),
        ("savedviews", "0002_defaults_and_pins"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
