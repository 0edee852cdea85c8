"""A saved view's records as a dashboard reads them, and the figures made of them.

The records are the view's list as its *reader* sees it: the list's own parameters
(``web.records.list_filters``) read through the type's ``list_query`` for the viewer, so
a widget never holds a record its reader could not open, whoever put it on the dashboard.
Figures group those records (by owner, department, one of the type's choice filters or a
custom choice field) and count them or add up a number field; each figure links to the
list that holds exactly its records (the view's query plus the group's filter).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, Sum
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.accounts.models import Department
from kontor.core import customfields
from kontor.core.errors import ValidationFailed
from kontor.core.types import CUSTOM_SORT, FilterKind, RecordType
from kontor.savedviews.models import SavedView
from kontor.savedviews.services import open_query
from kontor.web.charts import Format
from kontor.web.records import list_filters

# A chart of more bars than this says nothing: the largest groups are shown.
GROUPS_SHOWN = 12
# A choice filter with more options than this is not offered as a grouping.
OPTIONS_LIMIT = 20
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
        further by a group's filter: a custom condition adds to the view's, any other
        filter replaces its own."""
        query = dict(self.view.query)
        for key, value in narrowing.items():
            query[key] = [*query.get(key, []), value] if key == "custom" else [value]
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
    narrowing: dict | None = None  # the list filter selecting its records; None: no link


@dataclass(frozen=True)
class Grouping:
    key: str
    label: str
    groups: Callable  # (user, ViewRecords, Measure) -> list[Group]


def _grouped_by_column(column: str, labels: Callable, list_param: str):
    """Groups by a column of the model (owner, department): one grouped read."""

    def groups(user, found: ViewRecords, measure: Measure) -> list[Group]:
        keys = [column, CURRENCY_FIELD] if measure.per_currency else [column]
        rows = found.records.order_by().values(*keys).annotate(value=measure.expression())
        by_key: dict = defaultdict(dict)
        for row in rows:
            currency = row[CURRENCY_FIELD] if measure.per_currency else ""
            by_key[row[column]][currency] = exact(row["value"], measure.places)
        names = labels([key for key in by_key if key is not None])
        return sorted(
            [
                Group(
                    names.get(key, _("None")) if key is not None else _("None"),
                    values,
                    {list_param: str(key)} if key is not None else None,
                )
                for key, values in by_key.items()
            ],
            key=_size,
        )

    return groups


def _user_names(ids) -> dict:
    return {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=ids)}


def _department_names(ids) -> dict:
    return {d.pk: d.name for d in Department.objects.filter(pk__in=ids)}


def _grouped_by_filter(spec):
    """Groups by one of the type's choice filters: each option's records through the
    filter itself, so a figure is what the list filtered so holds."""

    def groups(user, found: ViewRecords, measure: Measure) -> list[Group]:
        result = []
        for option in list(spec.options(user))[:OPTIONS_LIMIT]:
            value, label = option if isinstance(option, tuple | list) else (option, option)
            narrowed = spec.apply(found.records, user, value)
            result.append(Group(str(label), totals(narrowed, measure), {spec.name: str(value)}))
        return result

    return groups


def _grouped_by_custom_choice(custom):
    def groups(user, found: ViewRecords, measure: Measure) -> list[Group]:
        keys = ["group", CURRENCY_FIELD] if measure.per_currency else ["group"]
        rows = (
            found.records.order_by()
            .annotate(group=customfields.CustomKey(custom))
            .values(*keys)
            .annotate(value=measure.expression())
        )
        by_key: dict = defaultdict(dict)
        for row in rows:
            key = row["group"] if isinstance(row["group"], str) and row["group"] else None
            currency = row[CURRENCY_FIELD] if measure.per_currency else ""
            by_key[key][currency] = exact(row["value"], measure.places)
        labels = {choice["key"]: choice["label"] for choice in custom.choices}
        return sorted(
            [
                Group(
                    labels.get(key, key) if key else _("None"),
                    values,
                    {"custom": f"{custom.name}:{key}"} if key else None,
                )
                for key, values in by_key.items()
            ],
            key=_size,
        )

    return groups


def groupings(user, rt: RecordType) -> dict[str, Grouping]:
    """How a reader may group the type's records for a chart: owner, department, the
    type's choice filters (status, stage ...), the custom choice fields they may see."""
    found = [
        Grouping(
            "owner", str(rt.owner_label), _grouped_by_column("owner_id", _user_names, "owner_id")
        ),
        Grouping(
            "department",
            _("Department"),
            _grouped_by_column("department_id", _department_names, "department_id"),
        ),
    ]
    found += [
        Grouping(f"filter.{spec.name}", str(spec.label), _grouped_by_filter(spec))
        for spec in rt.filters
        if spec.kind == FilterKind.CHOICE and spec.options is not None
    ]
    found += [
        Grouping(f"{CUSTOM_SORT}{custom.name}", custom.label, _grouped_by_custom_choice(custom))
        for custom in customfields.visible_fields(user, rt.object_type)
        if custom.kind == customfields.Kind.CHOICE
    ]
    return {grouping.key: grouping for grouping in found}


def largest(groups: list[Group]) -> list[Group]:
    """The groups with a figure, largest first (of the first currency), at most
    ``GROUPS_SHOWN``; a filter's options keep their own order."""
    shown = [group for group in groups if any(group.values.values())]
    if len(shown) > GROUPS_SHOWN:
        kept = {id(g) for g in sorted(shown, key=_size)[:GROUPS_SHOWN]}
        shown = [group for group in shown if id(group) in kept]
    return shown


def _size(group: Group):
    return -max(group.values.values())
