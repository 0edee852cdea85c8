from django import template

from kontor.activities import notifications

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    return notifications.unread_count(context["request"].user)
