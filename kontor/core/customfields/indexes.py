"""One expression index per sortable custom field, made and dropped at run time.

The index is ``(<CustomKey of the field>, id)`` on the type's table, named
``cf_<table>_<field id>``: a filter on the field, and a sort by it with the id
tiebreak, walk it. It is built after the field's transaction commits (PostgreSQL:
CONCURRENTLY, which cannot run in a transaction, so writers are not blocked), and
``sync`` puts the database in step with the definitions whenever asked: after every
definition change, and after ``migrate`` (a migration that rebuilds a SQLite table
keeps only the indexes Django knows of).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection

from ..models import CustomField
from . import kinds
from .queries import postgresql_key, sqlite_key

PREFIX = "cf_"


def index_name(table: str, field_id: int) -> str:
    # PostgreSQL names are at most 63 bytes.
    return f"{PREFIX}{table[:40]}_{int(field_id)}"


def _create_sql(table: str, field_id: int, numeric: bool) -> str:
    quote = connection.ops.quote_name
    name = index_name(table, field_id)
    if connection.vendor == "postgresql":
        key = postgresql_key(quote("custom"), field_id, numeric=numeric)
        return (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} (({key}), {quote('id')})"
        )
    key = sqlite_key(quote("custom"), field_id)
    return f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({key}, {quote('id')})"


def drop_sql(name: str) -> str:
    concurrently = " CONCURRENTLY" if connection.vendor == "postgresql" else ""
    return f"DROP INDEX{concurrently} IF EXISTS {connection.ops.quote_name(name)}"


def _existing(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name in constraints if name.startswith(PREFIX)}


def _table_of(object_type: str) -> str | None:
    try:
        return apps.get_model(object_type)._meta.db_table
    except (LookupError, ValueError):
        return None


def sync(object_types: list[str] | None = None) -> list[str]:
    """Create the missing indexes, drop those of removed fields; the statements run.

    Must run outside a transaction on PostgreSQL (CONCURRENTLY).
    """
    fields = CustomField.objects.all()
    if object_types is not None:
        fields = fields.filter(object_type__in=object_types)
    wanted: dict[str, dict[str, str]] = {}
    for field in fields:
        table = _table_of(field.object_type)
        if table is None:
            continue
        wanted.setdefault(table, {})
        if field.value_kind in kinds.INDEXED_KINDS:
            numeric = field.value_kind in kinds.NUMBER_KINDS
            wanted[table][index_name(table, field.pk)] = _create_sql(table, field.pk, numeric)
    for object_type in object_types or []:
        if table := _table_of(object_type):
            wanted.setdefault(table, {})
    if object_types is None:
        for model in apps.get_models():
            if "custom" in {f.name for f in model._meta.concrete_fields}:
                wanted.setdefault(model._meta.db_table, {})
    statements = []
    for table, indexes in wanted.items():
        existing = _existing(table)
        statements += [drop_sql(name) for name in sorted(existing - indexes.keys())]
        created = sorted(name for name in indexes if name not in existing)
        statements += [indexes[name] for name in created]
        # The planner's statistics for the new expressions: without them it cannot weigh
        # a filter on the field against a sort by another. SQLite reads only the new
        # indexes; PostgreSQL samples the table.
        if created and connection.vendor == "sqlite":
            statements += [f"ANALYZE {connection.ops.quote_name(name)}" for name in created]
        elif created:
            statements.append(f"ANALYZE {connection.ops.quote_name(table)}")
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return statements
