from django.db import migrations


def install(apps, schema_editor):
    from kontor.accounts.services import install_builtin_roles

    install_builtin_roles(apps.get_model("accounts", "Role"), apps.get_model("accounts", "RoleGrant"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
