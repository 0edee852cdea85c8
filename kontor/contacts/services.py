"""Every write to people and companies, and the rules they follow.

Input is plain data (a dict from a form or an API schema). Keys that are absent are
left as they are on update; lists (phones, emails, addresses, family, important dates,
tags) replace the whole list when given.
"""

from __future__ import annotations

import datetime
import difflib
import functools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.db import connection, transaction
from django.db.models import CharField, TextField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import phones, types
from kontor.core import services as records
from kontor.core.access import (
    Action,
    may,
    object_type_of,
    record_in_scope,
    scope_q,
)
from kontor.core.bulk import Blank
from kontor.core.errors import KontorError
from kontor.core.inputs import as_db_id, text_problem
from kontor.core.services import FieldErrors as _Errors

from .models import Address, Company, Email, FamilyMember, ImportantDate, Person, Phone, Tag


class ContactsError(KontorError):
    pass


COMPANY_FIELDS = Company.profile_fields
PERSON_FIELDS = Person.profile_fields
ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")
# Bounds that keep one record, and the tag list every page offers, usable.
MAX_LIST_ROWS = 50  # phones, emails, addresses, family, important dates, tags: each
MAX_NEW_TAGS_PER_WRITE = 10
MAX_TAGS = 1000  # distinct tags in the whole install
LISTS = ("phones", "emails", "addresses", "family", "important_dates", "tags")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# Read once: ``Kind.values`` builds its list anew on every call (a bulk import checks
# every phone, email and address).
_PHONE_KINDS = frozenset(Phone.Kind.values)
_EMAIL_KINDS = frozenset(Email.Kind.values)
_ADDRESS_KINDS = frozenset(Address.Kind.values)


# Child rows are made as their constructors make them, for less: a bulk import makes
# one per phone, email and address of every row.
_new_phone, _new_email, _new_address, _new_family_member, _new_important_date = (
    Blank(model) for model in (Phone, Email, Address, FamilyMember, ImportantDate)
)


def _row_fits(row, prefix: str, errors: _Errors) -> bool:
    """Check a child row's lengths and text as its record's are; errors as "prefix.field".

    The cleaners have checked kinds, numbers, emails and dates; this is what
    ``full_clean`` would add, at a fraction of its cost (a bulk import checks every row).
    """
    fits = True
    for field in _text_fields(type(row)):
        value = getattr(row, field.attname)
        problem = text_problem(value)
        if problem is None and field.max_length and len(value) > field.max_length:
            problem = MaxLengthValidator.message % {
                "limit_value": field.max_length,
                "show_value": len(value),
            }
        if problem:
            errors.add(f"{prefix}.{field.name}", str(problem))
            fits = False
    return fits


@functools.cache
def _text_fields(model) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if isinstance(f, CharField | TextField))


def _clean_phones(items, errors: _Errors) -> list[Phone]:
    cleaned = []
    for i, item in enumerate(items or []):
        raw = _text(item.get("number"))
        if not raw:
            continue
        parsed = phones.parse(raw)
        if parsed is None:
            errors.add(
                f"phones.{i}.number", _("“%(raw)s” is not a valid phone number.") % {"raw": raw}
            )
            continue
        kind = item.get("kind") or Phone.Kind.MOBILE
        if kind not in _PHONE_KINDS:
            errors.add(f"phones.{i}.kind", _("Unknown phone type."))
            continue
        row = _new_phone(
            kind=kind, raw=raw, e164=parsed.e164, extension=parsed.extension, position=i
        )
        if _row_fits(row, f"phones.{i}", errors):
            cleaned.append(row)
    return cleaned


def _clean_emails(items, errors: _Errors) -> list[Email]:
    cleaned = []
    for i, item in enumerate(items or []):
        address = _text(item.get("address"))
        if not address:
            continue
        try:
            validate_email(address)
        except DjangoValidationError:
            errors.add(
                f"emails.{i}.address",
                _("“%(address)s” is not a valid email.") % {"address": address},
            )
            continue
        kind = item.get("kind") or Email.Kind.WORK
        if kind not in _EMAIL_KINDS:
            errors.add(f"emails.{i}.kind", _("Unknown email type."))
            continue
        row = _new_email(kind=kind, address=address, normalized=address.lower(), position=i)
        if _row_fits(row, f"emails.{i}", errors):
            cleaned.append(row)
    return cleaned


def _clean_addresses(items, errors: _Errors) -> list[Address]:
    cleaned = []
    for i, item in enumerate(items or []):
        values = {f: _text(item.get(f)) for f in ADDRESS_FIELDS}
        if not any(values.values()):
            continue
        values["country"] = values["country"].upper()
        kind = item.get("kind") or Address.Kind.OFFICE
        if kind not in _ADDRESS_KINDS:
            errors.add(f"addresses.{i}.kind", _("Unknown address type."))
            continue
        if values["country"] and len(values["country"]) != 2:
            errors.add(f"addresses.{i}.country", _("Use the two-letter country code (DE, FR, RU)."))
            continue
        row = _new_address(kind=kind, position=i, **values)
        if _row_fits(row, f"addresses.{i}", errors):
            cleaned.append(row)
    return cleaned


def _date(value, field: str, errors: _Errors) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, _("Enter a date as YYYY-MM-DD."))
        return None


def _clean_family(items, errors: _Errors) -> list[FamilyMember]:
    cleaned = []
    for i, item in enumerate(items or []):
        name = _text(item.get("name"))
        if not name:
            continue
        row = _new_family_member(
            relation=_text(item.get("relation")) or _("relative"),
            name=name,
            birthday=_date(item.get("birthday"), f"family.{i}.birthday", errors),
        )
        if _row_fits(row, f"family.{i}", errors):
            cleaned.append(row)
    return cleaned


def _clean_important_dates(items, errors: _Errors) -> list[ImportantDate]:
    cleaned = []
    for i, item in enumerate(items or []):
        label = _text(item.get("label"))
        day = _date(item.get("date"), f"important_dates.{i}.date", errors)
        if not label and day is None:
            continue
        if not label:
            errors.add(f"important_dates.{i}.label", _("Say what the date is."))
        elif day is None and f"important_dates.{i}.date" not in errors.by_field:
            errors.add(f"important_dates.{i}.date", _("Enter the date."))
        elif _row_fits(
            row := _new_important_date(label=label, date=day), f"important_dates.{i}", errors
        ):
            cleaned.append(row)
    return cleaned


def clean_tags(names, errors: _Errors) -> list[str]:
    """Tag names, once each."""
    seen: dict[str, str] = {}
    max_length = Tag._meta.get_field("name").max_length
    for i, name in enumerate(names or []):
        name = _text(name)
        if len(name) > max_length:
            errors.add(
                f"tags.{i}", _("A tag has at most %(max)d characters.") % {"max": max_length}
            )
        elif problem := text_problem(name):
            errors.add(f"tags.{i}", problem)
        elif name:
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


def tags_named(names: list[str]) -> list[Tag]:
    """The tags of these (cleaned) names, the missing ones created: the one tag list
    people, companies and deals share."""
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def check_new_tags(names: list[str], errors: _Errors) -> None:
    """Bound how many tags one write may create, and how many the install holds (the
    import counts its own: ``contacts.bulk``)."""
    if not names:
        return
    if new := len(names) - Tag.objects.filter(name__in=names).count():
        _bound_new_tags(new, Tag.objects.count(), errors)


def _bound_new_tags(new: int, existing: int, errors: _Errors) -> None:
    """The tag rules, given ``new`` tags one write would create and ``existing`` ones.

    Also the bulk import's, which counts per batch instead of per record.
    """
    if new > MAX_NEW_TAGS_PER_WRITE:
        errors.add(
            "tags",
            _("At most %(max)d new tags at a time: use existing tags where you can.")
            % {"max": MAX_NEW_TAGS_PER_WRITE},
        )
    elif new > 0 and existing + new > MAX_TAGS:
        errors.add(
            "tags",
            _("There are %(max)d tags already: choose existing ones.") % {"max": MAX_TAGS},
        )


def _clean_record(obj, data: dict, fields, errors: _Errors, *, actor, company_of) -> dict:
    """Apply scalar fields and the employer to ``obj``; return the cleaned child lists.

    The one cleaning of a person's or company's input: single writes and the bulk import
    (``contacts.bulk``) both call it. ``company_of(id)`` answers a company the actor can
    see, or None. Tags are cleaned here and bounded by the caller (a write counts the
    install's tags, an import its batch's).
    """
    for field in fields:
        if field in data:
            value = data[field]
            if field == "birthday":
                value = _date(value, field, errors)
            else:
                value = _text(value)
            setattr(obj, field, value)
    for name in LISTS:
        if len(data.get(name) or ()) > MAX_LIST_ROWS:
            errors.add(name, _("At most %(max)d entries.") % {"max": MAX_LIST_ROWS})
            data = {**data, name: []}  # reported once, not cleaned row by row
    records.apply_custom_values(obj, data, actor, errors)
    children = {}
    if "phones" in data:
        children["phones"] = _clean_phones(data["phones"], errors)
    if "emails" in data:
        children["emails"] = _clean_emails(data["emails"], errors)
    if "addresses" in data:
        children["addresses"] = _clean_addresses(data["addresses"], errors)
    if "tags" in data:
        children["tags"] = clean_tags(data["tags"], errors)
    if isinstance(obj, Person):
        if "company_id" in data:
            _link_employer(obj, data["company_id"], company_of, errors)
        if "family" in data:
            children["family"] = _clean_family(data["family"], errors)
        if "important_dates" in data:
            children["important_dates"] = _clean_important_dates(data["important_dates"], errors)
    return children


_EMPLOYER = Person._meta.get_field("company")


def _link_employer(person: Person, value, company_of, errors: _Errors) -> None:
    if value in (None, ""):
        person.company = None
        person.company_name = ""
        return
    # A company the actor cannot see cannot be linked: its name would leak.
    pk = as_db_id(value)
    company = company_of(pk) if pk is not None else None
    if company is None:
        errors.add("company_id", _("Unknown company."))
        return
    # What ``person.company = company`` does, without the descriptor's checks (the
    # company was just read from this database): an import links thousands.
    person.company_id = company.pk
    person.company_name = company.name
    _EMPLOYER.set_cached_value(person, company)


def _visible_company(actor):
    """``company_of`` for one write: a query for the company, if the actor can see it."""

    def company_of(pk: int):
        return Company.objects.visible_to(actor).filter(pk=pk).only("name").first()

    return company_of


def _children_saver(children: dict, *, new: bool = False):
    """Save the cleaned child lists of a record; lists absent from ``children`` stay.

    ``new``: the record was just inserted, so it has no rows to replace, and its lists
    are known: they are left on it as its prefetch (in the models' order) for the audit
    snapshot and the search document, instead of being read back.
    """

    def save(obj):
        owner_kw = {"person": obj} if isinstance(obj, Person) else {"company": obj}
        written = {}
        for name in ("phones", "emails", "addresses", "family", "important_dates"):
            if not hasattr(obj, name):
                continue
            rows = written[name] = children.get(name, [])
            if name not in children:
                continue
            manager = getattr(obj, name)
            if not new:
                manager.all().delete()
            for row in rows:
                for key, value in owner_kw.items():
                    setattr(row, key, value)
            manager.model.objects.bulk_create(rows)
        written["tags"] = tags_named(children.get("tags", []))
        if "tags" in children:
            obj.tags.set(written["tags"])
        if new:
            obj._prefetched_objects_cache = {
                name: _in_model_order(rows) for name, rows in written.items()
            }
        else:
            # Cached prefetches would make the audit snapshot read stale rows.
            getattr(obj, "_prefetched_objects_cache", {}).clear()

    return save


def _in_model_order(rows: list) -> list:
    """Rows of one model sorted as its ``Meta.ordering`` (ascending fields) reads them."""
    if not rows:
        return rows
    ordering = type(rows[0])._meta.ordering
    return sorted(rows, key=lambda row: tuple(getattr(row, field) for field in ordering))


def _create(model, fields, data: dict, *, actor):
    obj = model()
    errors = _Errors()
    children = _clean_record(
        obj, data, fields, errors, actor=actor, company_of=_visible_company(actor)
    )
    check_new_tags(children.get("tags"), errors)
    records.place_new(obj, data, actor, errors)
    _require_name(obj, errors)
    errors.raise_if_any()
    # Every link was read above or is the actor's own placement: not read again.
    links = ("owner", "department") + (("company",) if isinstance(obj, Person) else ())
    obj = records.create_record(
        obj, actor=actor, save_related=_children_saver(children, new=True), checked_links=links
    )
    # The lists were left for the audit and the search document; whoever holds the
    # record from here on reads them live.
    obj._prefetched_objects_cache.clear()
    return obj


def _update(obj, fields, data: dict, *, actor, expected_version):
    errors = _Errors()
    holder = {}

    def apply(target):
        children = _clean_record(
            target, data, fields, errors, actor=actor, company_of=_visible_company(actor)
        )
        check_new_tags(children.get("tags"), errors)
        holder["children"] = children
        records.place_edited(target, data, actor, errors)
        _require_name(target, errors)
        errors.raise_if_any()

    # Child lists are saved inside the same transaction, after the version check.
    def save_related(target):
        _children_saver(holder["children"])(target)

    return records.update_record(
        obj, apply, actor=actor, expected_version=expected_version, save_related=save_related
    )


def _require_name(obj, errors: _Errors) -> None:
    field = "first_name" if isinstance(obj, Person) else "name"
    if not getattr(obj, field):
        errors.add(field, _("This field is required."))


def create_company(data: dict, *, actor) -> Company:
    return _create(Company, COMPANY_FIELDS, data, actor=actor)


def update_company(company: Company, data: dict, *, actor, expected_version=None) -> Company:
    with transaction.atomic():
        old_name = company.name
        company = _update(
            company, COMPANY_FIELDS, data, actor=actor, expected_version=expected_version
        )
        if company.name != old_name:
            # The sort's copy; people's search documents do not quote the name.
            Person.objects.filter(company=company).update(company_name=company.name)
    return company


def delete_company(company: Company, *, actor, expected_version=None) -> None:
    with transaction.atomic():
        employees = _employees([company])
        records.delete_record(company, actor=actor, expected_version=expected_version)
        _unemployed(employees, actor=actor)


def delete_companies(companies: list[Company], *, actor) -> None:
    """Many companies at once (``core.services.delete_records``), their people's
    employer cleared as ``delete_company`` clears it."""
    with transaction.atomic():
        employees = _employees(companies)
        records.delete_records(companies, actor=actor)
        _unemployed(employees, actor=actor)


def _employees(companies: list[Company]) -> dict[int, int]:
    """Person id -> company id, of these companies' people."""
    return dict(
        Person.objects.filter(company__in=companies).values_list("pk", "company_id").order_by("pk")
    )


def _unemployed(employees: dict[int, int], *, actor) -> None:
    """The database left these people without employer (SET NULL): each one's history
    says so."""
    for chunk in _people_in_chunks(employees):
        Person.objects.filter(pk__in=[p.pk for p in chunk]).update(company_name="")
        for person in chunk:
            person.company_name = ""
            records.record_cascaded_update(
                person, actor=actor, changes={"company_id": [employees[person.pk], None]}
            )


def _people_in_chunks(person_ids, size: int = 1000):
    """The people, a thousand at a time, with the lists their search text reads."""
    person_ids = list(person_ids)
    for start in range(0, len(person_ids), size):
        yield list(
            Person.objects.filter(pk__in=person_ids[start : start + size]).prefetch_related(
                "phones", "emails"
            )
        )


def create_person(data: dict, *, actor) -> Person:
    return _create(Person, PERSON_FIELDS, data, actor=actor)


def update_person(person: Person, data: dict, *, actor, expected_version=None) -> Person:
    return _update(person, PERSON_FIELDS, data, actor=actor, expected_version=expected_version)


def delete_person(person: Person, *, actor, expected_version=None) -> None:
    records.delete_record(person, actor=actor, expected_version=expected_version)


def likely_duplicates(data: dict, *, actor, model=Person, exclude_id=None, limit: int = 5):
    """Visible records that look like the one about to be saved.

    Same email, same phone (any written form), or for people a very similar name at the
    same company (one the actor can see: a hidden company is an unknown id); for
    companies the same tax id or a very similar name.
    """
    visible = model.objects.visible_to(actor)
    if exclude_id:
        visible = visible.exclude(pk=exclude_id)
    return _lookalikes(visible, data, actor=actor, limit=limit)


# What the create form and the API say of a hidden look-alike; nothing else is told.
HIDDEN_DUPLICATE = gettext_lazy(
    "A similar record exists that you cannot see; ask an administrator or its owner."
)


def hidden_duplicate_exists(data: dict, *, actor, model=Person, exclude_id=None) -> bool:
    """Whether a record the actor cannot see looks like this one (as ``likely_duplicates``).

    So that a second copy of a client another department keeps is not created unawares,
    the create form and the API warn "a similar record exists that you cannot see". The
    answer is this one bit: no name, no id. It reads outside the actor's scope on
    purpose, and only for someone who may create such a record (for whom the check is
    part of creating it).
    """
    object_type = object_type_of(model)
    if not may(actor, object_type, Action.CREATE) or not may(actor, object_type, Action.VIEW):
        return False
    in_scope = scope_q(actor, model, Action.VIEW)
    if not in_scope:  # every record is visible: nothing is hidden
        return False
    hidden = model.objects.exclude(in_scope)
    if exclude_id:
        hidden = hidden.exclude(pk=exclude_id)
    return bool(_lookalikes(hidden, data, actor=actor, limit=1))


def _lookalikes(records, data: dict, *, actor, limit: int) -> list:
    """The first ``limit`` of ``records`` that look like ``data`` (see likely_duplicates)."""
    model = records.model
    emails = {_text(e.get("address")).lower() for e in data.get("emails") or []} - {""}
    numbers = {phones.to_e164(_text(p.get("number"))) for p in data.get("phones") or []} - {None}
    found: dict[int, object] = {}
    if emails:
        for obj in records.filter(emails__normalized__in=emails).distinct()[:limit]:
            found[obj.pk] = obj
    if numbers:
        for obj in records.filter(phones__e164__in=numbers).distinct()[:limit]:
            found[obj.pk] = obj
    for obj in _SIMILAR_BY_NAME[model](records, data, actor=actor, limit=limit):
        found[obj.pk] = obj
    return list(found.values())[:limit]


def _people_named_alike(records, data: dict, *, actor, limit: int):
    """A very similar name at the same company (one the actor can see)."""
    name = " ".join(_text(data.get(f)) for f in ("first_name", "last_name")).casefold()
    company_id = data.get("company_id")
    if not name.strip() or not company_id:
        return []
    employer = Company.objects.visible_to(actor).filter(pk=company_id).values("pk")
    return [
        obj
        for obj in records.filter(company_id__in=employer)[:500]
        if difflib.SequenceMatcher(
            None, name, f"{obj.first_name} {obj.last_name}".casefold()
        ).ratio()
        >= 0.85
    ]


def _companies_named_alike(records, data: dict, *, actor, limit: int):
    """The same tax id, or the same name but for case."""
    found = []
    if tax_id := _text(data.get("tax_id")):
        found += records.filter(tax_id=tax_id)[:limit]
    if name := _text(data.get("name")):
        found += records.filter(name__iexact=name)[:limit]
    return found


_SIMILAR_BY_NAME = {Person: _people_named_alike, Company: _companies_named_alike}


def _in_field_order(model, attnames: set[str]) -> tuple[str, ...]:
    """``attnames`` in the model's field order, the order ``Model.from_db`` takes values in."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in attnames)


# What a caller-ID card shows of a match, plus the columns that place it (owner,
# department) for the scope check: other fields are deferred and load if touched.
_LOOKUP_PERSON_FIELDS = _in_field_order(
    Person,
    {
        "id",
        "first_name",
        "middle_name",
        "last_name",
        "position",
        "company_id",
        "owner_id",
        "department_id",
    },
)
# A company found by its number, and a found person's employer: what shows it and places it.
_LOOKUP_COMPANY_FIELDS = _in_field_order(Company, {"id", "name", "owner_id", "department_id"})
_EMPLOYER_FIELDS = _in_field_order(Company, {"id", "name"})
LOOKUP_LIMIT = 20


@functools.cache
def _lookup_sql(vendor: str) -> str:
    """One indexed read: the phones with a given E.164, joined to their person or company.

    Names come from the models' metadata, so it reads the same on SQLite and PostgreSQL.
    Ordered as the models order themselves (people by name, companies by name): a
    person row has NULL company columns and the other way round, so each kind keeps its
    own order in the database's collation.
    """
    quote = connection.ops.quote_name

    def col(alias, model, name):
        return f"{alias}.{quote(model._meta.get_field(name).column)}"

    def join(model, alias, on):
        pk = col(alias, model, "id")
        return f"LEFT JOIN {quote(model._meta.db_table)} {alias} ON {pk} = {on} "

    person_cols = [col("p", Person, f) for f in _LOOKUP_PERSON_FIELDS]
    employer_cols = [col("e", Company, f) for f in _LOOKUP_COMPANY_FIELDS]
    company_cols = [col("c", Company, f) for f in _LOOKUP_COMPANY_FIELDS]
    order = [col("p", Person, f) for f in ("last_name", "first_name", "id")]
    order += [col("c", Company, f) for f in ("name", "id")]
    return (
        f"SELECT {', '.join(person_cols + employer_cols + company_cols)} "
        f"FROM {quote(Phone._meta.db_table)} ph "
        + join(Person, "p", col("ph", Phone, "person"))
        + join(Company, "e", col("p", Person, "company"))
        + join(Company, "c", col("ph", Phone, "company"))
        + f"WHERE {col('ph', Phone, 'e164')} = %s ORDER BY {', '.join(order)}"
    )


def lookup_by_phone(text: str, *, actor) -> dict:
    """People and companies the actor can see that have the number ``text``, in any form.

    Answers ``{"e164": the number understood or None, "people": [...], "companies": [...]}``.

    At most ``LOOKUP_LIMIT`` of each, in their list order. Caller ID asks this for every
    incoming call, most often about a number nobody has: that costs one indexed query.
    The candidates (every record having the number) are narrowed by
    ``record_in_scope``, the Python twin of ``visible_to``: nothing outside the actor's
    view scope is returned. A person's employer comes with it (its id and name, as
    ``select_related`` would give), marked visible or not like every read model's links
    (``core.types.mark_links_in_scope``): ``person.visible_company`` and
    ``person.company`` are None when the actor may not see it.
    """
    e164 = phones.to_e164(text)
    if e164 is None:
        return {"e164": None, "people": [], "companies": []}
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(connection.vendor), [e164])
        rows = cursor.fetchall()
    db = connection.alias
    people: dict[int, Person] = {}
    companies: dict[int, Company] = {}
    split = len(_LOOKUP_PERSON_FIELDS)
    company_at = split + len(_LOOKUP_COMPANY_FIELDS)
    for row in rows:
        if row[0] is not None:
            if row[0] in people or len(people) >= LOOKUP_LIMIT:
                continue
            person = Person.from_db(db, _LOOKUP_PERSON_FIELDS, row[:split])
            if not record_in_scope(actor, person, Action.VIEW):
                continue
            employer = None
            if person.company_id is not None:
                employer = Company.from_db(db, _LOOKUP_COMPANY_FIELDS, row[split:company_at])
            _EMPLOYER.set_cached_value(person, employer)
            people[person.pk] = person
        elif row[company_at] is not None:
            if row[company_at] in companies or len(companies) >= LOOKUP_LIMIT:
                continue
            company = Company.from_db(db, _LOOKUP_COMPANY_FIELDS, row[company_at:])
            if record_in_scope(actor, company, Action.VIEW):
                companies[company.pk] = company
    types.mark_links_in_scope(actor, people.values(), ["company"], drop_hidden=True)
    return {"e164": e164, "people": list(people.values()), "companies": list(companies.values())}
