"""/api/v1/tasks, /notes, /calls, /emails (every route from the engine) and
/api/v1/notifications (your own)."""

import datetime

from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core.api import MAX_LIMIT, MAX_OFFSET, DbInt, Page, Ref, page, ref
from kontor.core.api_records import add_record_routes

from . import dependencies, notifications, schemas, services
from .entry_types import ENTRY_TYPES
from .types import TASK

router = Router(tags=["tasks"])
add_record_routes(router, TASK)


@router.get(
    "/tasks/{int:record_id}/dependencies",
    response=schemas.Dependencies,
    operation_id="task_dependencies",
)
def task_dependencies(request, record_id: int):
    """What the task waits on and what waits on it (set ``waits_on_ids`` to change it)."""
    shown = dependencies.both_ways(TASK.one(request.user, record_id), request.user)
    return {
        **shown,
        "waits_on": [schemas.task_ref(t) for t in shown["waits_on"]],
        "blocks": [schemas.task_ref(t) for t in shown["blocks"]],
    }


CHECKLIST = "/tasks/{int:record_id}/checklist"
CHECKLIST_ITEM = CHECKLIST + "/{int:item_id}"


@router.get(CHECKLIST, response=list[schemas.ChecklistItemOut], operation_id="checklist_list")
def checklist_list(request, record_id: int):
    """The task's checklist in its order."""
    task = TASK.one(request.user, record_id)
    return [schemas.checklist_item_out(item) for item in task.checklist.all()]


@router.post(CHECKLIST, response={201: schemas.ChecklistItemOut}, operation_id="checklist_create")
def checklist_create(request, record_id: int, payload: schemas.ChecklistItemIn):
    """An item at the end (you must be allowed to edit the task)."""
    task = TASK.one(request.user, record_id)
    item = services.add_checklist_item(task, payload.text, done=payload.done, actor=request.user)
    return Status(201, schemas.checklist_item_out(item))


@router.patch(CHECKLIST_ITEM, response=schemas.ChecklistItemOut, operation_id="checklist_update")
def checklist_update(request, record_id: int, item_id: int, payload: schemas.ChecklistItemPatch):
    """Tick, rename or move an item: only the fields sent change."""
    task = TASK.one(request.user, record_id)
    item = services.checklist_item(task, item_id)
    data = payload.model_dump(exclude_unset=True)
    return schemas.checklist_item_out(
        services.change_checklist_item(item, data, actor=request.user)
    )


@router.delete(CHECKLIST_ITEM, response={204: None}, operation_id="checklist_delete")
def checklist_delete(request, record_id: int, item_id: int):
    task = TASK.one(request.user, record_id)
    services.remove_checklist_item(services.checklist_item(task, item_id), actor=request.user)
    return Status(204, None)


class CommentPage(Page):
    items: list[schemas.CommentOut]


@router.get(
    "/tasks/{int:record_id}/comments", response=CommentPage, operation_id="task_comment_list"
)
def comment_list(
    request,
    record_id: int,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """The task's comments, oldest first."""
    task = TASK.one(request.user, record_id)
    result = page(task.comments.select_related("author"), limit, offset)
    result["items"] = [schemas.comment_out(c) for c in result["items"]]
    return result


@router.post(
    "/tasks/{int:record_id}/comments",
    response={201: schemas.CommentOut},
    operation_id="task_comment_create",
)
def comment_create(request, record_id: int, payload: schemas.CommentIn):
    """A comment (you must see the task); its assignee, who set it and its watchers hear
    of it."""
    task = TASK.one(request.user, record_id)
    comment = services.add_comment(task, payload.text, actor=request.user)
    return Status(201, schemas.comment_out(comment))


WATCHERS = "/tasks/{int:record_id}/watchers"


def _watchers(task) -> list[dict]:
    return [ref(user) for user in task.watchers.order_by("last_name", "first_name", "id")]


@router.get(WATCHERS, response=list[Ref], operation_id="task_watcher_list")
def watcher_list(request, record_id: int):
    """Who watches the task: they hear of its comments and changes of status."""
    return _watchers(TASK.one(request.user, record_id))


@router.post(WATCHERS, response={201: list[Ref]}, operation_id="task_watcher_add")
def watcher_add(request, record_id: int, payload: schemas.WatcherIn):
    """Watch it yourself (you see it), or add someone who sees it (you may edit it)."""
    task = TASK.one(request.user, record_id)
    services.watch(task, payload.user_id, actor=request.user)
    return Status(201, _watchers(task))


@router.delete(
    WATCHERS + "/{int:user_id}", response={204: None}, operation_id="task_watcher_remove"
)
def watcher_remove(request, record_id: int, user_id: int):
    """Stop watching it yourself, or remove another watcher (you may edit it)."""
    services.unwatch(TASK.one(request.user, record_id), user_id, actor=request.user)
    return Status(204, None)


entries_router = Router(tags=["activities"])
for entry_type in ENTRY_TYPES:
    add_record_routes(entries_router, entry_type)

inbox_router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="task.reminder, ...")
    title: str
    url: str = Field(description="The page of its record, if you may still see it")
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class NotificationPage(Page):
    items: list[NotificationOut]


class InboxFilters(Schema):
    unread: bool = Field(False, description="Only those not yet read")


class MarkRead(Schema):
    ids: list[DbInt] | None = Field(None, description="Which to mark; leave out for all")


class Marked(Schema):
    marked: int


@inbox_router.get("/notifications", response=NotificationPage, operation_id="notification_list")
def notification_list(request, filters: Query[InboxFilters], limit: int = 50, offset: int = 0):
    """Your notifications, newest first."""
    inbox = notifications.inbox(request.user)
    if filters.unread:
        inbox = inbox.filter(read_at=None)
    result = page(inbox, min(limit, MAX_LIMIT), offset)
    urls = notifications.target_urls(list(result["items"]), request.user)
    result["items"] = [
        {
            "id": n.pk,
            "kind": n.kind,
            "title": n.title,
            "url": urls[n.pk],
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n in result["items"]
    ]
    return result


@inbox_router.post("/notifications/read", response=Marked, operation_id="notification_read")
def mark_read(request, payload: MarkRead):
    """Mark your notifications read: those named, or all."""
    return {"marked": notifications.mark_read(request.user, payload.ids)}
