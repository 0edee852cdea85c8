"""SQLite's search index merges its segments in larger steps (FTS5 ``automerge``).

The default (4) merges often while rows are written: at a million people a fifth of the
import went to it. At 8 the import of 1.1M records took 176 s instead of 214 s, for 17
index segments instead of 11 and name search a millisecond or two slower (median 13-16
ms, p95 39-46 ms). The setting is stored in the index itself; PostgreSQL has no twin.
"""

from django.db import migrations


def _set_automerge(value: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                "INSERT INTO core_search_fts(core_search_fts, rank) VALUES ('automerge', %s)",
                [value],
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0002_search_index")]

    operations = [migrations.RunPython(_set_automerge(8), _set_automerge(4))]
