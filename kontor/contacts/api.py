"""The contacts' own API routes: phone lookup (caller ID) and the duplicates check.

Everything else about people and companies (list, get, create, update, delete, export,
history, attachments) comes from the engine: ``kontor.core.api_records`` builds it from
their registered types (``kontor.contacts.types``).
"""

from ninja import Router

from kontor.core.api_records import add_record_routes

from . import services
from .schemas import CompanyDraft, DuplicateOut, PersonDraft, PhoneLookupOut, ref
from .types import COMPANY, PERSON

router = Router(tags=["contacts"])


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
                "company": ref(p.visible_company),
            }
            for p in found["people"]
        ],
        "companies": [ref(c) for c in found["companies"]],
    }


def _duplicates_route(record_type, draft_schema) -> None:
    @router.post(
        f"/{record_type.path}/duplicates",
        response=list[DuplicateOut],
        operation_id=f"{record_type.name}_duplicates",
    )
    def likely_duplicates(request, payload: draft_schema):
        """Records that look like this would-be record: warn before saving.

        The visible ones by id and name; if one you cannot see looks like it, one more
        entry with ``hidden: true``, no id, and the warning as its name.
        """
        data = payload.model_dump(exclude_unset=True)
        exclude_id = data.pop("exclude_id", None)
        model = record_type.model
        found = services.likely_duplicates(
            data, actor=request.user, model=model, exclude_id=exclude_id
        )
        answer = [{"id": obj.pk, "name": str(obj), "hidden": False} for obj in found]
        if services.hidden_duplicate_exists(
            data, actor=request.user, model=model, exclude_id=exclude_id
        ):
            answer.append({"id": None, "name": str(services.HIDDEN_DUPLICATE), "hidden": True})
        return answer


_duplicates_route(PERSON, PersonDraft)
_duplicates_route(COMPANY, CompanyDraft)
add_record_routes(router, PERSON)
add_record_routes(router, COMPANY)
