"""A saved view's records as a dashboard reads them, and the figures made of them.

The records are the view's list as its *reader* sees it: the list's own parameters
(``web.records.list_filters``) read through the type's ``list_query`` for the viewer, so
a widget never holds a record its reader could not open, whoever put it on the dashboard.
Figures group those records as the list groups them (``RecordType.groupings``: owner,
department, the type's own groupings, custom choice and yes/no fields), in one grouped
read, and count them or add up a number field; each figure links to the list that holds
exactly its records (the view's query plus the grouping's ``narrowing`` of the group).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Count, Sum
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import customfields, grouping
from kontor.core.errors import ValidationFailed
from kontor.core.grouping import Grouping
from kontor.core.types import CUSTOM_SORT, RecordType
from kontor.savedviews.models import SavedView
from kontor.savedviews.services import open_query
from kontor.web.charts import Format
from kontor.web.records import list_filters

# A chart of more bars than this says nothing: the largest groups are shown.
GROUPS_SHOWN = 12
CURRENCY_FIELD = "currency"


@dataclass
class ViewRecords:
    """A view's records for a reader; ``dropped``: its custom conditions no longer apply
    (a field deleted or hidden from the reader) and were left out, as the list does."""

    rt: RecordType
    view: SavedView
    records: models.QuerySet
    dropped: bool = False

    def list_url(self, **narrowing) -> str:
        """The list in the view's state (``savedviews.services.open_query``), narrowed
        further by a group's filters: a custom condition adds to the view's, any other
        filter is set; "" when the view sets that filter to another value (one list
        filter cannot hold both)."""
        query = dict(self.view.query)
        for key, value in narrowing.items():
            if key == "custom":
                query[key] = [*query.get(key, []), value]
            elif query.get(key, [value]) not in ([value], [""]):
                return ""
            else:
                query[key] = [value]
        shown = SavedView(query=query, columns=self.view.columns)
        return self.rt.url("list") + open_query(shown)


def view_records(user, rt: RecordType, view: SavedView) -> ViewRecords:
    params = QueryDict(mutable=True)
    for key, values in view.query.items():
        params.setlist(key, values)
    filters = list_filters(params, rt, user)
    try:
        return ViewRecords(rt, view, rt.list_query(user, filters))
    except ValidationFailed:
        filters.custom = []
        return ViewRecords(rt, view, rt.list_query(user, filters), dropped=True)


# -- what is added up -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """Count, or the sum of a number field; ``per_currency``: amounts of a model with a
    currency column, added up per currency (never across)."""

    key: str
    label: str
    expression: Callable[[], models.Aggregate]
    value_format: Format = Format.COUNT
    currency: str = ""
    per_currency: bool = False
    places: int = 0


COUNT = Measure("count", gettext_lazy("Number of records"), lambda: Count("pk"))
_MODEL_NUMBERS = (models.DecimalField, models.IntegerField, models.FloatField)
_NOT_FIGURES = {"id", "version"}


def _model_measure(model_field, has_currency: bool) -> Measure:
    decimal = isinstance(model_field, models.DecimalField)
    return Measure(
        f"sum.{model_field.name}",
        _("Sum of %(field)s") % {"field": model_field.verbose_name},
        lambda: Sum(model_field.name),
        Format.NUMBER if decimal else Format.COUNT,
        per_currency=decimal and has_currency,
        places=model_field.decimal_places if decimal else 0,
    )


def _custom_measure(found) -> Measure:
    kind = customfields.Kind
    money = found.kind == kind.MONEY and bool(found.currency)
    return Measure(
        f"sum.{CUSTOM_SORT}{found.name}",
        _("Sum of %(field)s") % {"field": found.label},
        lambda: Sum(customfields.CustomKey(found)),
        Format.MONEY if money else (Format.COUNT if found.kind == kind.INTEGER else Format.NUMBER),
        currency=found.currency if money else "",
        places=0 if found.kind == kind.INTEGER else 2,
    )


def measures(user, rt: RecordType) -> dict[str, Measure]:
    """What a reader may count or add up over the type's records: the model's number
    fields (money per currency) and the number custom fields they may see."""
    model = rt.model
    names = {f.name for f in model._meta.concrete_fields}
    found = [COUNT]
    for model_field in model._meta.concrete_fields:
        if (
            isinstance(model_field, _MODEL_NUMBERS)
            and not model_field.is_relation
            and not model_field.choices
            and model_field.name not in _NOT_FIGURES
        ):
            found.append(_model_measure(model_field, CURRENCY_FIELD in names))
    numbers = {customfields.Kind.INTEGER, customfields.Kind.DECIMAL, customfields.Kind.MONEY}
    found += [
        _custom_measure(custom)
        for custom in customfields.visible_fields(user, rt.object_type)
        if custom.kind in numbers
    ]
    return {measure.key: measure for measure in found}


def exact(value, places: int) -> int | Decimal:
    """A database's sum as a chart takes it: an int, or a Decimal to ``places`` (SQLite adds
    custom decimals as floats)."""
    if value is None:
        return 0 if places == 0 else Decimal(0).quantize(Decimal(1).scaleb(-places))
    if places == 0:
        return int(value)
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))


def totals(records, measure: Measure) -> dict[str, int | Decimal]:
    """The measure over ``records``: {currency: value} when per currency, else {"": value}."""
    if measure.per_currency:
        rows = records.order_by().values(CURRENCY_FIELD).annotate(value=measure.expression())
        return {row[CURRENCY_FIELD]: exact(row["value"], measure.places) for row in rows}
    value = records.order_by().aggregate(value=measure.expression())["value"]
    return {"": exact(value, measure.places)}


# -- groups -----------------------------------------------------------------------------------


@dataclass
class Group:
    label: str
    values: dict[str, int | Decimal] = field(default_factory=dict)  # by currency ("": one)
    url: str = ""  # the list of exactly its records; "": no list filter selects them


def groups(found: ViewRecords, by: Grouping, measure: Measure) -> list[Group]:
    """The view's records in the groups of a list grouping (``RecordType.groupings``),
    the measure of each read in one grouped query; in the grouping's order (its titles':
    stages as their pipeline runs), the group without a value last."""
    currencies = (CURRENCY_FIELD,) if measure.per_currency else ()
    rows = by.totals(found.records, currencies, value=measure.expression())
    by_value: dict = defaultdict(dict)
    for row in rows:
        value = None if grouping.is_empty(row[grouping.ANNOTATION]) else row[grouping.ANNOTATION]
        currency = row[CURRENCY_FIELD] if measure.per_currency else ""
        by_value[value][currency] = exact(row["value"], measure.places)
    titles = by.titles([value for value in by_value if value is not None])
    position = {value: n for n, value in enumerate(titles)}
    found_groups = []
    for value in sorted(by_value, key=lambda value: position.get(value, len(position))):
        narrowing = by.narrowing(value)
        found_groups.append(
            Group(
                (titles.get(value) if value is not None else None) or _("None"),
                by_value[value],
                found.list_url(**narrowing) if narrowing else "",
            )
        )
    return found_groups


def largest(groups: list[Group]) -> list[Group]:
    """The groups with a figure, in their order, at most ``GROUPS_SHOWN`` (the largest)."""
    shown = [group for group in groups if any(group.values.values())]
    if len(shown) > GROUPS_SHOWN:
        kept = {id(g) for g in sorted(shown, key=_size)[:GROUPS_SHOWN]}
        shown = [group for group in shown if id(group) in kept]
    return shown


def _size(group: Group):
    return -max(group.values.values())
