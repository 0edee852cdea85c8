"""The substring index behind global search (see kontor/core/search.py)."""

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE core_search_fts USING fts5("
    "body, content='core_searchdocument', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER core_search_ai AFTER INSERT ON core_searchdocument BEGIN "
    "INSERT INTO core_search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER core_search_ad AFTER DELETE ON core_searchdocument BEGIN "
    "INSERT INTO core_search_fts(core_search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "END",
    "CREATE TRIGGER core_search_au AFTER UPDATE ON core_searchdocument BEGIN "
    "INSERT INTO core_search_fts(core_search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO core_search_fts(rowid, body) VALUES (new.id, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_search_au",
    "DROP TRIGGER IF EXISTS core_search_ad",
    "DROP TRIGGER IF EXISTS core_search_ai",
    "DROP TABLE IF EXISTS core_search_fts",
]
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX core_search_body_trgm ON core_searchdocument USING gin (body gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS core_search_body_trgm"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
