"""The API's schemas of tasks."""

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import DbInt, IsoDate, IsoMoment, LocalTime, PlacedIn, Ref, VersionedIn, ref

from .entry_schemas import LINKS, LinkIn, LinkOut
from .models import Task

Status = Literal["open", "in_progress", "done", "cancelled"]
PRIORITY = "1 low, 2 normal, 3 high, 4 urgent"


class TaskIn(PlacedIn):
    title: str
    description: str = ""
    status: Status = "open"
    priority: DbInt = Field(Task.Priority.NORMAL, ge=1, le=4, description=PRIORITY)
    due_date: IsoDate | None = None
    due_time: LocalTime | None = Field(None, description="Needs a due date")
    remind_at: IsoMoment | None = Field(
        None,
        description="When the assignee gets a reminder (without an offset: the server's zone)",
    )
    owner_id: DbInt | None = Field(None, description="The assignee; defaults to you")
    links: list[LinkIn] | None = Field(None, description=LINKS)


class TaskPatch(PlacedIn, VersionedIn):
    title: str = ""
    description: str = ""
    status: Status = "open"
    priority: DbInt = Field(Task.Priority.NORMAL, ge=1, le=4, description=PRIORITY)
    due_date: IsoDate | None = None
    due_time: LocalTime | None = None
    remind_at: IsoMoment | None = None
    owner_id: DbInt | None = Field(None, description="The assignee")
    links: list[LinkIn] | None = Field(None, description=LINKS)


class TaskOut(Schema):
    id: int
    title: str
    description: str
    status: Status
    priority: int = Field(description=PRIORITY)
    due_date: datetime.date | None
    due_time: LocalTime | None
    remind_at: datetime.datetime | None
    overdue: bool = Field(description="Still to do, and its day or moment has passed")
    completed_at: datetime.datetime | None
    created_by: Ref | None = Field(description="Who set the task")
    links: list[LinkOut] | None = Field(
        description="The records it is about that you may see; only in one record's answer"
    )
    owner: Ref | None = Field(description="The assignee")
    department: Ref | None
    custom: dict[str, Any] = Field(description="Custom field values you may see, by API name")
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def task_out(task: Task) -> dict:
    return {
        "id": task.pk,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "due_date": task.due_date,
        "due_time": task.due_time,
        "remind_at": task.remind_at,
        "overdue": task.is_overdue,
        "completed_at": task.completed_at,
        "created_by": ref(task.created_by),
        "links": getattr(task, "timeline_links", None),
        "owner": ref(task.owner),
        "department": ref(task.department),
        "version": task.version,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }
