"""People's and companies' search documents take the ids that name their records.

A document's id is its type's search code (kontor/contacts/types.py) shifted past the
record id's 40 bits, plus the record's id (core.search.document_id). On SQLite the
trigram index is rebuilt once instead of re-filing each document through its update
trigger (three times faster, as in 0006).
"""

from django.db import migrations

RECORD_ID_BITS = 40
CODES = {"contacts.person": 1, "contacts.company": 2}


def name_records(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("core", "SearchDocument")._meta.db_table)
    update_trigger = None
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'core_search_au'")
            (update_trigger,) = cursor.fetchone()
        schema_editor.execute("DROP TRIGGER core_search_au")
    for object_type, code in CODES.items():
        schema_editor.execute(
            f"UPDATE {table} SET id = %s + object_id WHERE object_type = %s",
            [code << RECORD_ID_BITS, object_type],
        )
    if update_trigger:
        schema_editor.execute(update_trigger)
        schema_editor.execute("INSERT INTO core_search_fts(core_search_fts) VALUES ('rebuild')")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_company_custom_person_custom"),
        ("core", "0004_definitionstamp_customfield"),
    ]

    # Backwards the ids stay: documents under any ids serve the earlier code.
    operations = [migrations.RunPython(name_records, migrations.RunPython.noop)]
