"""The API's schemas of notes, calls and emails (entries on records' timelines)."""

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import DbInt, IsoMoment, PlacedIn, Ref, VersionedIn, ref

from .communication import CALL_FIELDS, EMAIL_FIELDS

Direction = Literal["in", "out"]
Outcome = Literal["planned", "answered", "no_answer", "busy", "voicemail", "failed"]
LINKS = (
    'The records it is about, each {"type": "person", "id": 12} (a type\'s API name: '
    "person, company, task, ...); on update the list replaces the links"
)


class LinkIn(Schema):
    type: str = Field(description="The record type's name: person, company, task, ...")
    id: DbInt


class LinkOut(Schema):
    type: str
    id: int
    name: str


class EntryOut(Schema):
    """What every entry's answer holds beside its own fields."""

    id: int
    links: list[LinkOut] | None = Field(
        description="The records it is about that you may see; only in one record's answer"
    )
    owner: Ref | None
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def entry_out(obj) -> dict:
    return {
        "id": obj.pk,
        "links": getattr(obj, "timeline_links", None),
        "owner": ref(obj.owner),
        "department": ref(obj.department),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
    }


# -- notes -------------------------------------------------------------------------------------


class NoteIn(PlacedIn):
    body: str
    noted_at: IsoMoment | None = Field(None, description="Defaults to now")
    links: list[LinkIn] | None = Field(None, description=LINKS)


class NotePatch(PlacedIn, VersionedIn):
    body: str = ""
    noted_at: IsoMoment | None = None
    links: list[LinkIn] | None = Field(None, description=LINKS)


class NoteOut(EntryOut):
    body: str
    noted_at: datetime.datetime


def note_out(note) -> dict:
    return {**entry_out(note), "body": note.body, "noted_at": note.noted_at}


# -- calls -------------------------------------------------------------------------------------


class CallFields(Schema):
    direction: Direction = "out"
    their_number: str = Field("", description="Kept as E.164 when it parses")
    our_number: str = ""
    started_at: IsoMoment | None = Field(
        None, description="When it took place (or, to make, when planned); defaults to now"
    )
    duration_seconds: DbInt | None = Field(None, ge=0)
    outcome: Outcome = Field("answered", description="planned: a call still to make")
    recording_url: str = Field("", description="http or https")
    summary: str = ""
    links: list[LinkIn] | None = Field(None, description=LINKS)


class CallIn(PlacedIn, CallFields):
    pass


class CallPatch(PlacedIn, CallFields, VersionedIn):
    pass


class CallOut(EntryOut):
    direction: Direction
    their_number: str
    our_number: str
    started_at: datetime.datetime
    duration_seconds: int | None
    outcome: Outcome
    recording_url: str
    summary: str


def call_out(call) -> dict:
    return {**entry_out(call), **{name: getattr(call, name) for name in CALL_FIELDS}}


# -- emails ------------------------------------------------------------------------------------


class EmailMessageFields(Schema):
    direction: Direction = "out"
    from_address: str = ""
    to_addresses: str = Field("", description="Addresses separated by commas")
    cc_addresses: str = ""
    sent_at: IsoMoment | None = Field(None, description="Defaults to now")
    body_text: str = ""
    body_html: str = Field("", description="Sanitised when stored: scripts and styles go")
    message_id: str = ""
    links: list[LinkIn] | None = Field(None, description=LINKS)


class EmailMessageIn(PlacedIn, EmailMessageFields):
    subject: str


class EmailMessagePatch(PlacedIn, EmailMessageFields, VersionedIn):
    subject: str = ""


class EmailMessageOut(EntryOut):
    direction: Direction
    subject: str
    from_address: str
    to_addresses: str
    cc_addresses: str
    sent_at: datetime.datetime
    body_text: str
    body_html: str
    message_id: str


def email_out(email) -> dict:
    return {**entry_out(email), **{name: getattr(email, name) for name in EMAIL_FIELDS}}
