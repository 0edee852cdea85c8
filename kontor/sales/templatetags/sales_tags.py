from django import template
from django.db.models import Prefetch

from kontor.core import money as core_money
from kontor.sales import services
from kontor.sales.lines import unit_label
from kontor.sales.models import Deal, LostReason, Pipeline, Stage
from kontor.sales.types import money

register = template.Library()


@register.simple_tag
def deal_choices() -> dict:
    """What a deal form offers: active pipelines with their stages, lost reasons,
    currencies and sources."""
    return {
        "pipelines": Pipeline.objects.filter(is_active=True).prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
        ),
        "lost_reasons": LostReason.objects.filter(is_active=True),
        "currencies": services.currencies(),
        "sources": Deal.Source.choices,
    }


@register.filter
def deal_amount(deal) -> str:
    return money(deal.amount, deal.currency)


@register.filter
def in_currency(amount, currency: str) -> str:
    """An amount with its currency, in the reader's number format."""
    return core_money.format_money(amount, currency)


@register.filter
def percent(value) -> str:
    return core_money.format_percent(value)


@register.filter
def quantity(value) -> str:
    return core_money.format_quantity(value)


@register.filter
def unit_name(code: str) -> str:
    return unit_label(code)
