"""Charts: one description, drawn by Chart.js, shown as a table and downloadable as CSV.

A view builds a ``Chart`` from access-scoped reads (its numbers are exact: ``int`` or
``Decimal``, never float) and renders it with ``{% chart chart %}`` (``kontor`` tags). The
partial shows the title, a canvas that web/charts.js draws from the chart's ``json_script``
data, a table of the same figures (each a link to the records behind it when the point
has a URL) and a "Download CSV" link. The view answers that link with
``csv_download(request, charts)``, so the file holds exactly the table's numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kontor.core.exports import neutralise


class Kind(StrEnum):
    BAR = "bar"
    HORIZONTAL_BAR = "horizontal_bar"
    STACKED_BAR = "stacked_bar"
    LINE = "line"
    # Stages from widest to narrowest, each bar centred: a funnel drawn with bars.
    FUNNEL = "funnel"
    DOUGHNUT = "doughnut"


class Format(StrEnum):
    COUNT = "count"
    # Two decimals, e.g. average days; money has its own format.
    NUMBER = "number"
    MONEY = "money"
    # Values are percentage points: Decimal("37.5") is 37.5 %.
    PERCENT = "percent"


DECIMALS = {Format.COUNT: 0, Format.NUMBER: 2, Format.MONEY: 2, Format.PERCENT: 1}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Series:
    """One row of figures, one per label; ``urls`` (optional, "" for none) open the
    records behind each figure."""

    name: str
    values: Sequence[int | Decimal]
    urls: Sequence[str] = ()


@dataclass(frozen=True)
class Chart:
    """What a chart shows. ``slug`` names it on its page (the CSV link, the file name,
    the element ids), so it is unique on a page; ``label_header`` heads the labels'
    column in the table and the CSV."""

    slug: str
    title: str
    kind: Kind
    labels: Sequence[str]
    series: Sequence[Series]
    label_header: str
    value_format: Format = Format.COUNT
    currency: str = ""

    def __post_init__(self):
        # Programming errors, raised where the chart is built rather than drawn wrongly.
        if not _SLUG.match(self.slug):
            raise ValueError(f"chart slug {self.slug!r}: lowercase letters, digits and -")
        if not self.series:
            raise ValueError(f"chart {self.slug}: no series")
        if (self.value_format == Format.MONEY) != bool(self.currency):
            raise ValueError(f"chart {self.slug}: a currency goes with money, and only with it")
        for series in self.series:
            if len(series.values) != len(self.labels):
                raise ValueError(f"chart {self.slug}: {series.name} has not one value per label")
            if series.urls and len(series.urls) != len(self.labels):
                raise ValueError(f"chart {self.slug}: {series.name} has not one URL per label")
            for value in series.values:
                if isinstance(value, bool) or not isinstance(value, int | Decimal):
                    raise TypeError(f"chart {self.slug}: {value!r} is not an int or Decimal")

    def display(self, value: int | Decimal) -> str:
        """A figure as the reader's language writes it: grouped, its unit beside it."""
        places = DECIMALS[self.value_format]
        # Rounded half away from zero first: number_format alone cuts the extra digits.
        exact = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        text = number_format(exact, places, force_grouping=True)
        if self.value_format == Format.MONEY:
            return f"{text}\N{NO-BREAK SPACE}{self.currency}"
        if self.value_format == Format.PERCENT:
            return f"{text}\N{NO-BREAK SPACE}%"
        return text

    def rows(self) -> list[dict]:
        """The table: per label, each series' figure with its text and link."""
        return [
            {
                "label": label,
                "cells": [
                    {
                        "value": series.values[index],
                        "text": self.display(series.values[index]),
                        "url": series.urls[index] if series.urls else "",
                    }
                    for series in self.series
                ],
            }
            for index, label in enumerate(self.labels)
        ]

    def data(self) -> dict:
        """What web/charts.js draws (through ``json_script``): the figures as text
        (Decimal stays exact until the browser), their display text and links."""
        return {
            "kind": str(self.kind),
            "title": self.title,
            "labels": [str(label) for label in self.labels],
            "format": str(self.value_format),
            "currency": self.currency,
            "locale": get_language() or "en",
            "series": [
                {
                    "name": str(series.name),
                    "values": [str(value) for value in series.values],
                    "display": [self.display(value) for value in series.values],
                    "urls": list(series.urls) or [""] * len(self.labels),
                }
                for series in self.series
            ],
        }

    def csv_header(self) -> list[str]:
        unit = {Format.MONEY: self.currency, Format.PERCENT: "%"}.get(self.value_format)
        names = [str(series.name) for series in self.series]
        return [str(self.label_header), *(f"{name} ({unit})" if unit else name for name in names)]

    def csv_text(self) -> str:
        """The table's figures as CSV: plain numbers (a point for decimals, no grouping)
        that a spreadsheet reads as numbers; every text cell neutralised against formulas."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([neutralise(cell) for cell in self.csv_header()])
        for index, label in enumerate(self.labels):
            writer.writerow(
                [neutralise(str(label)), *(series.values[index] for series in self.series)]
            )
        return out.getvalue()


def chart_csv_response(chart: Chart) -> HttpResponse:
    # The BOM makes Excel read the file as UTF-8.
    response = HttpResponse("\ufeff" + chart.csv_text(), content_type="text/csv; charset=utf-8")
    filename = f"{chart.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(request, charts: Sequence[Chart]) -> HttpResponse | None:
    """The CSV of the chart that ``?format=csv&chart=<slug>`` asks for, or None when the
    request asks for the page. An unknown chart is a 404."""
    if request.GET.get("format") != "csv":
        return None
    wanted = request.GET.get("chart", "")
    for chart in charts:
        if chart.slug == wanted:
            return chart_csv_response(chart)
    raise Http404(_("Unknown chart."))
