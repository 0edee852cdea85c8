"""Bulk import of people and companies: thousands of rows per transaction.

The same rules as ``services.create_person`` / ``create_company`` (same input keys, same
cleaning of phones, emails, dates; same permission check; same search body; one audit
entry and one ``*.created`` event per record), written with one ``executemany`` per table
and batch so that the demo company, the 1,000,000-row benchmark and the spreadsheet
importer load in minutes, not hours. A row with any error is reported and skipped
whole; the others are written.

The per-row database lookups of the single-record path (does this owner, department,
company exist and may the actor see it) are answered here from one query per batch.
"""

from __future__ import annotations

import datetime
import gc
import operator
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.accounts.models import Department
from kontor.core import audit, events, search
from kontor.core import services as records
from kontor.core.access import (
    Action,
    may,
    object_type_of,
    placement_owners_q,
    require_placement,
)
from kontor.core.context import Channel, acting, current
from kontor.core.errors import PermissionDenied
from kontor.core.models import AuditEntry, SearchDocument
from kontor.core.services import PLACEMENT_UNKNOWN

from . import services
from .models import Address, Company, Email, FamilyMember, ImportantDate, Person, Phone, Tag

DEFAULT_BATCH_SIZE = 10_000

# Child lists in the order the single-record path saves them; (input key, model).
_CHILDREN = {
    Company: (("phones", Phone), ("emails", Email), ("addresses", Address)),
    Person: (
        ("phones", Phone),
        ("emails", Email),
        ("addresses", Address),
        ("family", FamilyMember),
        ("important_dates", ImportantDate),
    ),
}
# Foreign keys checked against this import's lookups instead of one query per row.
_CHECKED_ELSEWHERE = ["owner", "department", "company"]


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


def import_companies(
    rows: Iterable[dict],
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create a company per row (keys as for ``services.create_company``)."""
    return _import(Company, services.COMPANY_FIELDS, rows, actor, batch_size, progress)


def import_people(
    rows: Iterable[dict],
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create a person per row (keys as for ``services.create_person``)."""
    return _import(Person, services.PERSON_FIELDS, rows, actor, batch_size, progress)


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _import(model, fields, rows, actor, batch_size, progress) -> ImportResult:
    # Refused outright, before any row is read: the actor learns nothing from row errors.
    if not may(actor, object_type_of(model), Action.CREATE):
        raise PermissionDenied()
    result = ImportResult()
    lookups = _Lookups(actor, model)
    plan = _Plan(model)
    row_number = 0
    # An import is the import channel whoever starts it; a request's id is kept.
    with (
        acting(Channel.IMPORT, current().request_id or None),
        _import_connection(),
        _fewer_collections(),
    ):
        for batch in _batches(rows, batch_size):
            cleaned = []
            lookups.refresh_tags()
            companies = lookups.visible_companies(batch) if model is Person else {}
            for data in batch:
                row_number += 1
                record = _clean_row(plan, fields, data, actor, lookups, companies)
                if isinstance(record, services._Errors):
                    result.errors += [
                        RowError(row_number, name, message)
                        for name, messages in record.by_field.items()
                        for message in messages
                    ]
                else:
                    cleaned.append(record)
            if cleaned:
                result.ids += _write(plan, _prepare(plan, cleaned, actor, lookups))
                result.created += len(cleaned)
            if progress:
                progress(row_number)
    if result.created >= STATISTICS_THRESHOLD:
        _refresh_statistics(model)
    return result


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
def _fewer_collections():
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


def _refresh_statistics(model) -> None:
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
    right and samples: there the tables phone lookup and search read are analyzed too,
    or they run on default estimates until autovacuum comes (at 100,000 people, phone
    lookup 4 ms instead of 0.8, search 53 instead of 16).
    """
    models_to_analyze = [model]
    if connection.vendor == "postgresql":
        models_to_analyze += [Phone, Email, SearchDocument]
    with transaction.atomic(), connection.cursor() as cursor:
        for analyzed in models_to_analyze:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(analyzed._meta.db_table)}")


class _Lookups:
    """What the single-record path asks the database per row, asked once per import."""

    def __init__(self, actor, model):
        self.actor = actor
        # Only the owners the actor may choose: any other id is unknown, whether it
        # names nobody or someone out of reach (departments are scope-checked first).
        owners = placement_owners_q(actor, object_type_of(model), Action.CREATE)
        self.user_ids = (
            set()
            if owners is None
            else set(
                get_user_model().objects.filter(owners, is_active=True).values_list("pk", flat=True)
            )
        )
        self.department_ids = set(Department.objects.values_list("pk", flat=True))
        self.tags: dict[str, int] = {}
        self.tags_to_create: set[str] = set()
        self._employers: dict[int, Company] = {}

    def refresh_tags(self) -> None:
        """Read the install's tags (at most ``MAX_TAGS``) once per batch: the rows' tag
        names are looked up in it, and its size is the count the tag bounds start from."""
        self.tags = dict(Tag.objects.values_list("name", "pk"))
        self.tags_to_create = set()

    def check_new_tags(self, names: list[str], errors: services._Errors) -> None:
        """The single path's tag bounds for one row: at most ``MAX_NEW_TAGS_PER_WRITE``
        new tags, and the install's cap counting the tags earlier rows will create."""
        new = {n for n in names if n not in self.tags and n not in self.tags_to_create}
        if new:
            planned = len(self.tags) + len(self.tags_to_create)
            services._bound_new_tags(len(new), planned, errors)
            if not errors.by_field:
                self.tags_to_create |= new

    def visible_companies(self, batch: list[dict]) -> dict[int, Company]:
        """The batch's employer companies the actor can see (an unseen one cannot be linked)."""
        wanted = {_as_id(data.get("company_id")) for data in batch} - {None, 0}
        if not wanted:
            return {}
        found = Company.objects.visible_to(self.actor).filter(pk__in=wanted)
        # Id and name are all a person's row needs of its employer (its company_name).
        # Visibility is asked per batch; the instances are kept for the next batches
        # (an employer has many people), and rebuilt if the name changed meanwhile.
        visible = {}
        for pk, name in found.values_list("id", "name"):
            company = self._employers.get(pk)
            if company is None or company.name != name:
                company = Company.from_db(connection.alias, services._EMPLOYER_FIELDS, (pk, name))
                self._employers[pk] = company
            visible[pk] = company
        return visible

    def tag_ids(self, names: list[str]) -> list[int]:
        missing = [n for n in names if n not in self.tags]
        for name in missing:
            self.tags[name] = Tag.objects.get_or_create(name=name)[0].pk
        return [self.tags[n] for n in names]


def _as_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clean_row(plan: _Plan, fields, data: dict, actor, lookups: _Lookups, companies: dict):
    """The unsaved record and its child rows, or the row's errors (``services._Errors``)."""
    model = plan.model
    obj = model()
    errors = services._Errors()
    for name in fields:
        if name in data:
            value = data[name]
            if name == "birthday":
                value = services._date(value, name, errors)
            else:
                value = services._text(value)
            setattr(obj, name, value)
    # As the single path: ids placed as given, checked for scope, then for existence.
    placed = {}
    for key in ("owner_id", "department_id"):
        if data.get(key) not in (None, ""):
            pk = _as_id(data[key])
            if pk is None:
                errors.add(key, str(PLACEMENT_UNKNOWN[key]))
            else:
                setattr(obj, key, pk)
                placed[key] = pk
    if model is Person and data.get("company_id") not in (None, ""):
        company = companies.get(_as_id(data["company_id"]))
        if company is None:
            errors.add("company_id", _("Unknown company."))
        else:
            # What ``obj.company = company`` does, without the descriptor's checks (the
            # company was read by this import from this database).
            obj.company_id = company.pk
            obj.company_name = company.name
            plan.employer.set_cached_value(obj, company)
    children = {
        "phones": services._clean_phones(data.get("phones"), errors),
        "emails": services._clean_emails(data.get("emails"), errors),
        "addresses": services._clean_addresses(data.get("addresses"), errors),
        "tags": services._clean_tags(data.get("tags"), errors),
    }
    if model is Person:
        children["family"] = services._clean_family(data.get("family"), errors)
        children["important_dates"] = services._clean_important_dates(
            data.get("important_dates"), errors
        )
    services._default_placement(obj, actor)
    try:
        require_placement(actor, Action.CREATE, obj)
    except PermissionDenied:
        # Unlike the single path (403 for the whole request), one row out of scope
        # must not stop the rest of a file.
        errors.add("department_id", _("You may not create records for this owner or department."))
        return errors
    for key, known in (("owner_id", lookups.user_ids), ("department_id", lookups.department_ids)):
        if key in placed and placed[key] not in known:
            errors.add(key, str(PLACEMENT_UNKNOWN[key]))
    services._require_name(obj, errors)
    for name, messages in plan.validator.errors(obj).items():
        for message in messages:
            errors.add(name, message)
    if errors.by_field:
        return errors
    # Last: only a row that will be written counts towards the tags it creates.
    lookups.check_new_tags(children["tags"], errors)
    if errors.by_field:
        return errors
    return obj, children


class _Validator:
    """What ``full_clean`` says of a record the bulk cleaner has built, for less.

    Most values of a cleaned row are strings within their length, dates, or the
    model's defaults; for those a type and length test reaches ``full_clean``'s
    verdict (nothing to report, nothing converted). A value that passes no such test
    (too long, blank where required, a URL, a number) sends the record through
    ``full_clean`` itself, so every message a row gets is Django's own, as on the
    single-record path. Models with their own ``clean()`` or constraints always go
    through ``full_clean``.
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
                return limit is None or len(value) <= limit

            return text
        if plain and kind in (models.DateField, models.DateTimeField):
            wanted = datetime.date if kind is models.DateField else datetime.datetime

            def date(value, obj):
                return type(value) is wanted or (value is None and blank)

            return date

        def other(value, obj):
            if blank and value in empty:
                return True
            try:
                cleaned = field.clean(value, obj)
            except DjangoValidationError:
                return False
            return type(cleaned) is type(value) and cleaned == value

        return other

    def errors(self, obj) -> dict[str, list[str]]:
        if self.checks is not None and all(check(get(obj), obj) for get, check in self.checks):
            return {}
        try:
            obj.full_clean(exclude=self.exclude, validate_unique=False)
        except DjangoValidationError as exc:
            return exc.message_dict
        return {}


def _prime_related(obj, name: str, items: list) -> None:
    """Make ``obj.<name>.all()`` answer from ``items``, as a prefetch would, without a query."""
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = items


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
            (i, _last_value_memo(lambda value, f=f: f.get_db_prep_save(value, db)))
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
        row = [None] * self.width
        for name, value in values.items():
            convert = self._converter.get(name)
            row[self.slot[name]] = value if convert is None else convert(value)
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


class _Plan:
    """What an import of ``model`` computes once: its tables, validator, links."""

    def __init__(self, model):
        self.model = model
        self.object_type = object_type_of(model)
        self.owner_key = "person" if model is Person else "company"
        self.table = _Table(model, with_pk=True)
        self.pk_slot = self.table.slot[model._meta.pk.attname]
        self.children = []  # (input key, table, slot of the parent id)
        for name, child_model in _CHILDREN[model]:
            child = _Table(child_model, with_pk=False)
            self.children.append((name, child, child.slot[f"{self.owner_key}_id"]))
        self.tags = _Table(model.tags.through, with_pk=False)
        self.tags_parent_slot = self.tags.slot[f"{self.owner_key}_id"]
        self.tags_tag_slot = self.tags.slot["tag_id"]
        self.documents = _Table(SearchDocument, with_pk=False)
        self.document_slots = (self.documents.slot["object_id"], self.documents.slot["body"])
        self.entries = _Table(AuditEntry, with_pk=False)
        self.entry_slots = tuple(
            self.entries.slot[name] for name in ("object_id", "object_repr", "changes")
        )
        self.employer = Person._meta.get_field("company") if model is Person else None
        self.validator = _Validator(model, _CHECKED_ELSEWHERE)


@dataclass
class _Prepared:
    """A batch ready to insert: every value but the keys taken under the write lock.

    Where a parent's id belongs (record rows, child rows, tag links, search documents,
    audit entries), the row holds the parent's index in the batch until then.
    """

    records: list
    children: list  # (table, parent slot, rows)
    tag_links: list
    documents: list
    entries: list


def _prepare(plan: _Plan, cleaned: list, actor, lookups: _Lookups) -> _Prepared:
    """Search bodies, audit entries and child rows of a batch, computed before the
    transaction so that the write lock (one writer at a time on SQLite) is held only
    for the inserts."""
    ctx = current()
    now = timezone.now()
    document = plan.documents.template(object_type=plan.object_type)
    entry = plan.entries.template(
        at=now,
        actor_id=getattr(actor, "pk", None),
        actor_label=actor.get_username(),
        channel=ctx.channel,
        request_id=ctx.request_id,
        action=f"{plan.object_type}.created",
        object_type=plan.object_type,
    )
    doc_body = plan.document_slots[1]
    _entry_id, entry_repr, entry_changes = plan.entry_slots
    prepared = _Prepared([], [(table, slot, []) for _n, table, slot in plan.children], [], [], [])
    for index, (obj, children) in enumerate(cleaned):
        # One batch, one transaction, one moment: the rows share it.
        obj.created_at = obj.updated_at = now
        for (name, table, slot), (_t, _s, rows) in zip(
            plan.children, prepared.children, strict=True
        ):
            items = children[name]
            _prime_related(obj, name, items)
            for child in items:
                row = table.row(child)
                row[slot] = index
                rows.append(row)
        tag_names = children["tags"]
        tag_ids = lookups.tag_ids(tag_names)
        for tag_id in tag_ids:
            link = [None] * plan.tags.width
            link[plan.tags_parent_slot] = index
            link[plan.tags_tag_slot] = tag_id
            prepared.tag_links.append(link)
        _prime_related(
            obj, "tags", [Tag(pk=t, name=n) for t, n in zip(tag_ids, tag_names, strict=True)]
        )
        prepared.records.append(plan.table.row(obj))
        row = document.copy()
        row[doc_body] = search.document_body(obj)
        prepared.documents.append(row)
        # As create_record logs it: only what was filled in.
        filled = {k: v for k, v in records.snapshot(obj).items() if v not in (None, "", [], {})}
        changes = _created_changes(filled)
        row = entry.copy()
        row[entry_repr] = str(obj)[:255]
        row[entry_changes] = plan.entries.convert("changes", changes)
        prepared.entries.append(row)
    return prepared


def _created_changes(filled: dict) -> dict:
    """``audit.diff({}, filled)``, as ``create_record`` logs a new record, for less.

    Every value in ``filled`` is set, so each key changed from None. Most values are
    strings or lists of strings, JSON-safe as they are; the rest go through
    ``audit.json_safe``. (A test holds the two paths' audit rows equal.)
    """
    changes = {}
    for key in sorted(filled):
        value = filled[key]
        if type(value) is list and all(type(item) is str for item in value):
            value = list(value)
        elif type(value) is not str:
            value = audit.json_safe(value)
        changes[key] = [None, value]
    return changes


def _write(plan: _Plan, prepared: _Prepared) -> list[int]:
    """Insert a prepared batch in one transaction; returns the new records' ids."""
    doc_id = plan.document_slots[0]
    entry_id = plan.entry_slots[0]
    with transaction.atomic():
        ids = _reserve_ids(plan.model, len(prepared.records))
        for row, pk in zip(prepared.records, ids, strict=True):
            row[plan.pk_slot] = pk
        plan.table.insert(prepared.records)
        for table, slot, rows in prepared.children:
            for row in rows:
                row[slot] = ids[row[slot]]
            table.insert(rows)
        for row in prepared.tag_links:
            row[plan.tags_parent_slot] = ids[row[plan.tags_parent_slot]]
        plan.tags.insert(prepared.tag_links)
        for row, pk in zip(prepared.documents, ids, strict=True):
            row[doc_id] = pk
        plan.documents.insert(prepared.documents)
        for row, pk in zip(prepared.entries, ids, strict=True):
            row[entry_id] = pk
        plan.entries.insert(prepared.entries)
        # The batch's events, in its transaction (the outbox delivers them after commit),
        # built by the database from the audit entries just written.
        events.emit_audited(f"{plan.object_type}.created", plan.object_type, ids)
    return ids
