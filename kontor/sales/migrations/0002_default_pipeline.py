"""A company starts with one pipeline and the usual lost reasons (editable in Settings)."""

from django.db import migrations

from kontor.sales.defaults import install_default_pipeline


def create_defaults(apps, schema_editor):
    install_default_pipeline(
        apps.get_model("sales", "Pipeline"),
        apps.get_model("sales", "Stage"),
        apps.get_model("sales", "LostReason"),
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
