"""/api/v1/meetings (every route from the engine) and /api/v1/calendar (a window's items)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kontor.accounts.models import Department
from kontor.core.api import DbInt, IsoDate
from kontor.core.api_records import add_record_routes
from kontor.core.errors import ValidationFailed

from .items import MAX_WINDOW_DAYS, Whose, items, midnight
from .schemas import CalendarItem
from .types import MEETING

router = Router(tags=["meetings"])
add_record_routes(router, MEETING)

calendar_router = Router(tags=["calendar"])


class CalendarQuery(Schema):
    start: IsoDate = Field(description="The first day (YYYY-MM-DD)")
    end: IsoDate = Field(description=f"The day after the last; at most {MAX_WINDOW_DAYS} days on")
    user: DbInt | None = Field(None, description="A colleague's calendar (what you may see)")
    department: DbInt | None = Field(None, description="A department's calendar")


def _whose(request, query: CalendarQuery) -> Whose:
    if query.department is not None:
        if not Department.objects.filter(pk=query.department).exists():
            raise ValidationFailed(errors={"department": [_("Unknown department.")]})
        return Whose(department_id=query.department)
    if query.user is not None:
        if not get_user_model().objects.filter(pk=query.user).exists():
            raise ValidationFailed(errors={"user": [_("Unknown user.")]})
        return Whose(user_id=query.user)
    return Whose(user_id=request.user.pk)


@calendar_router.get("/calendar", response=list[CalendarItem], operation_id="calendar_items")
def calendar_items(request, query: Query[CalendarQuery]):
    """Meetings (recurring ones expanded, one item per occurrence) and dated tasks in
    [start, end), of your calendar, a colleague's or a department's: only what you may see."""
    if query.end <= query.start:
        raise ValidationFailed(errors={"end": [_("The end must be after the start.")]})
    if (query.end - query.start).days > MAX_WINDOW_DAYS:
        raise ValidationFailed(
            errors={"end": [_("At most %(days)d days at a time.") % {"days": MAX_WINDOW_DAYS}]}
        )
    found = items(request.user, _whose(request, query), midnight(query.start), midnight(query.end))
    return [
        {
            "type": item.type,
            "id": item.id,
            "title": item.title,
            "start": item.start,
            "end": item.end,
            "all_day": item.all_day,
            "url": item.url,
            "occurrence": item.occurrence,
            "version": item.version,
        }
        for item in found
    ]
