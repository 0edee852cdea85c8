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


def page_number(given) -> int:
    """The page a query parameter names; page 1 for anything else."""
    try:
        return max(int(given), 1)
    except (TypeError, ValueError):
        return 1


class LookaheadPage:
    """A page of a long list read with one row more than it shows.

    The extra row says whether another page follows, so opening a list does not wait for
    its total: ``total`` is known only when the rows read reach the end, otherwise the
    page asks for it separately (``capped_count``). Pages past COUNT_CAP are not offered.
    """

    def __init__(self, object_list, per_page: int, number) -> None:
        self.number = page_number(number)
        self.per_page = per_page
        rows = self._read(object_list)
        if not rows and self.number > 1:  # past the end: the last page, as Django's get_page
            last = max(-(-capped_count(object_list).count // per_page), 1)
            self.number = min(self.number, last)
            rows = self._read(object_list)
        self.object_list = rows[:per_page]
        offset = (self.number - 1) * per_page
        self.has_next = len(rows) > per_page and offset + per_page < COUNT_CAP
        self.total = None if len(rows) > per_page else self._ended(offset + len(rows))

    def _read(self, object_list) -> list:
        offset = (self.number - 1) * self.per_page
        return list(object_list[offset : offset + self.per_page + 1])

    @staticmethod
    def _ended(rows: int) -> Total:
        return Total(min(rows, COUNT_CAP), rows > COUNT_CAP)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)
