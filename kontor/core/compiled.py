"""Reads whose SQL is compiled once per shape and run again with new values.

Django builds and compiles a queryset's SQL every time it is read. For a read of a few
dozen rows by id that is most of its cost (docs/benchmarks.md, "Issue 13"). A read that
runs one shape over and over (a timeline page's entries, the names of the records they
are about) keeps the compiled statement under a key that holds everything the shape
depends on (the record type, the purpose, the reader's scope filter), and asks Django
only to turn the rows into model instances.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.sql import Query

# Shapes kept per process: a few per record type and reader scope.
MAX_SHAPES = 1024
# The id that stands for the list of ids while the statement is compiled.
_ID_MARK = -1
_ID_LIST = "IN (%s)"

_lock = threading.Lock()
_shapes: OrderedDict[Hashable, _ByIds | None] = OrderedDict()
_wheres: OrderedDict[Hashable, tuple[str, tuple] | None] = OrderedDict()


def _remember(cache: OrderedDict, key, make: Callable):
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with _lock:
        cache[key] = value
        while len(cache) > MAX_SHAPES:
            cache.popitem(last=False)
    return value


def forget_all() -> None:
    """Drop every kept statement (a test that changes the schema under a shape)."""
    with _lock:
        _shapes.clear()
        _wheres.clear()


class _Statement:
    """Stands in for a queryset's ``Query`` when Django reads it: the compiler it hands
    out returns the kept SQL and this read's values instead of compiling again."""

    def __init__(self, compiler, sql: str, params: tuple):
        self.compiler, self.sql, self.params = compiler, sql, params

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = copy.copy(self.compiler)
        compiler.connection = connection or connections[using]
        compiler.using = using
        sql, params = self.sql, self.params
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return compiler


class _ByIds:
    """One compiled ``queryset.filter(pk__in=[...])``, its list of ids left open."""

    def __init__(self, queryset: QuerySet, using: str):
        plain = queryset.query
        if plain.is_sliced or plain.distinct or plain.group_by or plain.combinator:
            raise ValueError("Only a plain filtered read compiles once.")
        queryset = queryset.order_by().filter(pk__in=[_ID_MARK])
        query = queryset.query
        self.model = queryset.model
        self.compiler = query.get_compiler(using)
        sql, params = self.compiler.as_sql()
        # The id list is the statement's last condition: its mark is the last value.
        at = sql.rfind(_ID_LIST)
        if at < 0 or params[-1] != _ID_MARK or sql[at + len(_ID_LIST) :].strip(")"):
            raise ValueError("The id list is not the statement's last condition.")
        self.head, self.tail = sql[: at + len("IN (")], sql[at + len(_ID_LIST) - 1 :]
        self.params = tuple(params[:-1])

    def read(self, ids: list, using: str) -> list:
        sql = self.head + ", ".join(["%s"] * len(ids)) + self.tail
        statement = _Statement(self.compiler, sql, (*self.params, *ids))
        return list(QuerySet(self.model, query=statement, using=using))


def by_ids(key: Hashable, build: Callable[[], QuerySet], ids, using=DEFAULT_DB_ALIAS) -> list:
    """``build().filter(pk__in=ids)`` as model instances, in no set order.

    ``build`` is called only the first time ``key`` is seen, so the key must hold
    everything the queryset depends on (its model, whose scope it reads, for what).
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []

    def compile_shape():
        try:
            return _ByIds(build(), using)
        except EmptyResultSet:  # the filter matches nothing, whatever the ids
            return None

    shape = _remember(_shapes, (using, key), compile_shape)
    return shape.read(ids, using) if shape is not None else []


def where(model, q, *, using=DEFAULT_DB_ALIAS, key: Hashable | None = None):
    """The SQL condition ``filter(q)`` puts on ``model``'s table, with its values:
    ``("", ())`` for every row, None for no row. Kept under ``key`` when one is given
    (a filter without subqueries is its own key)."""

    def compile_where():
        query = Query(model)
        query.add_q(q)
        compiler = query.get_compiler(using)
        try:
            sql, params = compiler.compile(query.where)
        except EmptyResultSet:
            return None
        except FullResultSet:
            return "", ()
        return sql, tuple(params)

    if key is None:
        return compile_where()
    return _remember(_wheres, (using, model, key), compile_where)
