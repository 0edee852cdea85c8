from django import template

from ..types import price_text

register = template.Library()


@register.filter
def product_price(product) -> str:
    """The price with its currency, as the reader's language writes money."""
    return price_text(product)
