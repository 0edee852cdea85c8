"""People and companies as registered object types: what the generic engine needs to serve them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Lower, Replace, Trim
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core import phones
from kontor.core.access import Action
from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    Filter,
    FilterKind,
    ImportLookup,
    MenuEntry,
    RecordType,
    Verbs,
    select_names,
)

from . import bulk, queries, schemas, services
from .forms import CompanyForm, PersonForm
from .models import Company, Email, Person, Phone

COMPANY_OBJECT_TYPE = Company._meta.label_lower

# -- found by imports --------------------------------------------------------------------------


def _email_key(text: str) -> str:
    return text.strip().lower()  # as ``Email.normalized`` keeps it


def _name_key(text: str) -> str:
    return " ".join(text.split())


# The full name as ``Person.full_name`` spells it: the parts joined by single spaces
# (a missing middle name leaves two, made one); in lower case, so that "olga ray" finds
# Olga Ray (on SQLite, lower() folds ASCII only: other names match as typed or folded).
_FULL_NAME = Lower(Trim(
    Replace(
        Concat(
            F("first_name"), Value(" "), F("middle_name"), Value(" "), F("last_name"),
            output_field=CharField(),
        ),
        Value("  "),
        Value(" "),
    )
))  # fmt: skip

# -- export cells -----------------------------------------------------------------------------


def _joined(items: Iterable) -> str:
    return "; ".join(str(i) for i in items)


def _name(obj) -> str:
    return str(obj) if obj is not None else ""


def _points(kind: str):
    return lambda obj, points: _joined(points[kind])


def _phones(obj, points) -> str:
    # One format for programs: E.164, ";ext=" and the extension (RFC 3966).
    return _joined(
        f"{e164};ext={extension}" if extension else e164
        for _raw, e164, extension in points["phones"]
    )


def _phones_as_typed(obj, points) -> str:
    return _joined(raw for raw, _e164, _extension in points["phones"])


def contact_points(model, ids: list[int]) -> dict[int, dict[str, list]]:
    """Phones (typed, E.164, extension), emails and tag names of ``ids``, in three queries.

    Flat ``values_list`` reads instead of ``prefetch_related``: building a related
    manager per row cost more than the query itself (0.9 ms a row at 100,000 rows).
    """
    link = f"{model._meta.model_name}_id"
    points = {pk: {"phones": [], "emails": [], "tags": []} for pk in ids}
    reads = (
        ("phones", Phone.objects, ("raw", "e164", "extension"), ("position", "id")),
        ("emails", Email.objects, ("address",), ("position", "id")),
        ("tags", model.tags.through.objects, ("tag__name",), ("tag__name",)),
    )
    for kind, manager, fields, ordering in reads:
        for owner_id, *values in (
            manager.filter(**{f"{link}__in": ids}).order_by(*ordering).values_list(link, *fields)
        ):
            points[owner_id][kind].append(values[0] if len(values) == 1 else tuple(values))
    return points


CONTACT_POINT_EXPORT = (
    ExportColumn(_("Phones"), _phones),
    ExportColumn(_("Phones as typed"), _phones_as_typed),
    ExportColumn(_("Emails"), _points("emails")),
)
PLACEMENT_EXPORT = (
    ExportColumn(_("Owner"), lambda obj, points: _name(obj.owner)),
    ExportColumn(_("Department"), lambda obj, points: _name(obj.department)),
    ExportColumn(_("Created"), lambda obj, points: obj.created_at),
)


def first_contact_points(model, ids: list[int]) -> dict[int, dict]:
    """The first phone and the first email of each of ``ids`` (one query each)."""
    link = f"{model._meta.model_name}_id"
    firsts = {pk: {"phone": None, "email": None} for pk in ids}
    phone_rows = (
        Phone.objects.filter(**{f"{link}__in": ids})
        .order_by(link, "position", "id")
        .values_list(link, "raw", "e164", "extension", "kind")
    )
    for owner_id, raw, e164, extension, kind in phone_rows:
        if firsts[owner_id]["phone"] is None:
            display = phones.pretty(e164, extension) or raw
            firsts[owner_id]["phone"] = {
                "e164": e164,
                "extension": extension,
                "display": display,
                "kind": kind,
            }
    email_rows = (
        Email.objects.filter(**{f"{link}__in": ids})
        .order_by(link, "position", "id")
        .values_list(link, "address")
    )
    for owner_id, address in email_rows:
        if firsts[owner_id]["email"] is None:
            firsts[owner_id]["email"] = address
    return firsts


def _first(related: str):
    def first(obj):
        rows = getattr(obj, related).all()
        return rows[0] if rows else None

    return first


# -- the two types ----------------------------------------------------------------------------


class ContactType(RecordType):
    """What people and companies share: contact points, tags, the contacts URLs."""

    namespace = "contacts"
    home_widget = True
    has_tags = True
    list_prefetch = ("phones", "emails", "tags")

    def list_items(self, objs):
        """Each row with its first phone and email, read for the page in two queries
        (no prefetch: building related managers per row cost more than the rows)."""
        firsts = first_contact_points(self.model, [obj.pk for obj in objs])
        return [
            {
                **self.list_row(obj),
                "id": obj.pk,
                "owner": schemas.ref(obj.owner),
                "department": schemas.ref(obj.department),
                **firsts[obj.pk],
                "version": obj.version,
                "updated_at": obj.updated_at,
            }
            for obj in objs
        ]

    def tags_in_use(self, user):
        return queries.tags_in_use(user, self.model)

    def list_links(self, user):
        # The duplicate finder (kontor.dedup) reads people and companies alike.
        return [(_("Duplicates"), f"{reverse('dedup:list')}?type={self.name}")]

    def duplicate_warnings(self, data, *, actor):
        warnings = {}
        if duplicates := services.likely_duplicates(data, actor=actor, model=self.model):
            warnings["duplicates"] = duplicates
        if services.hidden_duplicate_exists(data, actor=actor, model=self.model):
            warnings["hidden_duplicate"] = services.HIDDEN_DUPLICATE
        return warnings

    def export_extra(self, ids):
        return contact_points(self.model, ids)

    def tail_columns(self) -> tuple[Column, ...]:
        return (
            Column("phone", _("Phone"), CellKind.PHONE, _first("phones")),
            Column("email", _("Email"), CellKind.EMAIL, _first("emails")),
            Column("owner", _("Owner"), CellKind.TEXT, lambda obj: obj.owner or ""),
            Column("tags", _("Tags"), CellKind.TAGS, lambda obj: obj.tags.all()),
        )


def _people_at_company(qs, user, company_id):
    # A hidden company filters like an unknown one: to nothing.
    visible = Company.objects.visible_to(user).filter(pk=company_id).values("pk")
    return qs.filter(company_id__in=visible)


def _industries(user):
    return (
        Company.objects.visible_to(user)
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )


class PersonType(ContactType):
    model = Person
    verbs = Verbs(services.create_person, services.update_person, services.delete_person)
    name = "person"
    path = "people"
    singular = _("person")
    plural = _("people")
    menu = MenuEntry(_("People"), order=10)
    sorts = queries.PERSON_SORTS
    filters = (
        Filter(
            "company_id",
            _("Company"),
            FilterKind.RECORD,
            _people_at_company,
            target="company",
            description="People of this company (none if you cannot see it)",
        ),
    )
    profile_template = "contacts/_person_profile.html"
    subtitle_template = "contacts/_person_subtitle.html"
    form_template = "contacts/_person_fields.html"
    form_class = PersonForm
    initial_fields = ("company_id",)
    # A company's timeline shows its people's entries too.
    timeline_parent_fields = ("company_id",)
    hidden_name = _("a person you cannot see")
    unknown_text = _("Unknown person.")
    # A deal's or a task's row names its client by an email or the full name; an
    # import never creates a person it cannot find.
    import_lookups = (
        ImportLookup("email", _("email"), "emails__normalized", _email_key),
        ImportLookup("name", _("full name"), _FULL_NAME, _name_key),
    )
    new_label = _("New person")
    search_placeholder = _("Search name, email, phone…")
    empty_title = _("No people yet")
    first_label = _("Add the first person")
    empty_text = _("Add the people you work with: their phones, emails and whose client they are.")
    search = {
        "label": _("People"),
        "ordering": ("last_name", "first_name", "id"),
        "code": 1,
        "subtitle": lambda person: person.position,
        "match_fields": queries.person_match_fields,
        "prepare_hits": queries.people_hits,
        # The employer's name is not in a person's own document: a reader who cannot
        # see the company must not find its people by its name.
        "links": ("company",),
        "document_reads": ("phones", "emails"),
    }

    def timeline_parents(self, obj):
        return [(COMPANY_OBJECT_TYPE, obj.company_id)] if obj.company_id else []

    @property
    def columns(self):
        return (
            Column("name", pgettext_lazy("person", "Name"), CellKind.TITLE, str, sort="name"),
            Column(
                "company",
                _("Company"),
                CellKind.RECORD,
                lambda person: person.visible_company,
                sort="company",
            ),
            *self.tail_columns(),
        )

    export_formats = ("csv", "xlsx", "vcf")

    def vcard(self, obj, extra) -> str:
        from .vcard import person_vcard

        return person_vcard(obj, extra)

    export_columns = (
        ExportColumn(_("ID"), lambda p, points: p.pk),
        ExportColumn(_("First name"), lambda p, points: p.first_name),
        ExportColumn(_("Middle name"), lambda p, points: p.middle_name),
        ExportColumn(_("Last name"), lambda p, points: p.last_name),
        ExportColumn(_("Position"), lambda p, points: p.position),
        # The employer's name only when the company itself is visible (marked by queries).
        ExportColumn(_("Company"), lambda p, points: _name(p.visible_company)),
        *CONTACT_POINT_EXPORT,
        ExportColumn(_("Birthday"), lambda p, points: p.birthday),
        ExportColumn(_("Tags"), _points("tags")),
        ExportColumn(_("Source"), lambda p, points: p.source),
        *PLACEMENT_EXPORT,
    )

    out_schema = schemas.PersonOut
    create_schema = schemas.PersonCreate
    patch_schema = schemas.PersonPatch
    list_schema = schemas.PersonListItem

    def list_row(self, obj):
        return {
            "first_name": obj.first_name,
            "middle_name": obj.middle_name,
            "last_name": obj.last_name,
            "full_name": obj.full_name,
            "position": obj.position,
            "company": schemas.ref(obj.visible_company),
        }

    search_description = "Name, email, phone in any written form, company"

    def to_out(self, obj):
        return schemas.person_out(obj, queries.record_lists(Person, obj.pk, queries.PERSON_LISTS))

    def base_queryset(self, user, action, *, sorted_page=False):
        return queries.people_base(user, action, sorted_page=sorted_page)

    def sorts_for(self, user):
        return queries.person_sorts(user)

    def one(self, user, pk, *, action=Action.VIEW):
        return queries.person(user, pk, action=action)

    def api_one(self, user, pk):
        return queries.person_alone(user, pk)

    def row_subtitle(self, obj):
        return obj.position

    def importer(self, actor):
        return bulk.PersonImporter(self, actor)


class CompanyType(ContactType):
    model = Company
    verbs = Verbs(
        services.create_company,
        services.update_company,
        services.delete_company,
        delete_many=services.delete_companies,
    )
    name = "company"
    path = "companies"
    singular = _("company")
    plural = _("companies")
    menu = MenuEntry(_("Companies"), order=20)
    sorts = queries.COMPANY_SORTS
    filters = (
        Filter(
            "industry",
            _("Industry"),
            FilterKind.CHOICE,
            lambda qs, user, value: qs.filter(industry__iexact=value),
            options=_industries,
        ),
    )
    profile_template = "contacts/_company_profile.html"
    subtitle_template = "contacts/_company_subtitle.html"
    form_template = "contacts/_company_fields.html"
    form_class = CompanyForm
    hidden_name = _("a company you cannot see")
    unknown_text = _("Unknown company.")
    # Created by its name (with the row's tax id) when an import does not find it.
    import_lookups = (
        ImportLookup("tax_id", _("tax id"), "tax_id"),
        ImportLookup("name", _("name"), "name", creates=True),
    )
    new_label = _("New company")
    search_placeholder = _("Search name, tax id, email, phone…")
    empty_title = _("No companies yet")
    first_label = _("Add the first company")
    empty_text = _("Add the companies you sell to or buy from.")
    search = {
        "label": _("Companies"),
        "ordering": ("name", "id"),
        "code": 2,
        "subtitle": lambda company: company.industry,
        "match_fields": queries.company_match_fields,
        "prepare_hits": queries.company_hits,
        "document_reads": ("phones", "emails"),
    }

    @property
    def columns(self):
        return (
            Column("name", _("Name"), CellKind.TITLE, str, sort="name"),
            Column("industry", _("Industry"), CellKind.TEXT, lambda c: c.industry, sort="industry"),
            *self.tail_columns(),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda c, points: c.pk),
        ExportColumn(_("Name"), lambda c, points: c.name),
        ExportColumn(_("Legal name"), lambda c, points: c.legal_name),
        ExportColumn(_("Tax id"), lambda c, points: c.tax_id),
        ExportColumn(_("Industry"), lambda c, points: c.industry),
        ExportColumn(_("Website"), lambda c, points: c.website),
        *CONTACT_POINT_EXPORT,
        ExportColumn(_("Tags"), _points("tags")),
        *PLACEMENT_EXPORT,
    )

    out_schema = schemas.CompanyOut
    list_schema = schemas.CompanyListItem

    def list_row(self, obj):
        return {"name": obj.name, "legal_name": obj.legal_name, "industry": obj.industry}

    create_schema = schemas.CompanyCreate
    patch_schema = schemas.CompanyPatch
    search_description = "Name, legal name, tax id, email, phone"

    def to_out(self, obj):
        lists = queries.record_lists(Company, obj.pk, queries.COMPANY_LISTS)
        return schemas.company_out(obj, lists)

    def base_queryset(self, user, action, *, sorted_page=False):
        qs = Company.objects.visible_to(user, action, sorted_page=sorted_page)
        return select_names(qs, "owner", "department")

    def one(self, user, pk, *, action=Action.VIEW):
        return queries.company(user, pk, action=action)

    def api_one(self, user, pk):
        return queries.company_alone(user, pk)

    def row_subtitle(self, obj):
        return obj.legal_name if obj.legal_name != obj.name else ""

    def importer(self, actor):
        return bulk.ContactImporter(self, actor)


PERSON = PersonType()
COMPANY = CompanyType()
