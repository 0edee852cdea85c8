"""Global search: one text document per record, prefix and substring matching.

SQLite: an FTS5 table with the trigram tokenizer over ``core_searchdocument.body``
(external content, kept in step by triggers). PostgreSQL: a pg_trgm GIN index on the
same column. Both answer "contains this substring" from an index; the chosen design and
its numbers are in docs/architecture.md and docs/benchmarks.md.

A document's id names its record: the type's ``code`` in the high bits, the record's id
in the low ones (``document_id``). The index's matches of one type are then a range of
ids, and their records' ids are read from the index alone, without a row of the table.

Results are always narrowed by the model's ``visible_to``: a record outside the user's
scope is absent from search, as from every other read. A record's document holds only
its own text; a type may name links (a person's employer) whose documents also answer
for it, read through the linked model's ``visible_to``: a hidden linked record matches
nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.db.models.lookups import In

from . import customfields, modules, phones
from .access import PageColumn, analyzed_rows, sees_all
from .models import SearchDocument

MIN_INDEXED_LENGTH = 3  # the trigram index answers substrings of three characters or more
RECORD_ID_BITS = 40  # a record id below 2**40 (a trillion); codes get the other 23 bits
MAX_CODE = 2 ** (63 - RECORD_ID_BITS) - 1


@dataclass(frozen=True)
class MatchField:
    """One field of a hit that search may explain a match by: "phone +7 916 123-45-67"."""

    field: str  # a stable code for programs: "phone"
    label: str  # for people, translated: "phone", "телефон"
    text: str  # as shown: "+7 916 123-45-67"
    searched: str = ""  # the text the query is looked for in, if not ``text`` ("79161234567")


@dataclass(frozen=True)
class SearchType:
    model: type
    label: str
    ordering: tuple[str, ...]
    # The type's number in its documents' ids (``document_id``): unique, never reused.
    code: int
    # Reads only the record's own columns: a page of hits must stay one query.
    subtitle: Callable[[object], str] | None = None
    # Why a hit matched: the fields of the hit the reader may see, in the order to try.
    # Only what the reader sees: a field of a linked record hidden from them is left out,
    # so a reason never names it. ``prepare_hits(user, queryset)`` loads what they read
    # (prefetches, annotations) for a whole page of hits at once.
    match_fields: Callable[[object], list[MatchField]] | None = None
    prepare_hits: Callable[[object, object], object] | None = None
    # Foreign keys whose record's document also answers for this one ("company").
    links: tuple[str, ...] = ()
    # Related lists ``search_text()`` reads ("phones"): prefetched when many documents
    # are rebuilt at once.
    document_reads: tuple[str, ...] = ()

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower


_registry: dict[str, SearchType] = {}


def register(
    model,
    *,
    label,
    ordering: tuple[str, ...],
    code: int,
    subtitle: Callable[[object], str] | None = None,
    match_fields: Callable[[object], list[MatchField]] | None = None,
    prepare_hits: Callable[[object, object], object] | None = None,
    links: tuple[str, ...] = (),
    document_reads: tuple[str, ...] = (),
) -> None:
    """Make ``model`` searchable; it must define ``search_text()``.

    ``code`` numbers the type in its documents' ids: a built-in type's is fixed in its
    registration, a custom object type's follows its definition's id; a code another
    type holds is refused. ``links`` name foreign keys to searchable models: a record
    also matches a term that its linked record's document contains, if the reader can
    see that record.
    """
    object_type = model._meta.label_lower
    if not 0 < code <= MAX_CODE:
        raise ImproperlyConfigured(f"{object_type}: search code {code} is not in 1..{MAX_CODE}")
    for other in _registry.values():
        if other.code == code and other.object_type != object_type:
            raise ImproperlyConfigured(
                f"{object_type}: search code {code} is {other.object_type}'s already"
            )
    _registry[object_type] = SearchType(
        model, label, ordering, code, subtitle, match_fields, prepare_hits, links, document_reads
    )


def unregister(model) -> None:
    _registry.pop(model._meta.label_lower, None)


def search_type(object_type: str) -> SearchType | None:
    return _registry.get(object_type)


def is_registered(model_or_obj) -> bool:
    return model_or_obj._meta.label_lower in _registry


def registered() -> list[SearchType]:
    return list(_registry.values())


def normalize(text: str) -> str:
    # NUL separates words too: inside an FTS5 phrase it would end the query string.
    return " ".join((text or "").replace("\x00", " ").casefold().split())


def document_body(obj) -> str:
    """The indexed text of ``obj``: its own text and the text of its custom fields that
    every reader may see; the one definition for single writes and bulk imports."""
    text = obj.search_text()
    if getattr(obj, "custom", None):
        text = f"{text} {customfields.search_text(obj)}"
    return normalize(text)


def document_id(object_type: str, pk: int) -> int:
    """The id of the search document of record ``pk`` of ``object_type``."""
    return (_registry[object_type].code << RECORD_ID_BITS) | pk


def _write_document(object_type: str, pk: int, body: str) -> None:
    SearchDocument.objects.update_or_create(
        object_type=object_type,
        object_id=pk,
        defaults={"body": body},
        create_defaults={"id": document_id(object_type, pk), "body": body},
    )


def index(obj, *, new: bool = False) -> None:
    """Write (or rewrite) the search document of ``obj``; call inside the write's transaction.

    ``new``: the record was just created, so it has no document yet (one INSERT instead
    of a read and two savepoints).
    """
    object_type = obj._meta.label_lower
    if new:
        SearchDocument.objects.create(
            id=document_id(object_type, obj.pk),
            object_type=object_type,
            object_id=obj.pk,
            body=document_body(obj),
        )
        return
    _write_document(object_type, obj.pk, document_body(obj))


REBUILD_CHUNK = 500


def rebuild_documents(model, only: Q | None = None, *, chunk_size: int = REBUILD_CHUNK) -> int:
    """Rewrite the documents of ``model``'s records (those matching ``only``) whose text
    changed, a chunk per transaction: after a change to what documents hold, e.g. a custom
    field hidden from some roles. Returns how many documents were rewritten."""
    object_type = model._meta.label_lower
    entry = search_type(object_type)
    records = model.objects.filter(only or Q()).order_by("pk")
    if entry is not None and entry.document_reads:
        records = records.prefetch_related(*entry.document_reads)
    last, rewritten = 0, 0
    while True:
        with transaction.atomic():
            # Locked while their documents are rewritten: a save of one of them waits, so
            # its own fresher document is never overwritten by text read before it.
            chunk = list(records.filter(pk__gt=last).select_for_update()[:chunk_size])
            if not chunk:
                break
            last = chunk[-1].pk
            stored = dict(
                SearchDocument.objects.filter(
                    object_type=object_type, object_id__in=[obj.pk for obj in chunk]
                ).values_list("object_id", "body")
            )
            for obj in chunk:
                body = document_body(obj)
                if stored.get(obj.pk) != body:
                    _write_document(object_type, obj.pk, body)
                    rewritten += 1
    return rewritten


def unindex_all(object_type: str, ids: list[int]) -> None:
    SearchDocument.objects.filter(object_type=object_type, object_id__in=ids).delete()


def query_terms(q: str) -> list[str]:
    """The substrings to look for: a phone-like query becomes its E.164 digits."""
    q = normalize(q)
    if not q:
        return []
    if phones.looks_like_phone(q):
        e164 = phones.to_e164(q)
        return [e164.lstrip("+") if e164 else phones.digits(q)]
    return q.split()


def _index_match(terms: list[str], object_type: str, *, record_ids: bool = False):
    """SQLite's FTS query (SQL, params) for the ids of ``object_type``'s documents holding
    every one of ``terms`` (each at least MIN_INDEXED_LENGTH long), or for their records'
    ids. The type's documents are an id range the match itself is limited to."""
    first = document_id(object_type, 0)
    # Each term a quoted FTS5 phrase: user text is never parsed as query syntax.
    match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
    column = f"rowid - {first}" if record_ids else "rowid"
    return (
        f"SELECT {column} FROM core_search_fts WHERE core_search_fts MATCH %s "
        "AND rowid BETWEEN %s AND %s",
        [match, first, first + (1 << RECORD_ID_BITS) - 1],
    )


def matching_documents(terms: list[str], object_type: str):
    """SearchDocuments of ``object_type`` whose body contains every one of ``terms``."""
    if not terms:
        return SearchDocument.objects.none()
    long_terms = [t for t in terms if len(t) >= MIN_INDEXED_LENGTH]
    if connection.vendor == "sqlite" and long_terms:
        # Only the match limits the documents: no other index of the table competes
        # with it for driving the query.
        docs = SearchDocument.objects.filter(id__in=RawSQL(*_index_match(long_terms, object_type)))
        terms = [t for t in terms if len(t) < MIN_INDEXED_LENGTH]
    else:
        docs = SearchDocument.objects.filter(object_type=object_type)
    for term in terms:
        if len(term) >= MIN_INDEXED_LENGTH:
            docs = docs.filter(body__contains=term)
        else:
            # A term of one or two letters matches at a word start only: as a bare
            # substring it would match nearly everything.
            docs = docs.filter(Q(body__startswith=term) | Q(body__contains=" " + term))
    return docs


def matching_ids(terms: list[str], object_type: str):
    """Ids of the records of ``object_type`` whose document contains every one of ``terms``.

    SQLite, every term long enough for the index: a list read from the index alone (the
    ids of the type's matching documents less the type's first id). Reading each
    match's row for its record's id instead cost 40-100 ms for a name that 5,000-13,000
    people share at a million. Otherwise a query of them.
    """
    if connection.vendor == "sqlite" and terms and min(map(len, terms)) >= MIN_INDEXED_LENGTH:
        with connection.cursor() as cursor:
            cursor.execute(*_index_match(terms, object_type, record_ids=True))
            return [row[0] for row in cursor.fetchall()]
    return matching_documents(terms, object_type).values_list("object_id", flat=True)


# PostgreSQL guesses how many documents a substring matches from trigram statistics.
# Guessing a thousand for a name that fifty people have, it walks the whole name index
# and tests each person's document (276 ms at 100,000 people). So it is first asked for
# the matches, at most this many, and given them as ids; past that, the match is common
# enough for the walk to find a page soon, and the query stays one. Linked records are
# read the same way on both databases: a term that names no visible linked record (the
# usual case) then costs one short query and leaves the record's own match as it was.
FEW_MATCHES = 1000


def _ids(values, *, always: bool = False):
    """The ids of a ``values`` query (or a list) as a list if there are few, else the query.

    SQLite: always the whole list: matching the index is cheap there, and as a query the
    list's count and its page would each match again.
    """
    if isinstance(values, list) or connection.vendor == "sqlite":
        return list(values)
    if always or connection.vendor == "postgresql":
        ids = list(values[: FEW_MATCHES + 1])
        if len(ids) <= FEW_MATCHES:
            return ids
    return values


# Past this many ids a list goes to SQLite as one JSON parameter: Django prepares each
# parameter of a list (20 ms of compiling for a page's count and rows with 1,000 ids),
# and a parameter per id would pass SQLite's limit.
JSON_IDS_FROM = 100


def _among(column: str, ids, *, walk: bool = False) -> Q:
    """``column IN ids``; ``walk``: kept out of index choice in a page (see ``_walks``)."""
    if isinstance(ids, list) and len(ids) > JSON_IDS_FROM and connection.vendor == "sqlite":
        ids = RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])
    if walk:
        return Q(In(PageColumn(F(column)), ids))
    return Q(**{f"{column}__in": ids})


def _walks(model, clauses: list[list[tuple]]) -> bool:
    """Whether a page of these matches should walk the sort's index instead of sorting
    every match (SQLite; ``clauses`` as in ``narrow``, every list read).

    Sorting reads each match's row; a walk reads about 50 x table / matches entries of
    the sort's index before the page is full. The walk wins from about sqrt(50 x table)
    matches: 7,000 at a million rows (a fixed 1,000 made the median search 5x slower).
    A clause's matches are estimated: its own ids, and per linked id the linked table's
    average share of rows.
    """
    rows = analyzed_rows(model)
    if not rows:
        return False

    def estimate(clause):
        total = 0.0
        for _column, ids, target in clause:
            linked_rows = rows if target is model else analyzed_rows(target)
            total += len(ids) * (rows / linked_rows if linked_rows else 1)
        return total

    return min(estimate(clause) for clause in clauses) >= math.sqrt(50 * rows)


def _own_matches(model, terms: list[str], *, always: bool = False):
    return _ids(matching_ids(terms, model._meta.label_lower), always=always)


def _linked_matches(linked_model, terms: list[str], user):
    """Ids of ``linked_model``'s records that ``user`` can see and that match ``terms``."""
    visible = linked_model.objects.visible_to(user)
    if visible.query.is_empty():
        return []
    ids = matching_ids(terms, linked_model._meta.label_lower)
    if not sees_all(user, linked_model):
        ids = visible.filter(_among("pk", ids)).values_list("pk", flat=True)
    return _ids(ids, always=True)


def narrow(qs, q: str, user, *, sorted_page: bool = False):
    """``qs`` (records of a registered model) narrowed to those matching ``q`` for ``user``.

    Every term must be in the record's own document or in the document of a record it
    links to (``SearchType.links``) that ``user`` can see: "petrov acme" finds Petrov at
    Acme. Each term's linked matches are read first, as few ids. If no term names a
    visible linked record (the usual name or phone search), the record's own text
    answers every term in one index match, as without links. Otherwise a term that
    does becomes "own match OR linked to one of these", both lists of ids the database
    looks up by index; a word start of one or two letters, which no index answers, is
    checked on the rows those lists give (its own document by key, and the linked
    records already found).

    ``sorted_page``: ``qs`` is read in pages sorted along an index; with many matches on
    SQLite a page then walks that index (``_walks``).
    """
    model = qs.model
    entry = _registry[model._meta.label_lower]
    terms = list(dict.fromkeys(query_terms(q)))
    if not terms:
        return qs.none()
    long_terms = [t for t in terms if len(t) >= MIN_INDEXED_LENGTH]
    # Each clause: (column, ids, model the ids name) alternatives a record must meet one of.
    own_terms, clauses, found = [], [], {field: Q(pk__in=[]) for field in entry.links}
    for term in long_terms:
        linked = []
        for field in entry.links:
            link = model._meta.get_field(field)
            ids = _linked_matches(link.related_model, [term], user)
            if not isinstance(ids, list) or ids:
                linked.append((link.attname, ids, link.related_model))
                found[field] |= _among("object_id", ids)
        if linked:
            clauses.append([("pk", _own_matches(model, [term], always=True), model), *linked])
        else:
            own_terms.append(term)
    if not clauses:
        clauses = [[("pk", _own_matches(model, terms), model)]]
    elif own_terms:
        clauses.append([("pk", _own_matches(model, own_terms), model)])
    walk = sorted_page and connection.vendor == "sqlite" and _walks(model, clauses)
    for clause in clauses:
        either = Q()
        for column, ids, _target in clause:
            either |= _among(column, ids, walk=walk)
        qs = qs.filter(either)
    if len(clauses) == 1 and len(clauses[0]) == 1:
        return qs  # own text only: the short terms were in the one index match
    for term in terms:
        if term in long_terms:
            continue
        own_doc = matching_documents([term], model._meta.label_lower)
        short = Q(Exists(own_doc.filter(object_id=OuterRef("pk"))))
        for field, among in found.items():
            link = model._meta.get_field(field)
            docs = matching_documents([term], link.related_model._meta.label_lower)
            short |= Q(**{f"{link.attname}__in": docs.filter(among).values("object_id")})
        qs = qs.filter(short)
    return qs


def search_model(user, model, q: str, *, limit: int = 20):
    """Visible records of ``model`` matching ``q``, in the type's display order."""
    entry = _registry[model._meta.label_lower]
    return narrow(model.objects.visible_to(user), q, user).order_by(*entry.ordering)[:limit]


def _contains(text: str, term: str) -> bool:
    """Whether ``term`` matches in ``text`` as the index matches it (see matching_documents)."""
    if len(term) >= MIN_INDEXED_LENGTH:
        return term in text
    return text.startswith(term) or f" {term}" in text


def match_reasons(entry: SearchType, obj, q: str) -> list[MatchField]:
    """The fields of ``obj`` that explain why it matched ``q``: for each term, the first
    field (in the type's order) containing it. Empty when none of the fields the reader
    sees explains it: a reason is never guessed."""
    if entry.match_fields is None:
        return []
    fields = [(f, normalize(f.searched or f.text)) for f in entry.match_fields(obj)]
    reasons: list[MatchField] = []
    for term in query_terms(q):
        found = next((f for f, text in fields if _contains(text, term)), None)
        if found is None:
            return []
        if found not in reasons:
            reasons.append(found)
    return reasons


def search(user, q: str, *, limit: int = 10) -> list[tuple[SearchType, list]]:
    """For the global search box: each registered type with its first matches.

    Each hit carries ``match_reasons`` (see ``match_reasons``).
    """
    results = []
    for entry in registered():
        if not modules.type_enabled(user, entry.model._meta.label_lower):
            continue  # its module is off for this user
        hits = search_model(user, entry.model, q, limit=limit)
        if entry.prepare_hits is not None:
            hits = entry.prepare_hits(user, hits)
        hits = list(hits)
        for obj in hits:
            obj.match_reasons = match_reasons(entry, obj, q)
        results.append((entry, hits))
    return results
