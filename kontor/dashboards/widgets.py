"""The widget registry: each kind of widget a small class, registered once.

Generic code (services, pages, API) asks a kind for its inputs, cleans its settings
through it and reads its figures through it; it never branches on a kind. A kind says
which record type it reads (``reads``: its own, or its saved view's), so whether a widget
may be added or shown is decided in one place (``type_allowed``) for every kind.

A widget is always read for its *viewer*: every kind reads through the record type's
access-scoped door (``visible(user)``, ``list_query(user)``) of the user looking at the
dashboard, never of whoever put the widget there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import modules
from kontor.core.access import Action, may
from kontor.core.errors import NotFound
from kontor.core.inputs import as_db_id
from kontor.core.types import RecordType
from kontor.savedviews import services as views
from kontor.savedviews.models import SavedView

from . import figures


def type_allowed(user, object_type: str) -> bool:
    """Whether ``user`` may have widgets reading records of ``object_type``: the one
    place deciding it for every kind (a switched-off module hides its widgets here)."""
    return may(user, object_type, Action.VIEW) and modules.type_enabled(user, object_type)


@dataclass(frozen=True)
class Input:
    """One choice a kind asks for when added: a select of (value, label); choosing one
    that ``refreshes`` may change the other inputs (a view's fields to group by)."""

    name: str
    label: str
    choices: list[tuple[str, str]]
    value: str = ""
    refreshes: bool = False


@dataclass(frozen=True)
class Option:
    """An input of fixed choices ({value: label}), kept as a number if ``number``."""

    name: str
    label: str
    choices: dict
    default: str
    number: bool = False

    def input(self, given: dict) -> Input:
        options = [(value, str(label)) for value, label in self.choices.items()]
        return Input(self.name, str(self.label), options, str(given.get(self.name) or self.default))

    def clean(self, given: dict, errors):
        value = choice(given, self.name, self.choices, errors, self.default)
        return int(value) if self.number and value.isdigit() else value


class WidgetKind:
    """A kind of widget. ``read(user, widget)`` returns what its template shows (and the
    API answers): plain values, lists and dicts, or a ``charts.Chart``."""

    key = ""
    label = ""
    template = ""
    record_type = ""  # the registered type it reads; "" when its saved view says
    uses_view = False
    default_width = 2

    def reads(self, settings: dict) -> str:
        """The object type the widget reads ("" for several, each checked when read)."""
        return settings.get("type", "") if self.uses_view else self.record_type

    def usable(self, user) -> bool:
        return not self.record_type or type_allowed(user, self.record_type)

    options: tuple[Option, ...] = ()  # its inputs of fixed choices

    def inputs(self, user, given: dict) -> list[Input]:
        return [option.input(given) for option in self.options]

    def clean(self, user, given: dict, errors) -> dict:
        """The settings from input (each a text, as a form sends them); problems to
        ``errors`` under the input's name."""
        return {option.name: option.clean(given, errors) for option in self.options}

    def read(self, user, widget) -> dict:
        raise NotImplementedError


_kinds: dict[str, WidgetKind] = {}


def register(kind_class: type[WidgetKind]) -> type[WidgetKind]:
    """Register a kind (a class decorator): one instance serves every widget of it."""
    _kinds[kind_class.key] = kind_class()
    return kind_class


def get(key: str) -> WidgetKind | None:
    return _kinds.get(key)


def kinds() -> list[WidgetKind]:
    return list(_kinds.values())


def usable_kinds(user) -> list[WidgetKind]:
    """The kinds ``user`` may add (a view's kinds: if they see any view they may use)."""
    has_views = bool(offered_views(user))
    return [k for k in kinds() if k.usable(user) and (has_views or not k.uses_view)]


def shown(user, widget) -> bool:
    """Whether ``user`` sees ``widget`` at all: a known kind reading a type they may view."""
    kind = get(widget.kind)
    if kind is None:
        return False
    object_type = kind.reads(widget.settings)
    return not object_type or type_allowed(user, object_type)


# -- choices shared by kinds --------------------------------------------------------------------


def choice(given: dict, name: str, allowed: dict, errors, default: str = "") -> str:
    """One of ``allowed``'s keys from ``given[name]`` (``default`` when absent)."""
    value = str(given.get(name) or default)
    if value not in allowed:
        errors.add(name, _("Pick one of the options."))
    return value


ROWS = Option("rows", gettext_lazy("Rows"), {"5": "5", "10": "10", "20": "20"}, "5", number=True)


def offered_views(user) -> list[tuple[SavedView, RecordType]]:
    """The saved views ``user`` may put on a dashboard: those they see, of the types
    they may view, in one read."""
    found = []
    for view in SavedView.objects.seen_by(user).order_by("object_type", "name", "id"):
        rt = views.record_type(view)
        if rt is not None and type_allowed(user, rt.object_type):
            found.append((view, rt))
    return found


def view_input(user, given: dict) -> Input:
    options = [
        (str(view.pk), f"{str(rt.plural).capitalize()}: {view.name}")
        for view, rt in offered_views(user)
    ]
    value = str(given.get("view_id") or "")
    return Input("view_id", _("Saved view"), options, value, refreshes=True)


def chosen_view(user, given: dict, errors) -> tuple[SavedView, RecordType] | None:
    """The saved view named by ``given["view_id"]``, if ``user`` may use it."""
    pk = as_db_id(given.get("view_id"))
    try:
        view = views.view_for(user, pk)
    except NotFound:
        view = None
    rt = views.record_type(view) if view is not None else None
    if rt is None or not type_allowed(user, rt.object_type):
        errors.add("view_id", _("Choose one of your saved views."))
        return None
    return view, rt


def view_records(user, settings: dict) -> figures.ViewRecords | None:
    """The widget's view read for ``user``; None when they may no longer open it."""
    try:
        view = views.view_for(user, settings.get("view_id"))
    except NotFound:
        return None
    rt = views.record_type(view)
    if rt is None or not type_allowed(user, rt.object_type):
        return None
    return figures.view_records(user, rt, view)


def unavailable() -> dict:
    return {"unavailable": _("This saved view was deleted or is not shared with you.")}


def record_rows(rt: RecordType, objs) -> list[dict]:
    return [
        {
            "id": obj.pk,
            "title": str(obj),
            "subtitle": str(rt.row_subtitle(obj) or ""),
            "url": rt.url_of(obj),
            "marked": rt.row_class(obj),
        }
        for obj in objs
    ]
