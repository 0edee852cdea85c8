from django import template
from django.utils.formats import date_format, time_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from kontor.activities import notifications
from kontor.activities.models import Call
from kontor.core import timeline

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    return notifications.unread_count(context["request"].user)


@register.simple_tag
def call_outcomes():
    return Call.Outcome.choices


@register.simple_tag(takes_context=True)
def about_links(context, entry) -> list:
    """The records ``entry`` is about that the reader may see."""
    return timeline.linked_records(context["request"].user, entry)


@register.simple_tag
def due(task) -> str:
    """A task's due day (and time), marked when it is overdue; a dash when it has none."""
    if task.due_date is None:
        return "—"
    when = date_format(task.due_date, "DATE_FORMAT")
    if task.due_time is not None:
        when = f"{when} {time_format(task.due_time, 'TIME_FORMAT')}"
    if task.is_overdue:
        return format_html('<span class="overdue">{} · {}</span>', when, _("overdue"))
    return format_html("<span>{}</span>", when)
