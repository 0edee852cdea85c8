"""The "possible duplicates" hint on a person's or company's page."""

from django import template

from kontor.dedup import services

register = template.Library()

HINT_LIMIT = 5


@register.inclusion_tag("dedup/_hint.html", takes_context=True)
def possible_duplicates(context, record):
    user = context["request"].user
    object_type = record._meta.label_lower
    rows = list(services.visible_candidates(user, object_type, record_id=record.pk)[:HINT_LIMIT])
    pairs = [
        (row, second if first.pk == record.pk else first)
        for row, first, second in services.named_pairs(user, object_type, rows)
    ]
    return {"pairs": pairs}
