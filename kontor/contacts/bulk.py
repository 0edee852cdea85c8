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

import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils.translation import gettext as _

from kontor.accounts.models import Department
from kontor.core import audit, events, search
from kontor.core import services as records
from kontor.core.access import Action, may, object_type_of, record_in_scope
from kontor.core.context import Channel, acting, current
from kontor.core.errors import PermissionDenied
from kontor.core.models import AuditEntry, SearchDocument

from . import services
from .models import Address, Company, Email, FamilyMember, ImportantDate, Person, Phone, Tag

DEFAULT_BATCH_SIZE = 2000

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
    lookups = _Lookups(actor)
    row_number = 0
    # An import is the import channel whoever starts it; a request's id is kept.
    with acting(Channel.IMPORT, current().request_id or None):
        for batch in _batches(rows, batch_size):
            cleaned = []
            companies = lookups.visible_companies(batch) if model is Person else {}
            for data in batch:
                row_number += 1
                record = _clean_row(model, fields, data, actor, lookups, companies)
                if isinstance(record, services._Errors):
                    result.errors += [
                        RowError(row_number, name, message)
                        for name, messages in record.by_field.items()
                        for message in messages
                    ]
                else:
                    cleaned.append(record)
            if cleaned:
                _write(model, _prepare(model, cleaned, actor, lookups), actor)
                result.ids += [obj.pk for obj, _children in cleaned]
                result.created += len(cleaned)
            if progress:
                progress(row_number)
    if result.created >= STATISTICS_THRESHOLD:
        _refresh_statistics(model)
    return result


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
    addresses to find one person's (8 ms at 100,000 addresses).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _Lookups:
    """What the single-record path asks the database per row, asked once per import."""

    def __init__(self, actor):
        self.actor = actor
        self.user_ids = set(
            get_user_model().objects.filter(is_active=True).values_list("pk", flat=True)
        )
        self.department_ids = set(Department.objects.values_list("pk", flat=True))
        self.tags = dict(Tag.objects.values_list("name", "pk"))

    def visible_companies(self, batch: list[dict]) -> dict[int, Company]:
        """The batch's employer companies the actor can see (an unseen one cannot be linked)."""
        wanted = set()
        for data in batch:
            try:
                wanted.add(int(data.get("company_id") or 0))
            except (TypeError, ValueError):
                continue
        wanted.discard(0)
        if not wanted:
            return {}
        found = Company.objects.visible_to(self.actor).filter(pk__in=wanted).only("id", "name")
        return {c.pk: c for c in found}

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


def _clean_row(model, fields, data: dict, actor, lookups: _Lookups, companies: dict):
    """The unsaved record and its child rows, or the row's errors (``services._Errors``)."""
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
    for key, known, message in (
        ("owner_id", lookups.user_ids, _("Unknown user.")),
        ("department_id", lookups.department_ids, _("Unknown department.")),
    ):
        if data.get(key) not in (None, ""):
            pk = _as_id(data[key])
            if pk not in known:
                errors.add(key, message)
            else:
                setattr(obj, key, pk)
    if model is Person and data.get("company_id") not in (None, ""):
        company = companies.get(_as_id(data["company_id"]))
        if company is None:
            errors.add("company_id", _("Unknown company."))
        else:
            obj.company = company
    children = {
        "phones": services._clean_phones(data.get("phones"), errors),
        "emails": services._clean_emails(data.get("emails"), errors),
        "addresses": services._clean_addresses(data.get("addresses"), errors),
        "tags": services._clean_tags(data.get("tags")),
    }
    if model is Person:
        children["family"] = services._clean_family(data.get("family"), errors)
        children["important_dates"] = services._clean_important_dates(
            data.get("important_dates"), errors
        )
    services._default_placement(obj, actor)
    if not record_in_scope(actor, obj, Action.CREATE):
        # Unlike the single path (403 for the whole request), one row out of scope
        # must not stop the rest of a file.
        errors.add("department_id", _("You may not create records for this owner or department."))
        return errors
    services._require_name(obj, errors)
    try:
        obj.full_clean(exclude=_CHECKED_ELSEWHERE, validate_unique=False)
    except DjangoValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                errors.add(name, message)
    if errors.by_field:
        return errors
    return obj, children


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


def _insert(model, objs: list, *, with_pk: bool) -> None:
    """INSERT ``objs`` with one executemany; values converted as Django saves them."""
    if not objs:
        return
    # The connection itself, not the ``connection`` proxy: a value conversion reads it
    # per cell, and the proxy's attribute lookup was measurable at a million rows.
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    converters = [
        None
        if f.get_internal_type() in _PASS_THROUGH
        else (lambda value, f=f: f.get_db_prep_save(value, db))
        for f in fields
    ]
    getters = [operator.attrgetter(f.attname) for f in fields]
    pairs = list(zip(getters, converters, strict=True))
    quote = db.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    rows = [
        [get(obj) if convert is None else convert(get(obj)) for get, convert in pairs]
        for obj in objs
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)


@dataclass
class _Prepared:
    """A batch ready to insert: everything but the primary keys is computed."""

    objs: list
    children: dict  # child model -> rows (their parent set, its key not yet known)
    tag_links: list  # (parent, tag id)
    documents: list
    entries: list


# The tags manager refuses an instance without a primary key even when it only reads
# its primed cache; this stands in until the real keys are taken under the write lock.
_PROVISIONAL_PK = 0


def _prepare(model, cleaned: list, actor, lookups: _Lookups) -> _Prepared:
    """Search bodies, audit entries and child rows of a batch, computed before the
    transaction so that the write lock (one writer at a time on SQLite) is held only
    for the inserts."""
    owner_key = "person" if model is Person else "company"
    object_type = object_type_of(model)
    ctx = current()
    actor_id = getattr(actor, "pk", None)
    actor_label = actor.get_username()
    prepared = _Prepared([], {m: [] for _n, m in _CHILDREN[model]}, [], [], [])
    for obj, children in cleaned:
        obj.pk = _PROVISIONAL_PK
        for name, child_model in _CHILDREN[model]:
            for child in children[name]:
                setattr(child, owner_key, obj)
            prepared.children[child_model] += children[name]
            _prime_related(obj, name, children[name])
        tag_ids = lookups.tag_ids(children["tags"])
        prepared.tag_links += [(obj, t) for t in tag_ids]
        _prime_related(
            obj,
            "tags",
            [Tag(pk=t, name=n) for t, n in zip(tag_ids, children["tags"], strict=True)],
        )
        prepared.objs.append(obj)
        prepared.documents.append(
            SearchDocument(object_type=object_type, body=search.document_body(obj))
        )
        # As create_record logs it: only what was filled in.
        filled = {k: v for k, v in records.snapshot(obj).items() if v not in (None, "", [], {})}
        prepared.entries.append(
            AuditEntry(
                actor_id=actor_id,
                actor_label=actor_label,
                channel=ctx.channel,
                request_id=ctx.request_id,
                action=f"{object_type}.created",
                object_type=object_type,
                object_repr=str(obj)[:255],
                changes=audit.diff({}, filled),
            )
        )
    return prepared


def _write(model, prepared: _Prepared, actor) -> None:
    owner_key = "person" if model is Person else "company"
    through = model.tags.through
    with transaction.atomic():
        ids = _reserve_ids(model, len(prepared.objs))
        for obj, pk, document, entry in zip(
            prepared.objs, ids, prepared.documents, prepared.entries, strict=True
        ):
            obj.pk = document.object_id = entry.object_id = pk
        _insert(model, prepared.objs, with_pk=True)
        for child_model, rows in prepared.children.items():
            for row in rows:
                setattr(row, f"{owner_key}_id", getattr(row, owner_key).pk)
            _insert(child_model, rows, with_pk=False)
        _insert(
            through,
            [through(**{f"{owner_key}_id": obj.pk, "tag_id": t}) for obj, t in prepared.tag_links],
            with_pk=False,
        )
        _insert(SearchDocument, prepared.documents, with_pk=False)
        _insert(AuditEntry, prepared.entries, with_pk=False)
        actor_id = getattr(actor, "pk", None)
        for entry in prepared.entries:
            # Payload as in kontor.core.services: fires after the batch commits.
            events.emit(
                entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                actor_id=actor_id,
                changes=entry.changes,
            )
