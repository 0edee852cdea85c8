"""Template helpers shared by every page: navigation state, query strings, field errors."""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_current(context, prefix: str) -> str:
    """``aria-current="page"`` when the request path lies under ``prefix`` ("/" only exactly)."""
    path = context["request"].path
    hit = path == "/" if prefix == "/" else path.startswith(prefix)
    # Safe: a constant; a simple tag's plain string would be escaped into a broken attribute.
    return mark_safe('aria-current="page"') if hit else ""


def query_string(querydict, **changes) -> str:
    """``querydict`` with ``changes`` applied, as "?a=1&b=2"; None or "" drops a key.

    Changing anything but the page starts again at page 1.
    """
    params = querydict.copy()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value in (None, "", []):
            params.pop(key, None)
        elif isinstance(value, list):
            params.setlist(key, value)
        else:
            params[key] = value
    encoded = urlencode(sorted(params.lists()), doseq=True)
    return "?" + encoded if encoded else "?"


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current request's query string with ``changes`` applied (see ``query_string``)."""
    return query_string(context["request"].GET, **changes)


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` for keys templates cannot spell ("phones.0.number"), or None."""
    if not mapping:
        return None
    return mapping.get(key)


@register.simple_tag
def type_url(record_type, suffix: str, *args) -> str:
    """A record type's page: ``{% type_url rt "edit" obj.pk %}``."""
    return record_type.url(suffix, *args)


@register.filter
def record_url(obj, page: str = "detail") -> str:
    """The UI page of any record of a registered type ("" if it has none): its detail
    page, or the one named (``task|record_url:"done"``)."""
    from kontor.core import types

    return types.url_of(obj, page)


@register.simple_tag(takes_context=True)
def record_link(context, obj, text=None):
    """A link to ``obj``'s page showing ``text`` (its name by default), or the text alone
    where that page is closed to the reader: the record's module is off for them (a
    deal's company while contacts is off for its department)."""
    from kontor.core import modules, types

    label = obj if text is None else text
    entry = types.by_model(type(obj))
    url = entry.url_of(obj) if entry is not None else ""
    if not url or not modules.type_enabled(context["request"].user, entry.object_type):
        return conditional_escape(label)
    return format_html('<a href="{}">{}</a>', url, label)


@register.simple_tag(takes_context=True)
def record_menu(context) -> list:
    """The navigation's entries: the registered types the user may view, in the modules
    switched on for them."""
    from kontor.core import modules, types

    user = context["request"].user
    return [(entry, url) for entry, url in types.menu(user) if modules.link_enabled(user, url)]


@register.simple_tag
def topbar_items() -> list[str]:
    """The partials apps add to the top bar (core.types.register_topbar_item)."""
    from kontor.core import types

    return types.topbar_items()


@register.filter
def row_subtitle(record_type, obj) -> str:
    return record_type.row_subtitle(obj)


@register.filter
def row_class(record_type, obj) -> str:
    return record_type.row_class(obj)


@register.filter
def cell(column, obj):
    """A list column's value for one record."""
    return column.value(obj)


@register.inclusion_tag("web/_chart.html", takes_context=True)
def chart(context, chart, heading_level: int = 2):
    """A ``kontor.web.charts.Chart``: title, drawing, table of its figures, CSV link
    (answered by ``charts.csv_download`` in the page's view)."""
    request = context["request"]
    return {
        "chart": chart,
        "heading": f"h{heading_level}",
        "rows": chart.rows(),
        "data": chart.data(),
        "data_id": f"chart-{chart.slug}-data",
        "csv_url": query_string(request.GET, format="csv", chart=chart.slug),
    }
