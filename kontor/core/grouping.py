"""Grouping a record list's rows: by owner, by department, by a custom field of a choice
or yes/no kind, or by what a type declares (``RecordType.groups``: a deal's stage).

The list orders by the group first and then by its own sort, and shows a header with the
group's name and its number of records wherever the group changes. Grouping changes how a
list shows, never which records it holds.
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


@dataclass(frozen=True)
class Grouping:
    """One way to group a list: ``value`` (an expression) is a row's group; rows are
    ordered by ``order`` (default: ``value``) before the list's sort; ``titles(values)``
    names the groups on a page."""

    key: str  # the list's "group" parameter: "owner", "department", "cf.region", "stage"
    label: str
    value: object
    titles: Callable  # list of group values -> {value: text}
    order: tuple = ()

    def ordered(self, qs):
        """``qs`` annotated with each row's group and ordered by it, then as it was."""
        order = self.order or (F(ANNOTATION).asc(nulls_last=True),)
        return qs.annotate(**{ANNOTATION: self.value}).order_by(*order, *qs.query.order_by)

    def counts(self, qs, values: list) -> dict:
        """How many records of ``qs`` (the list, filtered) each of ``values`` holds."""
        given = [v for v in values if v is not None]  # SQLite's empty custom key is b""
        wanted = Q(**{f"{ANNOTATION}__in": given})
        if None in values:
            wanted |= Q(**{f"{ANNOTATION}__isnull": True})
        found = (
            qs.order_by()
            .annotate(**{ANNOTATION: self.value})
            .filter(wanted)
            .values_list(ANNOTATION)
            .annotate(count=Count("pk"))
        )
        return dict(found.values_list(ANNOTATION, "count"))


def is_empty(value) -> bool:
    """A row without a group: NULL, or the empty blob a custom key sorts empties by on SQLite."""
    return value in (None, b"")


def _names(model, label=str, related: tuple = ()) -> Callable:
    def titles(values):
        found = model.objects.filter(pk__in=values).select_related(*related)
        return {obj.pk: label(obj) for obj in found}

    return titles


def by_relation(
    key: str, label, field: str, model, order: tuple = (), *, title=str, related: tuple = ()
) -> Grouping:
    """A type's grouping by a foreign key (``field``), each group named by ``title`` of its
    record (``related``: what that reads, fetched with it)."""
    return Grouping(key, label, F(f"{field}_id"), _names(model, title, related), order=order)


def by_choice(key: str, label, field: str, choices, order: tuple = ()) -> Grouping:
    """A type's grouping by a field with choices, each group named by its choice's label."""
    names = dict(choices)

    def titles(values):
        return {value: capfirst(names.get(value, value)) for value in values}

    return Grouping(key, label, F(field), titles, order)


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
        ),
        Grouping(
            "department",
            _("Department"),
            F("department_id"),
            _names(Department),
            order=(F("department__path").asc(nulls_last=True),),
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
        def titles(values):
            return {raw: customfields.display(field, _stored(field, raw)) for raw in values}

        return titles

    return [
        Grouping(
            f"{prefix}{field.name}",
            field.label,
            # Raw, as the database has it: no kind's converter (a yes/no's would turn
            # SQLite's empty blob into an int).
            ExpressionWrapper(customfields.CustomKey(field), output_field=Field()),
            titles_of(field),
        )
        for field in customfields.visible_fields(user, object_type)
        if field.value_kind in GROUPABLE_KINDS
    ]
