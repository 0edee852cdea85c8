"""Custom records' search documents take the ids that name their records.

A custom object type's search code is 1000 plus its definition's id
(kontor/objects/registry.py); a document's id is that code shifted past the record id's
40 bits, plus the record's id (core.search.document_id).
"""

from django.db import migrations

RECORD_ID_BITS = 40
SEARCH_CODES_FROM = 1000


def name_records(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("core", "SearchDocument")._meta.db_table)
    definitions = apps.get_model("objects", "ObjectTypeDefinition").objects.all()
    for pk, slug in definitions.values_list("pk", "slug"):
        schema_editor.execute(
            f"UPDATE {table} SET id = %s + object_id WHERE object_type = %s",
            [(SEARCH_CODES_FROM + pk) << RECORD_ID_BITS, f"objects.{slug}"],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("objects", "0001_initial"),
        ("core", "0004_definitionstamp_customfield"),
    ]

    # Backwards the ids stay: documents under any ids serve the earlier code.
    operations = [migrations.RunPython(name_records, migrations.RunPython.noop)]
