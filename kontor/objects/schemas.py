"""The API's schemas of a custom object's record (shared by every custom type)."""

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from kontor.core.api import PlacedIn, Ref, VersionedIn


class RecordIn(PlacedIn):
    name: str
    notes: str = ""


class RecordPatch(PlacedIn, VersionedIn):
    name: str = ""
    notes: str = ""


class RecordOut(Schema):
    id: int
    type: str = Field(description="The type's API name")
    name: str
    notes: str
    owner: Ref | None
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
