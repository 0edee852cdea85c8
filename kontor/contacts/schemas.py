"""API schemas of people and companies: what a client may send and what it gets back,
and how a record fills its output schema.

Input schemas forbid unknown keys, so a client that sends ``version`` on create, ``id``
or ``created_at`` learns at once (422) that those are not writable. Owner and
department are writable; the services decide whether the actor may place a record there.
"""

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import DbInt, IsoDate, PlacedIn, Ref, StrictIn, VersionedIn, ref

from .models import Address, Company, Email, Person, Phone

PhoneKind = Literal[tuple(Phone.Kind.values)]
EmailKind = Literal[tuple(Email.Kind.values)]
AddressKind = Literal[tuple(Address.Kind.values)]


# -- nested ----------------------------------------------------------------------------------


class PhoneIn(StrictIn):
    number: str = Field(description="As typed; stored beside its E.164 form")
    kind: PhoneKind = Phone.Kind.MOBILE.value


class PhoneOut(Schema):
    raw: str
    e164: str = Field(description="The main number, without the extension")
    extension: str = Field(description='Typed after the number ("доб. 105"); "" if none')
    display: str = Field(description="International form with the extension, translated")
    kind: str


class EmailIn(StrictIn):
    address: str
    kind: EmailKind = Email.Kind.WORK.value


class EmailOut(Schema):
    address: str
    kind: str


class AddressIn(StrictIn):
    kind: AddressKind = Address.Kind.OFFICE.value
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = Field("", description="ISO 3166 two-letter code")


class AddressOut(Schema):
    kind: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str


class FamilyMemberIn(StrictIn):
    relation: str = ""
    name: str
    birthday: IsoDate | None = None


class FamilyMemberOut(Schema):
    relation: str
    name: str
    birthday: datetime.date | None


class ImportantDateIn(StrictIn):
    label: str
    date: IsoDate


class ImportantDateOut(Schema):
    label: str
    date: datetime.date


# -- people ----------------------------------------------------------------------------------


class ListPhone(Schema):
    e164: str
    extension: str
    display: str = Field(description="International form with the extension, translated")
    kind: str


class ContactListItem(Schema):
    """What a list row shows; the whole record is at ``/<type>/{id}``."""

    id: int
    owner: Ref | None
    department: Ref | None
    phone: ListPhone | None = Field(description="The first phone")
    email: str | None = Field(description="The first email")
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    updated_at: datetime.datetime


class PersonFields(PlacedIn):
    """Every writable field of a person; on PATCH, absent keys stay as they are."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    position: str = ""
    company_id: DbInt | None = None
    birthday: IsoDate | None = None
    source: str = ""
    notes: str = ""
    phones: list[PhoneIn] = []
    emails: list[EmailIn] = []
    addresses: list[AddressIn] = []
    family: list[FamilyMemberIn] = Field([], description="Replaces the whole list when sent")
    important_dates: list[ImportantDateIn] = []
    tags: list[str] = []


class PersonCreate(PersonFields):
    first_name: str


class PersonPatch(PersonFields, VersionedIn):
    pass


class PersonDraft(PersonFields):
    """A would-be person, checked for likely duplicates before it is saved."""

    exclude_id: DbInt | None = Field(None, description="The record being edited, if any")


class PersonOut(Schema):
    id: int
    first_name: str
    middle_name: str
    last_name: str
    full_name: str
    position: str
    company: Ref | None = Field(description="Null also when the company is outside your scope")
    birthday: datetime.date | None
    source: str
    notes: str
    owner: Ref | None
    department: Ref | None
    phones: list[PhoneOut]
    emails: list[EmailOut]
    addresses: list[AddressOut]
    family: list[FamilyMemberOut]
    important_dates: list[ImportantDateOut]
    tags: list[str]
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


# -- companies -------------------------------------------------------------------------------


class PersonListItem(ContactListItem):
    first_name: str
    middle_name: str
    last_name: str
    full_name: str
    position: str
    company: Ref | None = Field(description="Null also when the company is outside your scope")


class CompanyFields(PlacedIn):
    name: str = ""
    legal_name: str = ""
    tax_id: str = ""
    industry: str = ""
    website: str = ""
    notes: str = ""
    phones: list[PhoneIn] = []
    emails: list[EmailIn] = []
    addresses: list[AddressIn] = []
    tags: list[str] = []


class CompanyCreate(CompanyFields):
    name: str


class CompanyPatch(CompanyFields, VersionedIn):
    pass


class CompanyDraft(CompanyFields):
    exclude_id: DbInt | None = Field(None, description="The record being edited, if any")


class CompanyListItem(ContactListItem):
    name: str
    legal_name: str
    industry: str


class CompanyOut(Schema):
    id: int
    name: str
    legal_name: str
    tax_id: str
    industry: str
    website: str
    notes: str
    owner: Ref | None
    department: Ref | None
    phones: list[PhoneOut]
    emails: list[EmailOut]
    addresses: list[AddressOut]
    tags: list[str]
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


# -- lookup and duplicates -------------------------------------------------------------------


class PersonMatch(Schema):
    id: int
    name: str
    position: str
    company: Ref | None


class PhoneLookupOut(Schema):
    e164: str | None = Field(description="The number as understood; null if it is not one")
    people: list[PersonMatch]
    companies: list[Ref]


class DuplicateOut(Schema):
    id: int | None = Field(description="Null for a record you cannot see")
    name: str = Field(description="The record's name, or for a hidden one the warning to show")
    hidden: bool = Field(
        False, description="A similar record exists that you cannot see: ask an administrator"
    )


# -- output ----------------------------------------------------------------------------------


def _common(obj, lists: dict) -> dict:
    return {
        "id": obj.pk,
        "owner": ref(obj.owner),
        "department": ref(obj.department),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        **lists,
    }


def person_out(person: Person, lists: dict) -> dict:
    """The whole person; ``lists``: its child lists as ``queries.record_lists`` reads them."""
    return {
        **_common(person, lists),
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "position": person.position,
        # Annotated by queries.people: the employer only if the reader can see it.
        "company": ref(person.visible_company),
        "birthday": person.birthday,
        "source": person.source,
        "notes": person.notes,
    }


def company_out(company: Company, lists: dict) -> dict:
    return {
        **_common(company, lists),
        "name": company.name,
        "legal_name": company.legal_name,
        "tax_id": company.tax_id,
        "industry": company.industry,
        "website": company.website,
        "notes": company.notes,
    }
