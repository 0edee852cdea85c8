"""Global search: one text document per record, prefix and substring matching.

SQLite: an FTS5 table with the trigram tokenizer over ``core_searchdocument.body``
(external content, kept in step by triggers). PostgreSQL: a pg_trgm GIN index on the
same column. Both answer "contains this substring" from an index; the chosen design and
its numbers are in docs/architecture.md and docs/benchmarks.md.

Results are always narrowed by the model's ``visible_to``: a record outside the user's
scope is absent from search, as from every other read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from . import phones
from .models import SearchDocument

MIN_INDEXED_LENGTH = 3  # the trigram index answers substrings of three characters or more


@dataclass(frozen=True)
class SearchType:
    model: type
    label: str
    ordering: tuple[str, ...]
    # URL name of the record's UI page, reversed with its id; core imports no domain urls.
    url_name: str = ""
    # Reads only the record's own columns: a page of hits must stay one query.
    subtitle: Callable[[object], str] | None = None

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower


_registry: dict[str, SearchType] = {}


def register(
    model,
    *,
    label,
    ordering: tuple[str, ...],
    url_name: str = "",
    subtitle: Callable[[object], str] | None = None,
) -> None:
    """Make ``model`` searchable; it must define ``search_text()``."""
    _registry[model._meta.label_lower] = SearchType(model, label, ordering, url_name, subtitle)


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
    """The indexed text of ``obj``; the one definition for single writes and bulk imports."""
    return normalize(obj.search_text())


def index(obj) -> None:
    """Write (or rewrite) the search document of ``obj``; call inside the write's transaction."""
    SearchDocument.objects.update_or_create(
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        defaults={"body": document_body(obj)},
    )


def reindex(objs) -> None:
    """Rewrite the existing search documents of ``objs`` (say, after a name they quote changed)."""
    for obj in objs:
        SearchDocument.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk).update(
            body=document_body(obj)
        )


def unindex(obj) -> None:
    SearchDocument.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk).delete()


def query_terms(q: str) -> list[str]:
    """The substrings to look for: a phone-like query becomes its E.164 digits."""
    q = normalize(q)
    if not q:
        return []
    if phones.looks_like_phone(q):
        e164 = phones.to_e164(q)
        return [e164.lstrip("+") if e164 else phones.digits(q)]
    return q.split()


def matching_documents(q: str, object_type: str):
    """SearchDocuments of ``object_type`` whose body contains every term of ``q``."""
    terms = query_terms(q)
    if not terms:
        return SearchDocument.objects.none()
    long_terms = [t for t in terms if len(t) >= MIN_INDEXED_LENGTH]
    if connection.vendor == "sqlite" and long_terms:
        # Each term a quoted FTS5 phrase: user text is never parsed as query syntax.
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        # The FTS match must drive the query. Given "object_type = %s AND id IN (match)"
        # SQLite may instead walk every document of the type through the unique index
        # and probe the match list (150-400 ms at a million people, and chosen whenever
        # core_searchdocument lacks planner statistics); CROSS JOIN fixes the order.
        docs = SearchDocument.objects.filter(
            id__in=RawSQL(
                "SELECT d.id FROM core_search_fts CROSS JOIN core_searchdocument d "
                "ON d.id = core_search_fts.rowid "
                "WHERE core_search_fts MATCH %s AND d.object_type = %s",
                [match, object_type],
            )
        )
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


# PostgreSQL guesses how many documents a substring matches from trigram statistics.
# Guessing a thousand for a name that fifty people have, it walks the whole name index
# and tests each person's document (276 ms at 100,000 people). So it is first asked for
# the matches, at most this many, and given them as ids; past that, the match is common
# enough for the walk to find a page soon, and the query stays one.
FEW_MATCHES = 1000


def narrow(qs, q: str):
    """``qs`` (records of a registered model) narrowed to those matching ``q``."""
    docs = matching_documents(q, qs.model._meta.label_lower)
    if connection.vendor == "postgresql":
        ids = list(docs.values_list("object_id", flat=True)[: FEW_MATCHES + 1])
        if len(ids) <= FEW_MATCHES:
            return qs.filter(pk__in=ids)
    return qs.filter(pk__in=docs.values("object_id"))


def search_model(user, model, q: str, *, limit: int = 20):
    """Visible records of ``model`` matching ``q``, in the type's display order."""
    entry = _registry[model._meta.label_lower]
    return narrow(model.objects.visible_to(user), q).order_by(*entry.ordering)[:limit]


def search(user, q: str, *, limit: int = 10) -> list[tuple[SearchType, list]]:
    """For the global search box: each registered type with its first matches."""
    return [
        (entry, list(search_model(user, entry.model, q, limit=limit))) for entry in registered()
    ]
