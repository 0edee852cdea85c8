"""Counting long lists: totals stop at a cap, for the API's pages and the UI's pager alike."""

from typing import NamedTuple

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Totals are counted up to here: counting a scope of a million rows costs more than the
# page itself, and "10,000+" tells a user as much as the exact number.
COUNT_CAP = 10_000


class Total(NamedTuple):
    count: int
    capped: bool  # more rows than ``count`` match


def capped_count(qs) -> Total:
    """How many rows ``qs`` has, counted no further than COUNT_CAP, and whether it stopped."""
    total = qs.order_by()[: COUNT_CAP + 1].count()
    return Total(min(total, COUNT_CAP), total > COUNT_CAP)


class CappedPaginator(Paginator):
    """A paginator whose total stops at COUNT_CAP; ``total.capped`` says it did.

    Pages past the cap are not offered: a user that far down a list narrows the filters.
    """

    @cached_property
    def total(self) -> Total:
        return capped_count(self.object_list)

    @cached_property
    def count(self) -> int:
        return self.total.count
