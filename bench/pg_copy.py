"""Copy the SQLite benchmark database into an empty PostgreSQL database.

    .venv/bin/python bench/pg_copy.py --database-url postgres://bench@127.0.0.1:55432/bench

Importing a million people through the app into PostgreSQL took too long on the shared
benchmark machine (the 100,000-person import alone took 445 s), so the PostgreSQL
figures at a million read the very rows ``bench/generate.py`` (and, if it ran first,
``bench/custom_fields.py``) wrote into SQLite:

1. ``migrate`` on the empty PostgreSQL database (every table, index and extension);
2. every table of every installed model, in the columns Django knows, copied with
   ``COPY ... FROM STDIN`` (psycopg) in one transaction, foreign key triggers off
   (``session_replication_role = replica``: the rows come from a database that
   already held them consistent); left out: the audit log and the event outbox, which
   no figure reads and which are as large as the people;
3. the sequences set past the copied ids, the custom fields' expression indexes built
   (``core.customfields.indexes.sync``), and ``ANALYZE``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SKIPPED = {"core_auditentry", "core_outboxevent", "core_outboxdelivery"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--sqlite", type=Path, default=_setup.DEFAULT_DB)
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from kontor.core.customfields import indexes

    call_command("migrate", interactive=False, verbosity=0)
    source = sqlite3.connect(f"file:{args.sqlite}?mode=ro", uri=True)
    present = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    models = [
        m
        for m in apps.get_models(include_auto_created=True)
        if not m._meta.proxy and m._meta.managed and m._meta.db_table in present
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET TIME ZONE 'UTC'")  # SQLite holds Django's UTC datetimes as text
        for model in models:
            table = model._meta.db_table
            if table in SKIPPED:
                continue
            columns = [f.column for f in model._meta.concrete_fields]
            cursor.execute(f"DELETE FROM {table}")  # rows migrate itself wrote
            names = ", ".join(f'"{c}"' for c in columns)
            copied = 0
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {names} FROM {table}"):
                    copy.write_row(row)
                    copied += 1
            print(f"  {table}: {copied:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")
    copied_at = time.perf_counter()
    indexes.sync()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"copied in {copied_at - started:.0f} s; custom field indexes and ANALYZE "
        f"{time.perf_counter() - copied_at:.0f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
