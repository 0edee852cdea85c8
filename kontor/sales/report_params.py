"""What a sales report is asked for, read the same way by the pages and the API: a
pipeline (the funnel's, and the one win rate and cycle time are counted in) and a period,
either a year or one of its quarters, or the days from one date to another."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kontor.core.errors import ValidationFailed
from kontor.core.inputs import as_db_id

from .models import Pipeline
from .reports import month_start

FIRST_YEAR = 2000
LAST_YEAR = 2100
# The forecast's months: this one and the next two.
FORECAST_MONTHS = 3
# A longer period is a mistake rather than a report (and a heavy read).
LONGEST_DAYS = 366 * 10


def quarter_label(year: int, quarter: int) -> str:
    return _("Q%(quarter)d %(year)d") % {"quarter": quarter, "year": year}


@dataclass(frozen=True)
class ReportParams:
    pipeline: Pipeline | None  # None: there is no active pipeline
    start: datetime.date
    end: datetime.date  # the day after the last one
    year: int
    quarter: int | None  # 1-4 for a quarter of ``year``
    custom: bool  # the period is from ``start`` to a date, not a year or a quarter

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        """ "2026", "Q1 2026", or the first and last days."""
        if self.custom:
            first, last = (
                date_format(day, "SHORT_DATE_FORMAT") for day in (self.start, self.last_day)
            )
            return f"{first} – {last}"
        if self.quarter:
            return quarter_label(self.year, self.quarter)
        return str(self.year)

    def query(self) -> dict[str, str]:
        """The parameters that ask for this report again."""
        found = {"pipeline_id": str(self.pipeline.pk) if self.pipeline else ""}
        if self.custom:
            # The year too, so that the form's year shows the period's.
            dates = {"from": self.start.isoformat(), "to": self.last_day.isoformat()}
            return found | dates | {"year": str(self.year), "quarter": ""}
        return found | {"year": str(self.year), "quarter": str(self.quarter or "")}


def _date(text: str, key: str, errors: dict) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        errors[key] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def _period(params, errors: dict, today: datetime.date):
    start_text = (params.get("from") or "").strip()
    end_text = (params.get("to") or "").strip()
    if start_text or end_text:
        for key, text in (("from", start_text), ("to", end_text)):
            if not text:
                errors[key] = [_("Give both dates of the period, or neither.")]
        start = _date(start_text, "from", errors) if start_text else None
        last = _date(end_text, "to", errors) if end_text else None
        if start and last:
            if last < start:
                errors["to"] = [_("The period ends before it starts.")]
            elif (last - start).days >= LONGEST_DAYS:
                errors["to"] = [_("Keep the period to ten years at most.")]
            else:
                return start, last + datetime.timedelta(days=1), start.year, None, True
        return None
    year_text = str(params.get("year") or "").strip()
    year = int(year_text) if year_text.isdigit() else None
    if year_text and (year is None or not FIRST_YEAR <= year <= LAST_YEAR):
        errors["year"] = [
            _("Choose a year from %(first)d to %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        ]
        return None
    year = year or today.year
    quarter_text = str(params.get("quarter") or "").strip()
    if quarter_text and quarter_text not in ("1", "2", "3", "4"):
        errors["quarter"] = [_("Choose a quarter from 1 to 4.")]
        return None
    if quarter_text:
        quarter = int(quarter_text)
        start = datetime.date(year, 3 * quarter - 2, 1)
        return start, month_start(start, 3), year, quarter, False
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1), year, None, False


def read_params(params, *, today: datetime.date | None = None) -> ReportParams:
    """The report ``params`` (a query dict) ask for; ValidationFailed names each bad one.
    Nothing given: the first active pipeline and this year."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    pipelines = Pipeline.objects.filter(is_active=True)
    pipeline_text = str(params.get("pipeline_id") or "").strip()
    if pipeline_text:
        pipeline = pipelines.filter(pk=as_db_id(pipeline_text) or 0).first()
        if pipeline is None:
            errors["pipeline_id"] = [_("Choose one of the active pipelines.")]
    else:
        pipeline = pipelines.first()
    period = _period(params, errors, today)
    if errors:
        raise ValidationFailed(errors=errors)
    start, end, year, quarter, custom = period
    return ReportParams(pipeline, start, end, year, quarter, custom)


def offered_years(shown: int | None = None) -> list[int]:
    """The years a report's form offers: next year, this one and five before, and the
    year ``shown`` wherever it is."""
    this_year = timezone.localdate().year
    return sorted({*range(this_year - 5, this_year + 2), shown or this_year}, reverse=True)


def default_params(today: datetime.date | None = None) -> ReportParams:
    return read_params({}, today=today)
