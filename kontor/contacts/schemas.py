"""API schemas of people and companies: what a client may send and what it gets back.

Input schemas forbid unknown keys, so a client that sends ``version`` on create, ``id``
or ``created_at`` learns at once (422) that those are not writable. Owner and
department are writable; the services decide whether the actor may place a record there.
"""

import datetime
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from kontor.core.api import DbInt, IsoDate, Page

from .models import Address, Email, Phone
from .queries import COMPANY_SORTS, PERSON_SORTS

PhoneKind = Literal[tuple(Phone.Kind.values)]
EmailKind = Literal[tuple(Email.Kind.values)]
AddressKind = Literal[tuple(Address.Kind.values)]
PersonSort = Literal[tuple(PERSON_SORTS)]
CompanySort = Literal[tuple(COMPANY_SORTS)]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


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


class Ref(Schema):
    """A linked record or user, by id and display name."""

    id: int
    name: str


# -- people ----------------------------------------------------------------------------------


class PersonFields(StrictIn):
    """Every writable field of a person; on PATCH, absent keys stay as they are."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    position: str = ""
    company_id: DbInt | None = None
    birthday: IsoDate | None = None
    source: str = ""
    notes: str = ""
    owner_id: DbInt | None = Field(None, description="Defaults to you on create")
    department_id: DbInt | None = Field(None, description="Defaults to your department on create")
    phones: list[PhoneIn] = []
    emails: list[EmailIn] = []
    addresses: list[AddressIn] = []
    family: list[FamilyMemberIn] = Field([], description="Replaces the whole list when sent")
    important_dates: list[ImportantDateIn] = []
    tags: list[str] = []


class PersonCreate(PersonFields):
    first_name: str


class PersonPatch(PersonFields):
    version: DbInt | None = Field(
        None, description="The version you edited; or send it as the If-Match header"
    )


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
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PersonPage(Page):
    items: list[PersonOut]


class PersonFilters(Schema):
    q: str = Field("", description="Name, email, phone in any written form, company")
    tag: str = ""
    owner_id: DbInt | None = None
    department_id: DbInt | None = None
    company_id: DbInt | None = None
    mine: bool = Field(False, description="Only the records you own")
    sort: PersonSort = "name"


# -- companies -------------------------------------------------------------------------------


class CompanyFields(StrictIn):
    name: str = ""
    legal_name: str = ""
    tax_id: str = ""
    industry: str = ""
    website: str = ""
    notes: str = ""
    owner_id: DbInt | None = Field(None, description="Defaults to you on create")
    department_id: DbInt | None = Field(None, description="Defaults to your department on create")
    phones: list[PhoneIn] = []
    emails: list[EmailIn] = []
    addresses: list[AddressIn] = []
    tags: list[str] = []


class CompanyCreate(CompanyFields):
    name: str


class CompanyPatch(CompanyFields):
    version: DbInt | None = Field(
        None, description="The version you edited; or send it as the If-Match header"
    )


class CompanyDraft(CompanyFields):
    exclude_id: DbInt | None = Field(None, description="The record being edited, if any")


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
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CompanyPage(Page):
    items: list[CompanyOut]


class CompanyFilters(Schema):
    q: str = Field("", description="Name, legal name, tax id, email, phone")
    tag: str = ""
    owner_id: DbInt | None = None
    department_id: DbInt | None = None
    industry: str = ""
    mine: bool = Field(False, description="Only the records you own")
    sort: CompanySort = "name"


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
