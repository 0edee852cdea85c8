"""Access-scoped reads of people and companies: the one door for UI, API, search and export."""

from __future__ import annotations

import functools

from django.db import connections
from django.db.models import (
    Case,
    DateField,
    Exists,
    F,
    OuterRef,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core import phones, types
from kontor.core.access import Action, sees_all
from kontor.core.search import MatchField
from kontor.core.types import ListFilters

from .models import Address, Company, Email, FamilyMember, ImportantDate, Person, Phone, Tag

PERSON_SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "company": ("company_name", "last_name", "id"),
    "-company": ("-company_name", "-last_name", "-id"),
    "birthday": ("birthday", "id"),
    "-birthday": ("-birthday", "-id"),
}
# For a reader who cannot see every company: a hidden employer sorts as if empty. No
# index serves this order; readers who see every company walk the company_name index.
PERSON_SORTS_SEEN = {
    key: tuple(f.replace("company_name", "company_name_seen") for f in fields)
    for key, fields in PERSON_SORTS.items()
}
COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "industry": ("industry", "name", "id"),
    "-industry": ("-industry", "-name", "-id"),
}


def people_base(user, action: str = Action.VIEW, *, sorted_page: bool = False):
    """People ``user`` may ``action``, each marked with whether its employer is visible.

    A person visible does not make their employer visible: its name is shown, and
    sorts, only for a reader who can see it (a hidden one sorts as if empty).
    ``sorted_page``: see ``access.scope_q``.
    """
    qs = Person.objects.visible_to(user, action, sorted_page=sorted_page)
    qs = types.select_names(qs, "company", "owner", "department")
    qs = types.with_visible_links(qs, user, ["company"])
    employer_visible = types.link_visible_q(user, Person, "company")
    if employer_visible is not None:
        # Computed only where a sort names it (alias, not annotate): every row it is
        # selected in would read the reader's visible companies first.
        qs = qs.alias(
            company_name_seen=Case(
                When(employer_visible, then=F("company_name")), default=Value("")
            )
        )
    return qs


def person_sorts(user) -> dict:
    # Every company visible: the sort by company walks the company_name index.
    return PERSON_SORTS if sees_all(user, Company) else PERSON_SORTS_SEEN


def people(user, filters: ListFilters | None = None, *, action: str = Action.VIEW):
    """People ``user`` may ``action`` (view, or export for exports), filtered and sorted."""
    return types.by_model(Person).list_query(user, filters, action=action)


def companies(user, filters: ListFilters | None = None, *, action: str = Action.VIEW):
    return types.by_model(Company).list_query(user, filters, action=action)


PERSON_LISTS = ("phones", "emails", "addresses", "family", "important_dates", "tags")
COMPANY_LISTS = ("phones", "emails", "addresses", "tags")


def _one_person(user, pk, action: str = Action.VIEW) -> Person:
    """The person's row (employer, owner, department: by name, the employer marked
    visible or not), or NotFound outside scope."""
    people = types.select_names(Person.objects.all(), "company", "owner", "department")
    found = people.get_visible(user, pk, action)
    types.mark_links_in_scope(user, [found], ["company"])
    return found


def person(user, pk, *, action: str = Action.VIEW) -> Person:
    """One person with everything a detail page shows, or NotFound outside scope."""
    return with_lists(_one_person(user, pk, action), PERSON_LISTS)


def company(user, pk, *, action: str = Action.VIEW) -> Company:
    companies = types.select_names(Company.objects.all(), "owner", "department")
    return with_lists(companies.get_visible(user, pk, action), COMPANY_LISTS)


def person_alone(user, pk) -> Person:
    """The person's row (employer, owner, department) without child lists, or NotFound."""
    return _one_person(user, pk)


def company_alone(user, pk) -> Company:
    return types.select_names(Company.objects.all(), "owner", "department").get_visible(user, pk)


@functools.cache
def _whole_list_read(vendor: str, model, name: str) -> tuple[type, str]:
    """The child model of list ``name`` of a ``model`` record and the SQL reading its
    rows for one record (every column, in the child's own order); written once per
    process from the models' metadata."""
    qn = connections[model.objects.db].ops.quote_name
    field = model._meta.get_field(name)
    child = field.related_model
    order = ", ".join(
        f"t.{qn(child._meta.get_field(o.lstrip('-')).column)}{' DESC' if o[0] == '-' else ''}"
        for o in child._meta.ordering or ["pk"]
    )
    columns = ", ".join(f"t.{qn(f.column)}" for f in child._meta.concrete_fields)
    if field.many_to_many:  # tags, through their link table
        links = field.remote_field.through._meta.db_table
        return child, (
            f"SELECT {columns} FROM {qn(child._meta.db_table)} t JOIN {qn(links)} l "
            f"ON l.{qn(field.m2m_reverse_name())} = t.{qn(child._meta.pk.column)} "
            f"WHERE l.{qn(field.m2m_column_name())} = %s ORDER BY {order}"
        )
    return child, (
        f"SELECT {columns} FROM {qn(child._meta.db_table)} t "
        f"WHERE t.{qn(field.field.column)} = %s ORDER BY {order}"
    )


def with_lists(obj, names: tuple[str, ...]):
    """``obj`` with its child lists ``names`` read as ``prefetch_related`` leaves them
    (``obj.phones.all()`` answers without a query), one plain query per list.

    ``prefetch_related`` builds and compiles a queryset per list: for a detail page's six
    lists that was two thirds of reading one person (docs/benchmarks.md). Each list is
    kept in the related manager's own queryset, so a further ``filter()`` on it stays
    within the record's rows, and each child knows its parent, as a prefetch leaves them.
    """
    connection = connections[obj._meta.model.objects.db]
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    for name in names:
        child, sql = _whole_list_read(connection.vendor, type(obj)._meta.concrete_model, name)
        rows = list(child._default_manager.raw(sql, [obj.pk]))
        field = obj._meta.get_field(name)
        if not field.many_to_many:
            for row in rows:
                field.field.set_cached_value(row, obj)
        related = getattr(obj, name).get_queryset()
        related._result_cache = rows
        related._prefetch_done = True
        cache[name] = related
    return obj


def _phone_out(raw, e164, extension, kind) -> dict:
    display = phones.pretty(e164, extension) or raw
    return {"raw": raw, "e164": e164, "extension": extension, "display": display, "kind": kind}


# Each list of a record as the API writes it: (model, columns, order, row -> item).
_LIST_READS = {
    "phones": (Phone, ("raw", "e164", "extension", "kind"), ("position", "id"), _phone_out),
    "emails": (Email, ("address", "kind"), ("position", "id"), None),
    "addresses": (
        Address,
        ("kind", "street", "city", "region", "postal_code", "country"),
        ("position", "id"),
        None,
    ),
    "family": (FamilyMember, ("relation", "name", "birthday"), ("id",), None),
    "important_dates": (ImportantDate, ("label", "date"), ("date", "id"), None),
}


@functools.cache
def _list_read(vendor: str, model, name: str) -> tuple[str, list]:
    """The SQL reading list ``name`` of one ``model`` record, and the fields it reads
    (None for tag names); written once per process from the models' metadata."""
    qn = connections[model.objects.db].ops.quote_name
    link = qn(f"{model._meta.model_name}_id")
    if name == "tags":
        links = model.tags.through._meta.db_table
        return (
            f"SELECT t.{qn('name')} FROM {qn(Tag._meta.db_table)} t JOIN {qn(links)} l "
            f"ON l.{qn('tag_id')} = t.{qn('id')} WHERE l.{link} = %s ORDER BY t.{qn('name')}",
            None,
        )
    child, columns, order, _item = _LIST_READS[name]
    fields = [child._meta.get_field(c) for c in columns]
    order_by = ", ".join(qn(child._meta.get_field(o).column) for o in order)
    return (
        f"SELECT {', '.join(qn(f.column) for f in fields)} FROM {qn(child._meta.db_table)} "
        f"WHERE {link} = %s ORDER BY {order_by}",
        fields,
    )


def record_lists(model, pk: int, names: tuple[str, ...]) -> dict[str, list]:
    """The child lists ``names`` of one person or company, as the API answers them.

    One plain query per list, no queryset and no model instances: prefetching them (a
    queryset and a related manager per list) was half of an API get, and building six
    querysets still most of it (docs/benchmarks.md). The orders are the models' own,
    as a prefetch reads them.
    """
    connection = connections[model.objects.db]
    lists = {}
    with connection.cursor() as cursor:
        for name in names:
            sql, fields = _list_read(connection.vendor, model, name)
            cursor.execute(sql, [pk])
            if fields is None:
                lists[name] = [tag for (tag,) in cursor.fetchall()]
                continue
            item = _LIST_READS[name][3]
            columns = [f.name for f in fields]
            dates = [i for i, f in enumerate(fields) if isinstance(f, DateField)]
            lists[name] = []
            for values in cursor.fetchall():
                row = list(values)
                for i in dates:  # SQLite hands dates back as text: read as Django would
                    row[i] = fields[i].to_python(row[i])
                lists[name].append(item(*row) if item else dict(zip(columns, row, strict=True)))
    return lists


# -- why a search hit matched (kontor.core.search.match_reasons) ----------------------------


def people_hits(user, hits):
    return types.with_visible_links(hits, user, ["company"]).prefetch_related("phones", "emails")


def company_hits(user, hits):
    return hits.prefetch_related("phones", "emails")


def _contact_point_fields(obj) -> list[MatchField]:
    fields = [
        MatchField("phone", _("phone"), p.display, f"{p.raw} {p.e164.lstrip('+')}")
        for p in obj.phones.all()
    ]
    fields += [MatchField("email", _("email"), e.address) for e in obj.emails.all()]
    return fields


def person_match_fields(person: Person) -> list[MatchField]:
    """The person's own fields, and their employer's name only if the reader sees the employer."""
    fields = [MatchField("name", pgettext_lazy("person", "name"), person.full_name)]
    if person.position:
        fields.append(MatchField("position", _("position"), person.position))
    if person.company_id and person.company_visible:
        fields.append(MatchField("company", _("company"), person.company_name))
    return fields + _contact_point_fields(person)


def company_match_fields(company: Company) -> list[MatchField]:
    fields = [
        MatchField(code, label, value)
        for code, label, value in (
            ("name", _("name"), company.name),
            ("legal_name", _("legal name"), company.legal_name),
            ("tax_id", _("tax id"), company.tax_id),
            ("website", _("website"), company.website),
        )
        if value
    ]
    return fields + _contact_point_fields(company)


def people_of_company(user, company: Company):
    """The company's people that ``user`` can see (a company visible does not open its people)."""
    return Person.objects.visible_to(user).filter(company=company).order_by(*PERSON_SORTS["name"])


def tags_in_use(user, model):
    """The tags on at least one record of ``model`` (people or companies) ``user`` can see.

    One EXISTS per tag over the tag's links (indexed by tag), which stops at the first
    link to a visible record; below "all" each link's record is checked for scope. A tag
    only on hidden records is not offered, and no request reads every record; but such
    a tag costs a read of all its links (docs/benchmarks.md, "Tag picker").
    """
    links = model.tags.through.objects.filter(tag_id=OuterRef("pk"))
    if not sees_all(user, model):
        # Each link's record looked up by primary key: an "IN (visible records)" here
        # is rebuilt for every tag on SQLite (0.3 s at 20,000 people).
        record = model.objects.visible_to(user).filter(pk=OuterRef(f"{model._meta.model_name}_id"))
        links = links.filter(Exists(record))
    return Tag.objects.filter(Exists(links)).order_by("name")
