"""/api/v1/people and /api/v1/companies: schema in, service or query call, schema out.

Both resources share one implementation (``add_contact_routes``), configured by a
``ContactResource``: reads go through ``kontor.contacts.queries``, writes through
``kontor.contacts.services``. Lists use limit/offset and answer ``{items, count, limit,
offset}``; updates need the version the client edited (body ``version`` or ``If-Match``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.http import HttpResponse
from ninja import Query, Router, Status

from kontor.core.access import Action, may, object_type_of
from kontor.core.api import (
    MAX_LIMIT,
    MAX_OFFSET,
    DbInt,
    ErrorOut,
    etag,
    expected_version,
    page,
)
from kontor.core.api_routes import add_attachment_routes
from kontor.core.errors import PermissionDenied

from . import exports, queries, services
from .models import Company, Person
from .queries import ListFilters
from .schemas import (
    CompanyCreate,
    CompanyDraft,
    CompanyFilters,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    DuplicateOut,
    PersonCreate,
    PersonDraft,
    PersonFilters,
    PersonOut,
    PersonPage,
    PersonPatch,
    PhoneLookupOut,
)

router = Router(tags=["contacts"])

CONTACT_POINTS = ("phones", "emails", "addresses", "tags")


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def _contact_points(obj) -> dict:
    return {
        "phones": [
            {
                "raw": p.raw,
                "e164": p.e164,
                "extension": p.extension,
                "display": p.display,
                "kind": p.kind,
            }
            for p in obj.phones.all()
        ],
        "emails": [{"address": e.address, "kind": e.kind} for e in obj.emails.all()],
        "addresses": [
            {
                "kind": a.kind,
                "street": a.street,
                "city": a.city,
                "region": a.region,
                "postal_code": a.postal_code,
                "country": a.country,
            }
            for a in obj.addresses.all()
        ],
        "tags": [t.name for t in obj.tags.all()],
    }


def _common(obj) -> dict:
    return {
        "id": obj.pk,
        "owner": _ref(obj.owner),
        "department": _ref(obj.department),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        **_contact_points(obj),
    }


def _person_out(person: Person) -> dict:
    return {
        **_common(person),
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "position": person.position,
        # Annotated by queries.people: the employer only if the reader can see it.
        "company": _ref(person.company) if person.company_visible else None,
        "birthday": person.birthday,
        "source": person.source,
        "notes": person.notes,
        "family": [
            {"relation": m.relation, "name": m.name, "birthday": m.birthday}
            for m in person.family.all()
        ],
        "important_dates": [
            {"label": d.label, "date": d.date} for d in person.important_dates.all()
        ],
    }


def _company_out(company: Company) -> dict:
    return {
        **_common(company),
        "name": company.name,
        "legal_name": company.legal_name,
        "tax_id": company.tax_id,
        "industry": company.industry,
        "website": company.website,
        "notes": company.notes,
    }


@dataclass(frozen=True)
class ContactResource:
    """Everything that differs between the people and the companies endpoints."""

    model: type
    path: str
    list_query: Callable
    create: Callable
    update: Callable
    delete: Callable
    to_out: Callable[[object], dict]
    prefetch: tuple[str, ...]
    export_columns: tuple
    create_schema: type
    patch_schema: type
    draft_schema: type
    out_schema: type
    page_schema: type
    filters_schema: type

    @property
    def name(self) -> str:
        return self.model._meta.model_name

    def read(self, user, filters: ListFilters | None = None, *, action: str = Action.VIEW):
        qs = self.list_query(user, filters, action=action)
        if action == Action.VIEW:
            # Exports read contact points per chunk themselves (see exports.contact_points).
            qs = qs.prefetch_related(*self.prefetch)
        return qs

    def one(self, user, pk: int):
        """One record through the list query (so the same scope and annotations), or 404."""
        return self.read(user).get_visible(user, pk)


PEOPLE = ContactResource(
    model=Person,
    path="/people",
    list_query=queries.people,
    create=services.create_person,
    update=services.update_person,
    delete=services.delete_person,
    to_out=_person_out,
    prefetch=(*CONTACT_POINTS, "family", "important_dates"),
    export_columns=exports.PERSON_COLUMNS,
    create_schema=PersonCreate,
    patch_schema=PersonPatch,
    draft_schema=PersonDraft,
    out_schema=PersonOut,
    page_schema=PersonPage,
    filters_schema=PersonFilters,
)
COMPANIES = ContactResource(
    model=Company,
    path="/companies",
    list_query=queries.companies,
    create=services.create_company,
    update=services.update_company,
    delete=services.delete_company,
    to_out=_company_out,
    prefetch=CONTACT_POINTS,
    export_columns=exports.COMPANY_COLUMNS,
    create_schema=CompanyCreate,
    patch_schema=CompanyPatch,
    draft_schema=CompanyDraft,
    out_schema=CompanyOut,
    page_schema=CompanyPage,
    filters_schema=CompanyFilters,
)


def add_contact_routes(r: Router, res: ContactResource) -> None:
    """List, export, duplicates, get, create, update, delete and attachments of ``res``."""
    name = res.name

    def filters_of(sent) -> ListFilters:
        return ListFilters(**sent.model_dump())

    @r.get(res.path, response=res.page_schema, operation_id=f"{name}_list")
    def list_records(
        request,
        filters: Query[res.filters_schema],
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ):
        result = page(res.read(request.user, filters_of(filters)), limit, offset)
        result["items"] = [res.to_out(obj) for obj in result["items"]]
        return result

    @r.get(f"{res.path}/export", operation_id=f"{name}_export", response={200: None, 403: ErrorOut})
    def export_records(
        request,
        filters: Query[res.filters_schema],
        format: Literal["csv", "xlsx"] = "csv",
    ):
        """The list's rows (same filters and sort, no paging) within your export scope."""
        if not may(request.user, object_type_of(res.model), Action.EXPORT):
            raise PermissionDenied()
        qs = res.read(request.user, filters_of(filters), action=Action.EXPORT)
        respond = exports.xlsx_response if format == "xlsx" else exports.csv_response
        return respond(qs, res.export_columns, stem=res.path.strip("/"))

    @r.post(
        f"{res.path}/duplicates",
        response=list[DuplicateOut],
        operation_id=f"{name}_duplicates",
    )
    def likely_duplicates(request, payload: res.draft_schema):
        """Records that look like this would-be record: warn before saving.

        The visible ones by id and name; if one you cannot see looks like it, one more
        entry with ``hidden: true``, no id, and the warning as its name.
        """
        data = payload.model_dump(exclude_unset=True)
        exclude_id = data.pop("exclude_id", None)
        found = services.likely_duplicates(
            data, actor=request.user, model=res.model, exclude_id=exclude_id
        )
        answer = [{"id": obj.pk, "name": str(obj), "hidden": False} for obj in found]
        if services.hidden_duplicate_exists(
            data, actor=request.user, model=res.model, exclude_id=exclude_id
        ):
            answer.append({"id": None, "name": str(services.HIDDEN_DUPLICATE), "hidden": True})
        return answer

    @r.get(f"{res.path}/{{int:record_id}}", response=res.out_schema, operation_id=f"{name}_get")
    def get_record(request, record_id: int, response: HttpResponse):
        obj = res.one(request.user, record_id)
        response["ETag"] = etag(obj.version)
        return res.to_out(obj)

    @r.post(res.path, response={201: res.out_schema}, operation_id=f"{name}_create")
    def create_record(request, payload: res.create_schema, response: HttpResponse):
        obj = res.create(payload.model_dump(exclude_unset=True), actor=request.user)
        obj = res.one(request.user, obj.pk)
        response["ETag"] = etag(obj.version)
        return Status(201, res.to_out(obj))

    @r.patch(
        f"{res.path}/{{int:record_id}}", response=res.out_schema, operation_id=f"{name}_update"
    )
    def update_record(request, record_id: int, payload: res.patch_schema, response: HttpResponse):
        """Change the sent fields; lists sent replace the whole list. 409 if someone saved first."""
        data = payload.model_dump(exclude_unset=True)
        version = expected_version(request, data.pop("version", None))
        obj = res.one(request.user, record_id)
        res.update(obj, data, actor=request.user, expected_version=version)
        obj = res.one(request.user, record_id)
        response["ETag"] = etag(obj.version)
        return res.to_out(obj)

    @r.delete(f"{res.path}/{{int:record_id}}", response={204: None}, operation_id=f"{name}_delete")
    def delete_record(request, record_id: int, version: DbInt | None = None):
        """Delete the record; with ``version`` (or If-Match), only if nobody changed it since."""
        obj = res.one(request.user, record_id)
        res.delete(
            obj,
            actor=request.user,
            expected_version=expected_version(request, version, required=False),
        )
        return Status(204, None)

    add_attachment_routes(r, res.model, path=res.path)


@router.get("/people/lookup", response=PhoneLookupOut, operation_id="person_lookup_by_phone")
def lookup_by_phone(request, phone: str):
    """Visible people and companies having this number in any written form (caller ID)."""
    found = services.lookup_by_phone(phone, actor=request.user)
    return {
        "e164": found["e164"],
        "people": [
            {
                "id": p.pk,
                "name": p.full_name,
                "position": p.position,
                "company": _ref(p.company),
            }
            for p in found["people"]
        ],
        "companies": [_ref(c) for c in found["companies"]],
    }


add_contact_routes(router, PEOPLE)
add_contact_routes(router, COMPANIES)
