"""What tests need to know of each registered record type beyond the registry: sample data.

The registry says everything generic about a type (paths, queries, services, columns);
it cannot say what a valid record of it looks like. A ``Sample`` does, once per type, for
the standard tests (``tests/utils/standard.py``) and the permission matrix alike. Every
record type in ``kontor.core.types.record_types()`` needs one: ``sample_for`` fails
naming a type that has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.urls import reverse

from kontor.core.types import RecordType

from .clients import contains_hit


@dataclass(frozen=True)
class Sample:
    """Sample input of one record type.

    ``mark`` is a word unique to the test ("zq3p"): ``data`` and ``form`` put it where a
    user would search for the record (its name), so the mark is also the search term.
    """

    data: Callable[[str], dict]  # service and API create input carrying ``mark``
    form: Callable[[str], dict]  # the create form's POST for the same record
    marker_field: str  # the model field holding the mark: finds what a channel created
    change: tuple[str, object]  # one update (field, value): API body, form field, model
    # A create input with one fault, merged over ``data``, and the field the error names.
    invalid: tuple[dict, str]
    # The same fault in the form, merged over ``form``, and the input the message is
    # beside; the re-shown form must keep every value typed.
    invalid_form: tuple[dict, str]
    # Read channels of the type's own (beyond the engine's), tried by the permission
    # matrix: name -> (record, mark, api client, browser) -> did the record come out?
    view_channels: dict[str, Callable] = field(default_factory=dict)


# -- contacts -------------------------------------------------------------------------------


def _phone_lookup(record, mark, api, ui) -> bool:
    found = api.get("/api/v1/people/lookup", {"phone": record.phones.first().raw})
    return found.status_code == 200 and contains_hit(found.json(), record)


def _duplicates(path: str):
    def check(record, mark, api, ui) -> bool:
        draft = {"emails": [{"address": record.emails.first().address}]}
        found = api.post(f"/api/v1/{path}/duplicates", draft, content_type="application/json")
        return found.status_code == 200 and any(hit["id"] == record.pk for hit in found.json())

    return check


def _company_autocomplete(record, mark, api, ui) -> bool:
    options = ui.get(reverse("contacts:company_autocomplete"), {"q": mark})
    return options.status_code == 200 and f'data-ac-id="{record.pk}"' in options.content.decode()


def _contact_points(phone: str, email: str) -> dict:
    return {"phones": [{"number": phone}], "emails": [{"address": email}]}


def _contact_fields(phone: str, email: str) -> dict:
    return {
        "phones-0-kind": "mobile",
        "phones-0-number": phone,
        "emails-0-kind": "work",
        "emails-0-address": email,
    }


def _person_phone(mark: str) -> str:
    return f"+7 916 5{len(mark):02d} 11 22"


def _company_phone(mark: str) -> str:
    return f"+7 495 6{len(mark):02d} 33 44"


CONTACT_CHANGE = ("notes", "Changed by the standard tests")
BAD_PHONE = "12"

PERSON = Sample(
    data=lambda mark: (
        {"first_name": "Matrix", "last_name": mark}
        | _contact_points(_person_phone(mark), f"{mark}@matrix.example")
    ),
    form=lambda mark: (
        {"first_name": "Matrix", "last_name": mark}
        | _contact_fields(_person_phone(mark), f"{mark}@matrix.example")
    ),
    marker_field="last_name",
    change=CONTACT_CHANGE,
    invalid=({"phones": [{"number": BAD_PHONE}]}, "phones.0.number"),
    invalid_form=({"phones-0-number": BAD_PHONE}, "phones-0-number"),
    view_channels={"api.lookup": _phone_lookup, "api.duplicates": _duplicates("people")},
)

COMPANY = Sample(
    data=lambda mark: (
        {"name": mark} | _contact_points(_company_phone(mark), f"office@{mark}.example")
    ),
    form=lambda mark: (
        {"name": mark} | _contact_fields(_company_phone(mark), f"office@{mark}.example")
    ),
    marker_field="name",
    change=CONTACT_CHANGE,
    invalid=({"emails": [{"address": "not-an-email"}]}, "emails.0.address"),
    invalid_form=({"emails-0-address": "not-an-email"}, "emails-0-address"),
    view_channels={
        "api.lookup": _phone_lookup,
        "api.duplicates": _duplicates("companies"),
        "ui.autocomplete": _company_autocomplete,
    },
)

# -- tasks ------------------------------------------------------------------------------------

TASK = Sample(
    data=lambda mark: {"title": mark, "due_date": "2026-12-10", "priority": 3},
    form=lambda mark: {
        "title": mark,
        "description": "About the offer",
        "due_date": "2026-12-10",
        "due_time": "",
        "status": "open",
        "priority": "3",
    },
    marker_field="title",
    change=("description", "Changed by the standard tests"),
    # A time of day without a day: the service's own rule, on every channel.
    invalid=({"due_date": None, "due_time": "10:30:00"}, "due_date"),
    invalid_form=({"due_date": "", "due_time": "10:30"}, "due_date"),
)

# -- the timeline's entries -----------------------------------------------------------------

NOTE = Sample(
    data=lambda mark: {"body": mark},
    form=lambda mark: {"body": mark, "noted_at": ""},
    marker_field="body",
    change=("body", "Changed by the standard tests"),
    invalid=({"body": "  "}, "body"),
    invalid_form=({"body": ""}, "body"),
)

CALL = Sample(
    data=lambda mark: {"their_number": "+49 30 1234567", "summary": mark, "duration_seconds": 95},
    form=lambda mark: {
        "direction": "in",
        "their_number": "030 1234567",
        "outcome": "answered",
        "started_at": "2026-11-30T10:15",
        "duration_seconds": "95",
        "summary": mark,
    },
    marker_field="summary",
    change=("summary", "Changed by the standard tests"),
    invalid=({"recording_url": "javascript:alert(1)"}, "recording_url"),
    invalid_form=({"started_at": "yesterday"}, "started_at"),
)

EMAIL = Sample(
    data=lambda mark: {"subject": mark, "from_address": "anna@example.com", "body_text": "Hi"},
    form=lambda mark: {
        "subject": mark,
        "direction": "in",
        "from_address": "anna@example.com",
        "to_addresses": "sales@bcompany.example",
        "body_text": "Hello",
    },
    marker_field="subject",
    change=("body_text", "Changed by the standard tests"),
    invalid=({"subject": ""}, "subject"),
    invalid_form=({"subject": " "}, "subject"),
)

# -- meetings --------------------------------------------------------------------------------

MEETING = Sample(
    data=lambda mark: {
        "title": mark,
        "start": "2026-12-10T09:00:00",
        "end": "2026-12-10T10:00:00",
        "place": "Room 2",
    },
    form=lambda mark: {
        "title": mark,
        "description": "About the offer",
        "start": "2026-12-10T09:00",
        "end": "2026-12-10T10:00",
        "place": "Room 2",
        "participants_shown": "1",
    },
    marker_field="title",
    change=("description", "Changed by the standard tests"),
    # An end before the start: the service's own rule, on every channel.
    invalid=({"end": "2026-12-10T08:00:00"}, "end"),
    invalid_form=({"end": "2026-12-10T08:00"}, "end"),
)

# -- deals ------------------------------------------------------------------------------------

DEAL = Sample(
    data=lambda mark: {"title": mark, "amount": "12500.00", "currency": "EUR"},
    form=lambda mark: {"title": mark, "amount": "12500.00", "currency": "EUR", "notes": "Roof"},
    marker_field="title",
    change=("notes", "Changed by the standard tests"),
    invalid=({"amount": "-5"}, "amount"),
    invalid_form=({"amount": "-5"}, "amount"),
)

# -- custom objects: a name and notes, the fields every custom object has -----------------

CUSTOM_OBJECT = Sample(
    data=lambda mark: {"name": mark, "notes": "Fenced"},
    form=lambda mark: {"name": mark, "notes": "Fenced"},
    marker_field="name",
    change=("notes", "Changed by the standard tests"),
    invalid=({"name": ""}, "name"),
    invalid_form=({"name": "  "}, "name"),
)

# The example: a site with a client (relation to companies, left empty here: a
# client must be a company its writer sees), a budget (money) and a stage (choice).
CONSTRUCTION_SITE_FIELDS = (
    ("client", "Client", "relation", {"related_type": "contacts.company"}),
    ("budget", "Budget", "money", {"currency": "EUR", "minimum": "0"}),
    (
        "stage",
        "Stage",
        "choice",
        {
            "choices": [
                {"key": "planning", "label": "Planning"},
                {"key": "building", "label": "Building"},
            ]
        },
    ),
)
CONSTRUCTION_SITE = Sample(
    data=lambda mark: {
        "name": mark,
        "notes": "Fenced",
        "custom": {"budget": "125000.50", "stage": "building"},
    },
    form=lambda mark: {
        "name": mark,
        "notes": "Fenced",
        "custom.budget": "125000.50",
        "custom.stage": "building",
    },
    marker_field="name",
    change=("notes", "Changed by the standard tests"),
    invalid=({"custom": {"budget": "-5"}}, "custom.budget"),
    invalid_form=({"custom.budget": "-5"}, "custom.budget"),
)

# -- the catalog -------------------------------------------------------------------------------


def _vat_rate_id() -> int:
    """The default VAT rate, made when the test's database has none (a product needs one)."""
    from kontor.catalog.models import VatRate

    rate = VatRate.objects.filter(is_default=True).first()
    if rate is None:
        rate = VatRate.objects.create(name="Standard", rate=Decimal("19.00"), is_default=True)
    return rate.pk


PRODUCT = Sample(
    data=lambda mark: {
        "sku": f"SKU-{mark}",
        "name": mark,
        "unit": "bag",
        "price": "8.90",
        "currency": "EUR",
        "vat_rate_id": _vat_rate_id(),
    },
    form=lambda mark: {
        "sku": f"SKU-{mark}",
        "name": mark,
        "unit": "bag",
        "price": "8.90",
        "currency": "EUR",
        "vat_rate_id": str(_vat_rate_id()),
        "is_active": "1",
        "description": "Portland cement CEM II, 25 kg",
    },
    marker_field="name",
    change=("description", "Changed by the standard tests"),
    # A negative price: the model's own rule, on every channel.
    invalid=({"price": "-1.00"}, "price"),
    invalid_form=({"price": "eight"}, "price"),
)

SAMPLES: dict[str, Sample] = {
    "contacts.person": PERSON,
    "contacts.company": COMPANY,
    "activities.task": TASK,
    "activities.note": NOTE,
    "activities.call": CALL,
    "activities.emailmessage": EMAIL,
    "calendar.meeting": MEETING,
    "sales.deal": DEAL,
    "catalog.product": PRODUCT,
    "objects.matrix_site": CUSTOM_OBJECT,
}


def sample_for(record_type: RecordType) -> Sample:
    try:
        return SAMPLES[record_type.object_type]
    except KeyError:
        raise LookupError(
            f"No sample data for the record type {record_type.object_type!r}: "
            "add a Sample for it to tests/utils/samples.py"
        ) from None
