from django import template

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
