"""Filtering and sorting on custom values, in SQL an expression index serves.

``CustomKey`` writes the one expression both the index (kontor.core.customfields.indexes)
and every query use, with the field id inlined (a validated integer): Django's
KeyTransform binds the JSON path as a parameter on SQLite, and SQLite then cannot
match the query to the index.

SQLite: ``ifnull(json_extract(custom, '$."12"'), x'')``. An empty value becomes the
empty blob, which SQLite sorts after every number and text, so "empty last" walks the
index in its own order. PostgreSQL: ``(custom ->> '12')``, cast to numeric for number
kinds; it sorts NULL after every value when ascending. On both, descending is the exact
reverse (empty first): one index serves both directions.
"""

from __future__ import annotations

import json

from django.db import NotSupportedError, connection
from django.db.models import (
    BooleanField,
    CharField,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    lookups,
)
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext as _

from ..errors import ValidationFailed
from . import kinds
from .kinds import Kind


def _output_field(field):
    """The lookups' field: how a compared value is passed to this database."""
    kind = field.value_kind
    if kind in kinds.DECIMAL_KINDS:
        # SQLite's driver passes a Decimal as text, which never equals a JSON number.
        return FloatField() if connection.vendor == "sqlite" else DecimalField()
    if kind in kinds.NUMBER_KINDS:
        return IntegerField()
    if kind == Kind.BOOLEAN and connection.vendor == "sqlite":
        return IntegerField()
    return CharField()


def db_value(field, stored):
    """A stored value as the database's extract of it reads (for comparisons)."""
    if field.value_kind == Kind.BOOLEAN:
        if connection.vendor == "sqlite":
            return int(stored)
        return "true" if stored else "false"
    if field.value_kind in kinds.DECIMAL_KINDS and connection.vendor == "sqlite":
        return float(stored)
    return stored


class CustomKey(Func):
    """The sortable, comparable extract of one custom field's value (see the module)."""

    def __init__(self, field, **extra):
        self.field_id = int(field.pk)
        self.numeric = field.value_kind in kinds.NUMBER_KINDS
        super().__init__(F("custom"), output_field=_output_field(field), **extra)

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"custom fields are not supported on {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return sqlite_key(column, self.field_id), params

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return postgresql_key(column, self.field_id, numeric=self.numeric), params


def sqlite_key(column: str, field_id: int) -> str:
    return f"ifnull(json_extract({column}, '$.\"{int(field_id)}\"'), x'')"


def postgresql_key(column: str, field_id: int, *, numeric: bool) -> str:
    key = f"({column} ->> '{int(field_id)}')"
    return f"({key})::numeric" if numeric else key


class CustomEmpty(Func):
    """True where the record holds no value for the field (the index's empty form)."""

    output_field = BooleanField()

    def __init__(self, field):
        super().__init__(CustomKey(field))

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"custom fields are not supported on {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        key, params = compiler.compile(self.source_expressions[0])
        return f"({key} = x'')", params

    def as_postgresql(self, compiler, connection, **extra):
        key, params = compiler.compile(self.source_expressions[0])
        return f"({key} IS NULL)", params


class CustomHas(Func):
    """True where a multiple choice holds the option ``key``."""

    output_field = BooleanField()

    def __init__(self, field, key: str):
        self.field_id = int(field.pk)
        self.option = key
        super().__init__(F("custom"))

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"custom fields are not supported on {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({column}, '$.\"{self.field_id}\"') AS picked "
            "WHERE picked.value = %s)"
        )
        return sql, (*params, self.option)

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"(({column} -> '{self.field_id}') @> %s::jsonb)", (
            *params,
            json.dumps([self.option]),
        )


def _operand(field, value):
    """A filter operand cleaned as a value of the field, as the database reads it."""
    if field.value_kind == Kind.MULTIPLE_CHOICE:
        return kinds.convert(field, [value])[0]
    return db_value(field, kinds.convert(field, value))


def filter_q(field, op: str, value=None) -> Q:
    """The condition "``field`` ``op`` ``value``" on a record queryset.

    ``op`` is one of kinds.OPERATORS[field.value_kind]; ``value`` a single value, a pair for
    "range", a list for "in", nothing for "empty"/"not_empty". A bad operator or value
    is a ValidationFailed keyed ``custom.<name>``.
    """
    from django.core.exceptions import ValidationError

    error_key = f"custom.{field.name}"
    if op not in kinds.OPERATORS[field.value_kind]:
        raise ValidationFailed(errors={error_key: [_("This filter does not apply to this field.")]})
    if op == "empty":
        return Q(CustomEmpty(field))
    if op == "not_empty":
        return ~Q(CustomEmpty(field))
    try:
        if op == "has":
            return Q(CustomHas(field, _operand(field, value)))
        if op == "in":
            values = value if isinstance(value, list | tuple) else [value]
            return Q(lookups.In(CustomKey(field), [_operand(field, v) for v in values]))
        if op == "range":
            low, high = value
            return Q(lookups.Range(CustomKey(field), (_operand(field, low), _operand(field, high))))
        if op in ("contains", "icontains"):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(_("Enter text."))
            lookup = lookups.Contains if op == "contains" else lookups.IContains
            return Q(lookup(CustomKey(field), value.strip()))
        operand = _operand(field, value)
    except (ValidationError, TypeError, ValueError) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [_("Enter a valid value.")]
        raise ValidationFailed(errors={error_key: messages}) from None
    compare = {
        "eq": lookups.Exact,
        "lt": lookups.LessThan,
        "lte": lookups.LessThanOrEqual,
        "gt": lookups.GreaterThan,
        "gte": lookups.GreaterThanOrEqual,
    }[op]
    condition = Q(compare(CustomKey(field), operand))
    # On SQLite the empty blob sorts above every value: "greater than" must leave it out.
    if op in ("gt", "gte"):
        condition &= ~Q(CustomEmpty(field))
    return condition


def order_by(field, *, descending: bool = False) -> list[OrderBy]:
    """Sort expressions: the field (empty after every value ascending, first descending),
    then the id, so pages are stable and the index gives the order without a sort."""
    if field.value_kind not in kinds.INDEXED_KINDS:
        raise ValidationFailed(errors={f"custom.{field.name}": [_("This field cannot be sorted.")]})
    return [
        OrderBy(CustomKey(field), descending=descending),
        OrderBy(F("pk"), descending=descending),
    ]
