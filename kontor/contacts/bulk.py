"""Bulk import of people and companies: thousands of rows per transaction.

The same rules as ``services.create_person`` / ``create_company`` (same input keys, same
cleaning of phones, emails, dates; same permission check; same search body; one audit
entry and one ``*.created`` event per record), written with ``bulk_create`` so that the
demo company, the 1,000,000-row benchmark and the spreadsheet importer load in minutes,
not hours. A row with any error is reported and skipped whole; the others are written.

The per-row database lookups of the single-record path (does this owner, department,
company exist and may the actor see it) are answered here from one query per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
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
                _write(model, cleaned, actor, lookups)
                result.ids += [obj.pk for obj, _children in cleaned]
                result.created += len(cleaned)
            if progress:
                progress(row_number)
    return result


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


def _prime_related(obj, name: str, model, items: list) -> None:
    """Make ``obj.<name>.all()`` answer from ``items``, as a prefetch would, without a query."""
    queryset = model._base_manager.all()
    queryset._result_cache = items
    queryset._prefetch_done = True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _write(model, cleaned: list, actor, lookups: _Lookups) -> None:
    owner_key = "person" if model is Person else "company"
    object_type = object_type_of(model)
    event_type = f"{object_type}.created"
    with transaction.atomic():
        objs = model.objects.bulk_create([obj for obj, _children in cleaned])
        for name, child_model in _CHILDREN[model]:
            rows = []
            for obj, children in cleaned:
                for child in children[name]:
                    setattr(child, owner_key, obj)
                rows += children[name]
            child_model.objects.bulk_create(rows)
        through = model.tags.through
        links = []
        for obj, children in cleaned:
            tag_ids = lookups.tag_ids(children["tags"])
            links += [through(**{f"{owner_key}_id": obj.pk, "tag_id": t}) for t in tag_ids]
            _prime_related(
                obj,
                "tags",
                Tag,
                [Tag(pk=t, name=n) for t, n in zip(tag_ids, children["tags"], strict=True)],
            )
            for name, child_model in _CHILDREN[model]:
                _prime_related(obj, name, child_model, children[name])
        through.objects.bulk_create(links)
        SearchDocument.objects.bulk_create(
            SearchDocument(
                object_type=object_type, object_id=obj.pk, body=search.document_body(obj)
            )
            for obj in objs
        )
        ctx = current()
        actor_id = getattr(actor, "pk", None)
        actor_label = actor.get_username()
        entries = []
        for obj in objs:
            # As create_record logs it: only what was filled in.
            filled = {k: v for k, v in records.snapshot(obj).items() if v not in (None, "", [], {})}
            changes = audit.diff({}, filled)
            entries.append(
                AuditEntry(
                    actor_id=actor_id,
                    actor_label=actor_label,
                    channel=ctx.channel,
                    request_id=ctx.request_id,
                    action=event_type,
                    object_type=object_type,
                    object_id=obj.pk,
                    object_repr=str(obj)[:255],
                    changes=changes,
                )
            )
            # Payload as in kontor.core.services: fires after the batch commits.
            events.emit(
                event_type,
                object_type=object_type,
                object_id=obj.pk,
                actor_id=actor_id,
                changes=changes,
            )
        AuditEntry.objects.bulk_create(entries)
