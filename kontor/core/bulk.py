"""Bulk import of any registered record type: thousands of rows per transaction.

``import_rows(record_type, rows, actor=...)`` creates a record per row by the rules of
the single-record path (``kontor.core.services``: the same cleaning, placement and
permission, the same audit changes, search body and ``*.created`` event, one each per
record), but writes each table with multi-row INSERTs, a batch per transaction, so that
the demo company, the 1,000,000-row benchmark and the spreadsheet importer load in
minutes, not hours. A row with any error is reported and skipped whole; the others are
written.

What a row carries beyond the record's own columns (child rows such as phones, links to
check such as an employer, tags) is the type's ``Importer`` (``RecordType.importer``):
a type without any imports with this module alone. The per-row database lookups of the
single-record path (may this owner be chosen, does this department exist, is that
company visible) are answered from one query per import or batch.

A batch of at least ``KONTOR_IMPORT_HELPER_MIN_ROWS`` rows on a machine with a second
core is cleaned and prepared by two processes: a helper forked after the batch's
lookups (``kontor.core.forked``) takes its last rows, this process the first ones and
all the writing, in the batch's one transaction (docs/architecture.md).
"""

from __future__ import annotations

import datetime
import decimal
import gc
import json
import operator
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import signals
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, events, forked, search, stamps, timeline
from . import services as records
from .access import Action, may
from .context import Channel, acting, current
from .errors import PermissionDenied
from .inputs import text_problem
from .models import AuditEntry, SearchDocument
from .services import FieldErrors

DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class RowError:
    """One problem in one input row; ``row`` counts from 1 in the order rows were given."""

    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    """What an import did: ``ids`` of the created records in input order, and row errors."""

    created: int = 0
    ids: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def skipped_rows(self) -> int:
        return len({e.row for e in self.errors})

    def add(self, part: _Part, plan: _Plan, links) -> None:
        """Write a part of a batch and count it."""
        ids = part.write(plan, links)
        self.ids += ids
        self.created += len(ids)
        self.errors += part.errors


class Importer:
    """A record type's part of an import: how an input row becomes a record and the rows
    written with it. ``RecordType.importer(actor)`` makes one per import.

    This base serves a type whose values are all the record's own columns (a custom
    object keeping its values in a JSON column included): each of ``fields`` is taken
    from the row as given and checked by the model's validation. A type with child rows
    or links to check overrides the hooks (see ``kontor.contacts.bulk``).
    """

    # Reverse foreign keys and many-to-many fields written with each record, in the
    # order they are written. ``clean`` answers each one's items: child instances, or
    # for a many-to-many the target records (with their ids). Each record's lists are
    # also primed as a prefetch, so its search text and audit snapshot read them.
    related: tuple[str, ...] = ()
    # Of those, the tables other reads look up by value (phone lookup reads phones):
    # analyzed with the record's after a large import, on PostgreSQL.
    analyzed: tuple[str, ...] = ()
    # Foreign keys ``clean`` checks itself: validation would ask the database per row.
    checked_elsewhere: tuple[str, ...] = ()

    def __init__(self, record_type, actor):
        self.record_type = record_type
        self.actor = actor

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """What a row may set: the record's own editable values (links and placement are
        for the type to check, or for ``import_rows``)."""
        return tuple(
            f.attname
            for f in self.record_type.model._meta.concrete_fields
            if f.editable and not f.primary_key and not f.is_relation
        )

    def start_batch(self, rows: list[dict]) -> None:
        """Read what a batch's rows refer to, once for the batch."""

    def clean(self, obj, data: dict, errors: FieldErrors) -> dict[str, list]:
        """Apply the row's values to ``obj`` (new); answer its ``related`` items by name."""
        for name in self.fields:
            if name in data:
                setattr(obj, name, data[name])
        return {}

    def check(self, obj, related: dict, errors: FieldErrors) -> None:
        """The type's own rules, once the record is placed (a required name, say)."""

    def accept(self, obj, related: dict, errors: FieldErrors) -> None:
        """Last, for a row nothing else is wrong with: claim what later rows count (new
        tags), or add an error."""


def import_rows(
    record_type,
    rows: Iterable[dict],
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create a ``record_type`` record per row (keys as for the type's create service).

    ``progress(rows read so far)`` is called after each batch.
    """
    # Refused outright, before any row is read: the actor learns nothing from row errors.
    if not may(actor, record_type.object_type, Action.CREATE):
        raise PermissionDenied()
    importer = record_type.importer(actor)
    links = timeline.ImportLinks(record_type, actor)
    plan = _Plan(record_type, importer)
    placement = records.PlacementChoices(actor, record_type.object_type, Action.CREATE).preload()
    result = ImportResult()
    row_number = 0
    # An import is the import channel whoever starts it; a request's id is kept. Its
    # rows are cleaned by one set of definitions: their token is read once, not per row.
    with (
        acting(Channel.IMPORT, current().request_id or None),
        stamps.read_once(now=True),
        _import_connection(),
        fewer_collections(),
    ):
        for batch in _batches(rows, batch_size):
            importer.start_batch(batch)
            links.start_batch(batch)
            # One batch, one moment: its rows share their creation time.
            part = _Part.of(plan, importer, links, placement, actor, timezone.now())
            _import_batch(batch, part, row_number + 1, result, plan, links)
            row_number += len(batch)
            if progress:
                progress(row_number)
    if result.created >= STATISTICS_THRESHOLD:
        _refresh_statistics(plan)
    return result


# The share of a batch's rows a helper process cleans and prepares while this one
# cleans and prepares the rest (docs/benchmarks.md, "Two-process pipeline").
HELPER_SHARE = 0.5


def _helper_rows(count: int) -> int:
    if count < settings.KONTOR_IMPORT_HELPER_MIN_ROWS or not forked.available():
        return 0
    return int(count * HELPER_SHARE)


def _import_batch(batch: list[dict], part, first_row: int, result: ImportResult, plan, links):
    """Clean, prepare and write a batch in one transaction, its last rows cleaned by a
    forked helper if one is worth it (``kontor.core.forked``): the same function on
    the same lookups, so the same rows, errors and bytes as without one. Where the helper
    gives no answer this process cleans its rows too, after its own, as it would alone."""
    mine = len(batch) - _helper_rows(len(batch))
    helper = None
    if mine < len(batch):
        helper = forked.Forked(lambda: part(batch[mine:], first_row=first_row + mine))
    try:
        head = part(batch[:mine], first_row=first_row)
        # The helper's answer before anything is written: every page this process
        # changes while the helper lives is copied for the helper (copy on write), and
        # writing changes SQLite's page cache (at 1,000,000 people a helper kept 168 MB).
        tail = helper.result() if helper is not None else None
        if helper is not None and tail is None:
            tail = part(batch[mine:], first_row=first_row + mine)
        with transaction.atomic():
            result.add(head, plan, links)
            if tail is not None:
                result.add(tail, plan, links)
    finally:
        if helper is not None:
            helper.close()


@dataclass
class _Part:
    """Rows of a batch cleaned and prepared, in plain values: their errors and what
    writing the others takes (their rows, and for their timeline links the link keys
    and the placement each copies). ``_Part.of`` makes the function that makes one,
    given the batch's lookups; it reads the database only where a row needs more (a
    new tag, a placement not asked about yet)."""

    errors: list[RowError]
    prepared: _Prepared | None
    subjects: list[dict]
    placements: list[tuple]

    @staticmethod
    def of(plan: _Plan, importer: Importer, links, placement, actor, now) -> Callable:
        def part(rows: list[dict], *, first_row: int) -> _Part:
            errors, cleaned, subjects = [], [], []
            for row_number, data in enumerate(rows, start=first_row):
                row_subjects = links.clean(data)
                record = _clean_row(plan, importer, placement, data, actor)
                if isinstance(row_subjects, FieldErrors) and not isinstance(record, FieldErrors):
                    record = row_subjects
                elif isinstance(row_subjects, FieldErrors):
                    record.by_field.update(row_subjects.by_field)
                if isinstance(record, FieldErrors):
                    errors += [
                        RowError(row_number, name, message)
                        for name, messages in record.by_field.items()
                        for message in messages
                    ]
                else:
                    cleaned.append(record)
                    subjects.append(row_subjects)
            prepared = _prepare(plan, cleaned, actor, now) if cleaned else None
            # After preparing: it gives the records their creation time, which a timeline
            # link may copy as its moment.
            placements = [links.placement(obj) for obj, _ in cleaned] if links.active else []
            return _Part(errors, prepared, subjects, placements)

        return part

    def write(self, plan: _Plan, links) -> list[int]:
        """Insert the part's records (in their own transaction, or the caller's); their ids."""
        if self.prepared is None:
            return []
        return _write(
            plan,
            self.prepared,
            then=lambda ids: links.write(self.placements, ids, self.subjects),
        )


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _clean_row(plan: _Plan, importer: Importer, placement, data: dict, actor):
    """The unsaved record and its related items, or the row's errors (``FieldErrors``).

    The single-record path's steps and functions, in its order: the type's cleaning,
    the placement given then defaulted, the permission to create it there, whether the
    owner and department named exist, the type's own rules, the model's validation.
    """
    obj = plan.blank()
    errors = FieldErrors()
    related = importer.clean(obj, data, errors)
    changed = records.place(obj, data, errors)
    records.default_placement(obj, actor)
    if not plan.may_create(actor, obj):
        # Unlike the single path (403 for the whole request), one row out of scope
        # must not stop the rest of a file.
        errors.add("department_id", _("You may not create records for this owner or department."))
        return errors
    records.require_known_placement(obj, changed, Action.CREATE, actor, errors, choices=placement)
    importer.check(obj, related, errors)
    # As a single write: validation only for input that passed the service's own checks.
    if errors.by_field:
        return errors
    records.compute_formulas(obj)
    for name, messages in plan.validator.errors(obj).items():
        for message in messages:
            errors.add(name, message)
    if errors.by_field:
        return errors
    # Last: only a row that will be written counts towards what it creates.
    importer.accept(obj, related, errors)
    if errors.by_field:
        return errors
    return obj, related


# SQLite, for the importing connection only (restored afterwards): a page cache that
# holds a batch's pages (a batch of people touches every index and the search index),
# and a checkpoint every 400 MB of WAL instead of every 4 MB. A checkpoint copies the
# pages a batch changed back into the database file; at a million people most batches
# change the same index pages again, and checkpointing after each one was a third of
# the time spent writing. What is left in the WAL is checkpointed at the end.
IMPORT_CACHE_KIB = 256 * 1024
IMPORT_WAL_AUTOCHECKPOINT_PAGES = 100_000


@contextmanager
def _import_connection():
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        autocheckpoint = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {IMPORT_WAL_AUTOCHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


# The cyclic garbage collector's youngest generation is collected every 700 new
# objects; a batch holds hundreds of thousands (records, child rows, row lists), and
# every collection walked the survivors again: a quarter of the preparing time. The
# rows form no cycles (reference counting frees them), so an import raises the
# threshold; the collector still runs. Process-wide, so counted: the last import to
# finish restores it.
IMPORT_GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_imports = 0
_gc_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections():
    global _gc_imports, _gc_saved
    with _gc_lock:
        if _gc_imports == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(_gc_saved[0], IMPORT_GC_THRESHOLD), *_gc_saved[1:])
        _gc_imports += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_imports -= 1
            if _gc_imports == 0:
                gc.set_threshold(*_gc_saved)


# Fewer new rows than this do not change the tables' shape enough to re-plan queries.
STATISTICS_THRESHOLD = 1000


def _refresh_statistics(plan: _Plan) -> None:
    """Let the query planner know the tables grew.

    Without statistics SQLite answers "page 1 of my scope, by name" by collecting every
    row of the scope and sorting it (a MULTI-INDEX OR plan: 650 ms at a million people)
    instead of walking the name index (3 ms). A sampled ANALYZE (analysis_limit) is not
    enough: it guessed a thousand rows per department where there were a hundred
    thousand, and kept the slow plan. A full one takes about 0.5 s per million rows.

    Only the record's own table: child tables are read by their foreign key, which the
    planner's defaults get right, while statistics would tell it that, say, addresses
    have mostly a NULL ``person_id`` (they belong to companies) and make it scan all
    addresses to find one person's (8 ms at 100,000 addresses). PostgreSQL weighs NULLs
    right and samples: there the tables lookups and search read (the importer's
    ``analyzed``, the search documents) are analyzed too, or they run on default
    estimates until autovacuum comes (at 100,000 people, phone lookup 4 ms instead of
    0.8, search 53 instead of 16).
    """
    models_to_analyze = [plan.model]
    if connection.vendor == "postgresql":
        models_to_analyze += plan.analyzed
        if plan.documents is not None:
            models_to_analyze.append(SearchDocument)
    with transaction.atomic(), connection.cursor() as cursor:
        for analyzed in models_to_analyze:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(analyzed._meta.db_table)}")


_NOTHING = object()
_IMMUTABLE = (bool, int, float, str, bytes, decimal.Decimal, datetime.date, datetime.datetime)


class _Validator:
    """What ``full_clean`` says of a record the bulk cleaner has built, for less.

    Most values of a cleaned row are strings within their length, dates, or the
    model's defaults; for those a type and length test reaches ``full_clean``'s
    verdict (nothing to report, nothing converted). A value that passes no such test
    (too long, blank where required, a URL, a number, text the database cannot store)
    sends the record through the single-record path's validation
    (``records.field_errors``), so every message a row gets is that path's own. Models
    with their own ``clean()`` or constraints always go through it.
    """

    def __init__(self, model, exclude: list[str]):
        self.exclude = exclude
        own_rules = model.clean is not models.Model.clean or any(
            m._meta.constraints for m in (model, *model._meta.get_parent_list())
        )
        self.checks = (
            None
            if own_rules
            else [
                (operator.attrgetter(f.attname), self._check(f))
                for f in model._meta.fields
                if f.name not in exclude
            ]
        )

    @staticmethod
    def _check(field) -> Callable[[object, object], bool]:
        """A test that ``field`` would accept ``value`` as it is (False: ask full_clean)."""
        kind = type(field)
        blank, empty = field.blank, field.empty_values
        plain = field.choices is None and all(
            type(v) is MaxLengthValidator for v in field.validators
        )
        if plain and kind in (models.CharField, models.TextField):
            limit = field.max_length

            def text(value, obj):
                if type(value) is not str:
                    return False
                if not value:
                    return blank
                return (limit is None or len(value) <= limit) and text_problem(value) is None

            return text
        if plain and kind in (models.DateField, models.DateTimeField):
            wanted = datetime.date if kind is models.DateField else datetime.datetime

            def date(value, obj):
                return type(value) is wanted or (value is None and blank)

            return date

        # The last value accepted: most rows leave such a column at its default (a
        # record's version). Kept for plain values only; a link's check reads the database.
        accepted = [] if field.is_relation else [_NOTHING]

        def other(value, obj):
            if blank and value in empty:
                return True
            if accepted and type(value) is type(accepted[0]) and value == accepted[0]:
                return True
            try:
                cleaned = field.clean(value, obj)
            except DjangoValidationError:
                return False
            if type(value) is str and text_problem(value) is not None:
                return False
            fits = type(cleaned) is type(value) and cleaned == value
            if fits and accepted and type(value) in _IMMUTABLE:
                accepted[0] = value
            return fits

        return other

    def errors(self, obj) -> dict[str, list[str]]:
        if self.checks is not None and all(check(get(obj), obj) for get, check in self.checks):
            return {}
        return records.field_errors(obj, exclude=self.exclude, validate_unique=False)


def _prime_related(obj, name: str, items: list) -> None:
    """Make ``obj.<name>.all()`` answer from ``items``, as a prefetch would, without a query."""
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = items


def prime_lists(objs: list, names: Iterable[str]) -> None:
    """Read these records' lists (reverse foreign keys, many-to-many fields) with one
    query per list and prime them on each record, as ``prefetch_related`` would: it
    builds a queryset per record and list, which was half of a bulk delete's time."""
    if not objs:
        return
    model = type(objs[0])
    ids = [obj.pk for obj in objs]
    for name in names:
        relation = model._meta.get_field(name)
        found: dict[int, list] = {pk: [] for pk in ids}
        if relation.many_to_many:
            through = relation.remote_field.through
            parent = through._meta.get_field(relation.m2m_field_name()).attname
            target = relation.m2m_reverse_field_name()
            links = through.objects.filter(**{f"{parent}__in": ids}).select_related(target)
            for link in links.order_by("pk"):
                found[getattr(link, parent)].append(getattr(link, target))
        else:
            parent = relation.field.attname
            children = relation.related_model._default_manager.filter(**{f"{parent}__in": ids})
            for child in children:
                found[getattr(child, parent)].append(child)
        for obj in objs:
            _prime_related(obj, name, found[obj.pk])


def _reserve_ids(model, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken inside the writing transaction.

    Knowing the ids before the insert lets one ``executemany`` write the rows and their
    children refer to them; Django's ``bulk_create`` builds each row's SQL through the
    expression compiler, which cost more than half of the import's time.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction (BEGIN IMMEDIATE) holds the write lock, so nobody
        # else takes these ids; sqlite_sequence keeps ids of deleted rows unused.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX({connection.ops.quote_name(model._meta.pk.column)}) "
            f"FROM {connection.ops.quote_name(table)}), 0), "
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        first = cursor.fetchone()[0] + 1
    return list(range(first, first + count))


# Bound parameters per INSERT, well inside SQLite's (32,766) and PostgreSQL's (65,535) limits.
_PARAMETERS_PER_STATEMENT = 3_000

# Column types whose Python values (str, int, None) SQLite and psycopg take as they are;
# every other column goes through the field's own get_db_prep_save.
_PASS_THROUGH = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "TextField",
}


def _last_value_memo(convert):
    """``convert``, remembering its last result: a batch shares one timestamp."""
    memo = [object(), None]

    def converted(value):
        if value is not memo[0]:
            memo[0], memo[1] = value, convert(value)
        return memo[1]

    return converted


def _db_value(field, db) -> Callable:
    """``field.get_db_prep_save`` as a function of the value. A JSON column off
    PostgreSQL is what Django would store, ``json.dumps`` with the field's encoder, without
    the field's dispatch around it (an import encodes every audit entry's changes)."""
    if field.get_internal_type() == "JSONField" and db.vendor != "postgresql":
        encode = json.JSONEncoder().encode if field.encoder is None else field.encoder().encode

        def encoded(value):
            if value is None:
                return None
            if type(value) is dict and not value:  # a record without custom values
                return "{}"
            return encode(value)

        return encoded
    return lambda value: field.get_db_prep_save(value, db)


class _Table:
    """One table's INSERT, and its rows as plain lists in column order.

    Values are converted as Django saves them (each field's ``get_db_prep_save``; plain
    strings and integers as they are). Rows are built before the write transaction;
    the keys only known inside it (the record's id, a child's parent id) are slots
    filled there.
    """

    def __init__(self, model, *, with_pk: bool):
        db = connections[DEFAULT_DB_ALIAS]
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.slot = {f.attname: i for i, f in enumerate(fields)}
        self._get = operator.attrgetter(*(f.attname for f in fields))
        self.converters = [
            (i, _last_value_memo(_db_value(f, db)))
            for i, f in enumerate(fields)
            if f.get_internal_type() not in _PASS_THROUGH
        ]
        self._converter = {fields[i].attname: c for i, c in self.converters}
        quote = db.ops.quote_name
        self._sql_head = "INSERT INTO {} ({}) VALUES ".format(
            quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
        )
        self._row_placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        self.width = len(fields)
        self.rows_per_statement = max(1, _PARAMETERS_PER_STATEMENT // self.width)
        self._full_statement = self._statement(self.rows_per_statement)

    def row(self, obj) -> list:
        """The row of a model instance."""
        row = list(self._get(obj))
        for i, convert in self.converters:
            row[i] = convert(row[i])
        return row

    def template(self, **values) -> list:
        """A row from column values; the rest are None (slots to fill)."""
        return self.row_of(values)

    def row_of(self, values: dict) -> list:
        """``template``, given the values as a dict."""
        row = [None] * self.width
        slot, converter = self.slot, self._converter
        for name, value in values.items():
            convert = converter.get(name)
            row[slot[name]] = value if convert is None else convert(value)
        return row

    def convert(self, name: str, value):
        convert = self._converter.get(name)
        return value if convert is None else convert(value)

    def _statement(self, row_count: int) -> str:
        return self._sql_head + ", ".join([self._row_placeholders] * row_count)

    def insert(self, rows: list) -> None:
        """Write ``rows``, many per INSERT statement.

        Row by row, each statement costs the search index a savepoint of its own: a
        search document written under the FTS5 trigger took 90-110 µs, a thousand per
        statement ~30 (docs/benchmarks.md).
        """
        step = self.rows_per_statement
        with connection.cursor() as cursor:
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                sql = self._full_statement if len(chunk) == step else self._statement(len(chunk))
                cursor.execute(sql, [value for row in chunk for value in row])


def insert(model, rows: Iterable[dict]) -> None:
    """Rows given as their column values (all but the id), written as an import writes
    its own tables: many per INSERT, no model instances (what an import writes beside
    its records: timeline links)."""
    table = _Table(model, with_pk=False)
    table.insert([table.row_of(row) for row in rows])


class _Plan:
    """What an import of a type computes once: its tables, validator, related lists."""

    def __init__(self, record_type, importer: Importer):
        model = record_type.model
        self.model = model
        self.object_type = record_type.object_type
        self.table = _Table(model, with_pk=True)
        self.pk_slot = self.table.slot[model._meta.pk.attname]
        # (name, table, slot of the record's id, slot of the target's id or None): one
        # per related list; a reverse foreign key's rows are its instances, a
        # many-to-many's are links to the targets.
        self.related = []
        self.analyzed = []
        for name in importer.related:
            relation = model._meta.get_field(name)
            if relation.many_to_many:
                through = relation.remote_field.through
                table = _Table(through, with_pk=False)
                parent = through._meta.get_field(relation.m2m_field_name()).attname
                target = table.slot[
                    through._meta.get_field(relation.m2m_reverse_field_name()).attname
                ]
            else:
                table = _Table(relation.related_model, with_pk=False)
                parent, target = relation.field.attname, None
                if name in importer.analyzed:
                    self.analyzed.append(relation.related_model)
            self.related.append((name, table, table.slot[parent], target))
        self.documents = None
        if search.is_registered(model):
            self.documents = _Table(SearchDocument, with_pk=True)
            self.document_slots = tuple(
                self.documents.slot[name] for name in ("id", "object_id", "body")
            )
        self.entries = _Table(AuditEntry, with_pk=False)
        self.entry_slots = tuple(
            self.entries.slot[name] for name in ("object_id", "object_repr", "changes")
        )
        # Placement is checked against the import's lookups (records.PlacementChoices);
        # a link the record sets itself (a custom record's definition) is no input.
        own_links = [f.name for f in model._meta.fields if f.is_relation and not f.editable]
        self.validator = _Validator(
            model, ["owner", "department", *importer.checked_elsewhere, *own_links]
        )
        self.blank = Blank(model)
        self._may_create: dict[tuple, bool] = {}

    def may_create(self, actor, obj) -> bool:
        """``records.require_create`` for a new record, asked once per placement: for one
        actor and type its answer depends on the owner and department alone."""
        placement = (
            getattr(obj, obj.access_owner_field) if obj.access_owner_field else None,
            getattr(obj, obj.access_department_field) if obj.access_department_field else None,
        )
        allowed = self._may_create.get(placement)
        if allowed is None:
            try:
                records.require_create(actor, obj)
                allowed = True
            except PermissionDenied:
                allowed = False
            self._may_create[placement] = allowed
        return allowed


class Blank:
    """New instances of a model as ``model(**values)`` makes them, for a fraction of the
    cost (``values``: plain fields by attribute name).

    ``Model.__init__`` asks every field for its default (a person has 30, each child row
    two foreign keys whose defaults are costly); here the constant defaults are copied
    from one instance made once, and only the callable ones (a dict, the current time)
    are called per instance. A model with its own ``__init__`` or init signals, or a
    value that is no plain field, is made as usual.
    """

    def __init__(self, model):
        self.model = model

    @cached_property
    def _prototype(self) -> tuple[dict, list, frozenset] | None:
        model = self.model
        if (
            model.__init__ is not models.Model.__init__
            or signals.pre_init.has_listeners(model)
            or signals.post_init.has_listeners(model)
        ):
            return None
        made = model()
        constant = {k: v for k, v in made.__dict__.items() if k != "_state"}
        fresh = [
            (f.attname, f.get_default)
            for f in model._meta.concrete_fields
            if f.has_default() and callable(f.default)
        ]
        plain = frozenset(f.attname for f in model._meta.concrete_fields if not f.is_relation)
        return constant, fresh, plain

    def __call__(self, **values):
        prototype = self._prototype
        if prototype is None or not values.keys() <= prototype[2]:
            return self.model(**values)
        constant, fresh, _plain = prototype
        obj = self.model.__new__(self.model)
        obj._state = models.base.ModelState()
        state = obj.__dict__
        state.update(constant)
        for attname, default in fresh:
            state[attname] = default()
        state.update(values)
        return obj


@dataclass
class _Prepared:
    """A batch ready to insert: every value but the keys taken under the write lock.

    Where a parent's id belongs (record rows, related rows, search documents, audit
    entries), the row holds the parent's index in the batch until then.
    """

    records: list
    related: list  # per plan.related: its rows
    documents: list
    entries: list


def _prepare(plan: _Plan, cleaned: list, actor, now) -> _Prepared:
    """Search bodies, audit entries and related rows of a batch, computed before the
    transaction so that the write lock (one writer at a time on SQLite) is held only
    for the inserts. The rows are plain values, ``now`` their creation time."""
    object_type = plan.object_type
    entry = plan.entries.template(
        at=now, **audit.entry_columns(f"{object_type}.created", object_type, actor=actor)
    )
    _entry_id, entry_repr, entry_changes = plan.entry_slots
    if plan.documents is not None:
        document = plan.documents.template(object_type=object_type)
        doc_body = plan.document_slots[2]
    prepared = _Prepared([], [[] for _ in plan.related], [], [])
    for index, (obj, related) in enumerate(cleaned):
        obj.created_at = obj.updated_at = now
        for (name, table, parent, target), rows in zip(plan.related, prepared.related, strict=True):
            items = related.get(name, [])
            _prime_related(obj, name, items)
            if target is None:
                for child in items:
                    row = table.row(child)
                    row[parent] = index
                    rows.append(row)
            else:
                for item in items:
                    row = [None] * table.width
                    row[parent] = index
                    row[target] = item.pk
                    rows.append(row)
        prepared.records.append(plan.table.row(obj))
        if plan.documents is not None:
            row = document.copy()
            row[doc_body] = search.document_body(obj)
            prepared.documents.append(row)
        changes = records.created_changes(obj)
        row = entry.copy()
        row[entry_repr] = audit.object_repr(obj)
        row[entry_changes] = plan.entries.convert("changes", changes)
        prepared.entries.append(row)
    return prepared


def _write(plan: _Plan, prepared: _Prepared, then: Callable[[list[int]], None]) -> list[int]:
    """Insert a prepared batch in one transaction; returns the new records' ids.

    ``then(ids)`` writes what else goes with the records, in their transaction."""
    with transaction.atomic():
        ids = _reserve_ids(plan.model, len(prepared.records))
        for row, pk in zip(prepared.records, ids, strict=True):
            row[plan.pk_slot] = pk
        plan.table.insert(prepared.records)
        for (_name, table, parent, _target), rows in zip(
            plan.related, prepared.related, strict=True
        ):
            for row in rows:
                row[parent] = ids[row[parent]]
            table.insert(rows)
        if plan.documents is not None:
            doc_id, doc_record = plan.document_slots[:2]
            first = search.document_id(plan.object_type, 0)
            for row, pk in zip(prepared.documents, ids, strict=True):
                row[doc_id] = first | pk
                row[doc_record] = pk
            plan.documents.insert(prepared.documents)
        entry_id = plan.entry_slots[0]
        for row, pk in zip(prepared.entries, ids, strict=True):
            row[entry_id] = pk
        plan.entries.insert(prepared.entries)
        # The batch's events, in its transaction (the outbox delivers them after commit),
        # built by the database from the audit entries just written.
        events.emit_audited(f"{plan.object_type}.created", plan.object_type, ids)
        then(ids)
    return ids
