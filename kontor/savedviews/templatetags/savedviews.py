from django import template

from kontor.savedviews import services

register = template.Library()


@register.simple_tag(takes_context=True)
def pinned_views(context) -> list[tuple[str, str]]:
    """(name, address) of the views the user keeps in the main menu."""
    user = context["request"].user
    return [
        (view.name, services.record_type(view).url("list") + services.open_query(view))
        for view in services.pinned_views(user)
    ]
