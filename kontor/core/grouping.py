"""Grouping a record list's rows: by owner, by department, by a custom field of a choice
or yes/no kind, or by what a type declares (``RecordType.groups``: a deal's stage).

The list orders by the group first and then by its own sort, and shows a header with the
group's name and its number of records wherever the group changes. Grouping changes how a
list shows, never which records it holds. A dashboard's chart of a saved view reads the
same groupings in one grouped read (``totals``), and links each group to the list narrowed
to it (``narrowing``: the list filters whose records are exactly the group's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, ExpressionWrapper, F, Field, Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import customfields
from .customfields import Kind

# Custom field kinds a list groups by: few distinct values, each with a name to show.
GROUPABLE_KINDS = {Kind.CHOICE, Kind.BOOLEAN}
ANNOTATION = "list_group"
# A list parameter's value selecting the records that have none ("owner_id=none").
NO_VALUE = "none"


def unnarrowed(value) -> dict:
    """The narrowing of a grouping no list filter selects: its groups link nowhere."""
    return {}


@dataclass(frozen=True)
class Grouping:
    """One way to group a list: ``value`` (an expression) is a row's group; rows are
    ordered by ``order`` (default: ``value``) before the list's sort; ``titles(values)``
    names the groups, in the grouping's order (a relation's records in their model's
    order, choices in theirs: a chart's bars follow it); ``narrowing(value)`` is the
    list's query (parameter -> value) holding exactly the records of the group ``value``
    (None: the records without one), ``{}`` where no list filter selects it."""

    key: str  # the list's "group" parameter: "owner", "department", "cf.region", "stage"
    label: str
    value: object
    titles: Callable  # list of group values -> {value: text}
    order: tuple = ()
    narrowing: Callable = unnarrowed

    def ordered(self, qs):
        """``qs`` annotated with each row's group and ordered by it, then as it was."""
        order = self.order or (F(ANNOTATION).asc(nulls_last=True),)
        return qs.annotate(**{ANNOTATION: self.value}).order_by(*order, *qs.query.order_by)

    def totals(self, qs, by: tuple = (), where: Q | None = None, **figures):
        """One grouped read of ``qs`` (only the rows ``where`` holds, if given): a row per
        group (and per ``by`` column) with the group's value under ``ANNOTATION`` and
        ``figures`` (name -> aggregate)."""
        grouped = qs.order_by().annotate(**{ANNOTATION: self.value})
        if where is not None:
            grouped = grouped.filter(where)
        return grouped.values(ANNOTATION, *by).annotate(**figures)

    def counts(self, qs, values: list) -> dict:
        """How many records of ``qs`` (the list, filtered) each of ``values`` holds."""
        given = [v for v in values if v is not None]  # SQLite's empty custom key is b""
        wanted = Q(**{f"{ANNOTATION}__in": given})
        if None in values:
            wanted |= Q(**{f"{ANNOTATION}__isnull": True})
        found = self.totals(qs, where=wanted, count=Count("pk"))
        return {row[ANNOTATION]: row["count"] for row in found}


def is_empty(value) -> bool:
    """A row without a group: NULL, or the empty blob a custom key sorts empties by on SQLite."""
    return value in (None, b"")


def _names(model, label=str, related: tuple = ()) -> Callable:
    def titles(values):
        found = model.objects.filter(pk__in=values).select_related(*related)
        return {obj.pk: label(obj) for obj in found}

    return titles


def by_parameter(param: str) -> Callable:
    """The narrowing of a grouping whose group value is what the list's ``param`` takes
    (an id, a choice), and ``NO_VALUE`` for the records without one."""

    def narrowing(value) -> dict:
        return {param: NO_VALUE if is_empty(value) else str(value)}

    return narrowing


def by_relation(
    key: str,
    label,
    field: str,
    model,
    order: tuple = (),
    *,
    title=str,
    related: tuple = (),
    param: str = "",
) -> Grouping:
    """A type's grouping by a foreign key (``field``), each group named by ``title`` of its
    record (``related``: what that reads, fetched with it); ``param``: the list filter
    taking the record's id (default ``<field>_id``)."""
    column = f"{field}_id"
    return Grouping(
        key,
        label,
        F(column),
        _names(model, title, related),
        order=order,
        narrowing=by_parameter(param or column),
    )


def by_choice(
    key: str, label, field: str, choices, order: tuple = (), *, param: str = ""
) -> Grouping:
    """A type's grouping by a field with choices, each group named by its choice's label;
    ``param``: the list filter taking a choice (default ``key``)."""
    names = dict(choices)
    rank = {value: position for position, value in enumerate(names)}

    def titles(values):
        ordered = sorted(values, key=lambda value: (rank.get(value, len(rank)), str(value)))
        return {value: capfirst(names.get(value, value)) for value in ordered}

    return Grouping(key, label, F(field), titles, order, by_parameter(param or key))


def common(rt) -> list[Grouping]:
    """By owner (names in alphabetical order) and by department (in the tree's order)."""
    from kontor.accounts.models import Department, User

    return [
        Grouping(
            "owner",
            rt.owner_label,
            F("owner_id"),
            _names(User),
            order=(F("owner__last_name").asc(nulls_last=True), "owner__first_name", "owner_id"),
            narrowing=by_parameter("owner_id"),
        ),
        Grouping(
            "department",
            _("Department"),
            F("department_id"),
            _names(Department),
            order=(F("department__path").asc(nulls_last=True),),
            narrowing=by_parameter("department_id"),
        ),
    ]


def _stored(field, raw):
    """A custom value as the database hands it back in a group (SQLite: a JSON value or
    the empty blob; PostgreSQL: its text) -> its stored form."""
    if is_empty(raw):
        return None
    if field.value_kind == Kind.BOOLEAN:
        return raw in (1, True, "true")
    return raw


def custom(user, object_type: str, prefix: str) -> list[Grouping]:
    """By each custom field of a groupable kind the reader may see (key: prefix + name)."""

    def titles_of(field):
        rank = {choice["key"]: position for position, choice in enumerate(field.choices or ())}

        def titles(values):
            stored = {raw: _stored(field, raw) for raw in values}
            ordered = sorted(
                values, key=lambda raw: (rank.get(stored[raw], len(rank)), str(stored[raw]))
            )
            return {raw: customfields.display(field, stored[raw]) for raw in ordered}

        return titles

    def narrowing_of(field):
        # The custom conditions of the list's filters: "name:key", "name:true", "name__empty:".
        def narrowing(raw) -> dict:
            value = _stored(field, raw)
            if value is None:
                return {"custom": f"{field.name}__empty:"}
            if isinstance(value, bool):
                return {"custom": f"{field.name}:{'true' if value else 'false'}"}
            return {"custom": f"{field.name}:{value}"}

        return narrowing

    return [
        Grouping(
            f"{prefix}{field.name}",
            field.label,
            # Raw, as the database has it: no kind's converter (a yes/no's would turn
            # SQLite's empty blob into an int).
            ExpressionWrapper(customfields.CustomKey(field), output_field=Field()),
            titles_of(field),
            narrowing=narrowing_of(field),
        )
        for field in customfields.visible_fields(user, object_type)
        if field.value_kind in GROUPABLE_KINDS
    ]
