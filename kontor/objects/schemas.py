"""The API's schemas of a custom object's record (shared by every custom type)."""

import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kontor.core.api import DbInt, Ref


class RecordIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    notes: str = ""
    owner_id: DbInt | None = Field(None, description="Defaults to you on create")
    department_id: DbInt | None = Field(None, description="Defaults to your department")
    custom: dict[str, Any] = Field({}, description="Custom field values by API name")


class RecordPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    notes: str = ""
    owner_id: DbInt | None = None
    department_id: DbInt | None = None
    custom: dict[str, Any] = Field({}, description="Custom field values; a name left out stays")
    version: DbInt | None = Field(None, description="The version you edited; or If-Match")


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
