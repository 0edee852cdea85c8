from django import template
from django.db.models import Prefetch

from kontor.sales import services
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


@register.filter(name="money")
def money_filter(amount, currency: str) -> str:
    """``{{ amount|money:currency }}``: "1,234.50 EUR" as the reader's language writes it."""
    return money(amount, currency)
