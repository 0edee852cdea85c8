"""The API's schemas of tasks."""

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kontor.core.api import (
    DbInt,
    IsoDate,
    IsoMoment,
    LocalTime,
    PlacedIn,
    Ref,
    StrictIn,
    VersionedIn,
    ref,
)

from .entry_schemas import LINKS, LinkIn, LinkOut
from .models import Task

Status = Literal["open", "in_progress", "done", "cancelled"]
PRIORITY = "1 low, 2 normal, 3 high, 4 urgent"
REPEAT = (
    "An RFC 5545 RRULE (FREQ=WEEKLY;BYDAY=MO), daily to yearly; needs a due date. At its "
    "due moment the next copy is made and the rule goes on in it; empty: no repeat"
)
WAITS_ON = (
    "The tasks it waits on (you must see them); it cannot be done before they are. "
    "Those you cannot see are kept. No loops."
)


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
    repeat: str = Field("", description=REPEAT)
    owner_id: DbInt | None = Field(None, description="The assignee; defaults to you")
    links: list[LinkIn] | None = Field(None, description=LINKS)
    waits_on_ids: list[DbInt] = Field([], description=WAITS_ON)


class TaskPatch(PlacedIn, VersionedIn):
    title: str = ""
    description: str = ""
    status: Status = "open"
    priority: DbInt = Field(Task.Priority.NORMAL, ge=1, le=4, description=PRIORITY)
    due_date: IsoDate | None = None
    due_time: LocalTime | None = None
    remind_at: IsoMoment | None = None
    repeat: str = Field("", description=REPEAT)
    owner_id: DbInt | None = Field(None, description="The assignee")
    waits_on_ids: list[DbInt] | None = Field(None, description=WAITS_ON)
    links: list[LinkIn] | None = Field(None, description=LINKS)


class ChecklistCount(Schema):
    done: int
    total: int


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
    repeat: str = Field(description=REPEAT)
    completed_at: datetime.datetime | None
    checklist: ChecklistCount = Field(description="Its checklist's items: done, all")
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


class TaskRef(Ref):
    status: Status
    overdue: bool


class Dependencies(Schema):
    waits_on: list[TaskRef] = Field(description="The tasks it waits on that you can see")
    waits_on_hidden: int = Field(description="How many more it waits on you cannot see")
    blocks: list[TaskRef] = Field(description="The tasks waiting on it that you can see")
    blocks_hidden: int


def task_ref(task: Task) -> dict:
    return {"id": task.pk, "name": task.title, "status": task.status, "overdue": task.is_overdue}


def checklist_count(task: Task) -> dict:
    """Done and all items: the list's annotations (``TaskType.base_queryset``), or counted."""
    if hasattr(task, "checklist_total"):
        return {"done": task.checklist_done, "total": task.checklist_total}
    done = [item.done for item in task.checklist.all()]
    return {"done": sum(done), "total": len(done)}


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
        "repeat": task.repeat,
        "completed_at": task.completed_at,
        "checklist": checklist_count(task),
        "created_by": ref(task.created_by),
        "links": getattr(task, "timeline_links", None),
        "owner": ref(task.owner),
        "department": ref(task.department),
        "version": task.version,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


class ChecklistItemOut(Schema):
    id: int
    text: str
    done: bool
    position: int = Field(description="Its place in the checklist, from 0")


class ChecklistItemIn(StrictIn):
    text: str
    done: bool = False


class ChecklistItemPatch(StrictIn):
    text: str = ""
    done: bool = False
    position: DbInt = Field(0, ge=0, description="Move it here (from 0); the others close up")


def checklist_item_out(item) -> dict:
    return {"id": item.pk, "text": item.text, "done": item.done, "position": item.position}


class CommentOut(Schema):
    id: int
    author: Ref | None
    text: str = Field(description="Plain text")
    created_at: datetime.datetime


class CommentIn(StrictIn):
    text: str


def comment_out(comment) -> dict:
    return {
        "id": comment.pk,
        "author": ref(comment.author),
        "text": comment.text,
        "created_at": comment.created_at,
    }


class WatcherIn(StrictIn):
    user_id: DbInt = Field(description="Yourself (if you see the task), or anyone who sees it")
