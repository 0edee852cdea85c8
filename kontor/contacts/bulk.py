"""People and companies in a bulk import: their part of ``kontor.core.bulk``.

Core imports any registered type (ids, multi-row INSERTs, placement, permission, audit
entries, search documents, events, a batch per transaction). What a contact row holds
beyond its own columns is here: phones, emails, addresses and tags, a person's family,
important dates and employer. They are cleaned by the single-record path's own function
(``services._clean_record``); what that path asks the database per record (is this
company visible, how many tags are there) is asked once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection

from kontor.core import types
from kontor.core.bulk import DEFAULT_BATCH_SIZE, Importer, ImportResult, import_rows
from kontor.core.inputs import as_db_id

from . import services
from .models import Company, Person, Tag


class TaggedImporter(Importer):
    """An importer of a type tagged from the contacts' tag list (contacts, deals): the
    rows' ``tags`` (names, cleaned by ``clean``) become records in ``accept``."""

    def __init__(self, record_type, actor):
        super().__init__(record_type, actor)
        self.tags: dict[str, int] = {}

    def start_batch(self, rows):
        # The install's tags (at most MAX_TAGS), once per batch: the rows' tag names are
        # looked up in it, and its size is the count the tag bounds start from.
        self.tags = dict(Tag.objects.values_list("name", "pk"))

    def accept(self, obj, related, errors):
        """The single path's tag bounds (``services._bound_new_tags``), counted over the
        batch: a tag an earlier row created is no longer new. Then the row's tags as
        records, the new ones created."""
        names = related.get("tags")
        if not names:
            return
        new = [name for name in names if name not in self.tags]
        if new:
            services._bound_new_tags(len(new), len(self.tags), errors)
            if errors.by_field:
                return
            for name in new:
                self.tags[name] = Tag.objects.get_or_create(name=name)[0].pk
        related["tags"] = [Tag(pk=self.tags[name], name=name) for name in names]


class ContactImporter(TaggedImporter):
    """A company's or person's row: profile fields, contact points, tags."""

    related = ("phones", "emails", "addresses", "tags")
    analyzed = ("phones", "emails")

    def __init__(self, record_type, actor):
        super().__init__(record_type, actor)
        self.fields = record_type.model.profile_fields
        self.companies: dict[int, Company] = {}

    def clean(self, obj, data, errors):
        return services._clean_record(
            obj, data, self.fields, errors, actor=self.actor, company_of=self.companies.get
        )

    def check(self, obj, related, errors):
        services._require_name(obj, errors)


class PersonImporter(ContactImporter):
    """A person's row also names an employer (checked here) and family and dates."""

    related = ("phones", "emails", "addresses", "family", "important_dates", "tags")
    checked_elsewhere = ("company",)

    def __init__(self, record_type, actor):
        super().__init__(record_type, actor)
        self._employers: dict[int, Company] = {}

    def start_batch(self, rows):
        super().start_batch(rows)
        self.companies = self._visible_companies(rows)

    def _visible_companies(self, rows: list[dict]) -> dict[int, Company]:
        """The batch's employer companies the actor can see (an unseen one cannot be linked)."""
        wanted = {as_db_id(data.get("company_id")) for data in rows} - {None}
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


def import_companies(
    rows: Iterable[dict],
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create a company per row (keys as for ``services.create_company``)."""
    return import_rows(
        types.by_model(Company), rows, actor=actor, batch_size=batch_size, progress=progress
    )


def import_people(
    rows: Iterable[dict],
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create a person per row (keys as for ``services.create_person``)."""
    return import_rows(
        types.by_model(Person), rows, actor=actor, batch_size=batch_size, progress=progress
    )
