"""The object-type registry: every kind of record Kontor keeps, as the generic layer sees it.

A type registers once, in its app's ``AppConfig.ready()``: its model, labels, paths,
list and one-record queries, filters and sorts (one definition serving UI, API and
export), services, columns, search spec, menu entry and home widget. The generic parts
(web views, the API route builder, export, bulk actions, history, the roles editor, the
audit log, the navigation menu, the home page, the permission matrix) list types from
here and never name a concrete one: what a type needs beyond the engine is a hook here.

Two kinds of entries:
- ``AuditedType``: something whose changes the audit log keeps and a role grants on
  (users, departments, roles). It has a model with ``visible_to`` and labels.
- ``RecordType``: a business record (``core.models.BusinessRecord``) with the whole
  engine: lists, detail, forms, API, export, bulk, search.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, Exists, ForeignKey, OuterRef, Q, Value
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import customfields, grouping
from .access import Action, record_in_scope, sees_all
from .errors import ValidationFailed

# -- lists: filters, sorts, columns ---------------------------------------------------------


@dataclass
class ListFilters:
    """What a list may be narrowed by, in every channel; every field optional.

    ``extra`` holds the type's own filters by name (``company_id``, ``industry``); their
    definitions (``Filter``) say how each narrows the list and how it is offered.
    """

    q: str = ""
    tag: str = ""
    # An id, or ``grouping.NO_VALUE``: the records without one (a chart's empty group).
    owner_id: int | str | None = None
    department_id: int | str | None = None
    mine: bool = False
    sort: str = ""
    extra: dict = field(default_factory=dict)
    # Custom field conditions, each "name:value" or "name__op:value" (op: eq, lt, gte,
    # contains, has, empty...; see core.customfields.OPERATORS). A sort "cf.<name>"
    # ("-cf.<name>") sorts by a custom field.
    custom: list[str] = field(default_factory=list)

    def get(self, name: str, default=None):
        return self.extra.get(name, default)

    @property
    def is_narrowed(self) -> bool:
        return bool(
            self.q
            or self.tag
            or self.owner_id
            or self.department_id
            or self.mine
            or any(v not in (None, "") for v in self.extra.values())
            or self.custom
        )


class FilterKind:
    RECORD = "record"  # an id of a record of another type: a chip with its name
    CHOICE = "choice"  # one of the values ``options(user)`` offers: a select
    # A value a link brings (a report's figure opening its records: a period, a stage
    # reached): a chip saying it while set, ``describe(user, value)`` its text.
    LINKED = "linked"


@dataclass(frozen=True)
class Filter:
    """One filter of a type's list beyond the common ones (text, tag, owner, department)."""

    name: str  # the query parameter: "company_id"
    label: str
    kind: str
    # (queryset, user, value) -> narrowed queryset; value is never empty here.
    apply: Callable
    target: str = ""  # RECORD: the registered name of the type the id names
    # CHOICE: user -> the values offered, each a value or a (value, label) pair
    options: Callable | None = None
    description: str = ""  # for the API's documentation
    describe: Callable | None = None  # LINKED: (user, value) -> the chip's text


class CellKind:
    """How a list cell is shown (web/records/_cell.html); custom field kinds map here too."""

    TITLE = "title"  # the record's name, linking to it, with the type's row subtitle
    TEXT = "text"
    RECORD = "record"  # a linked record (already checked visible), linking to it
    PHONE = "phone"
    EMAIL = "email"
    TAGS = "tags"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    """A column of the list: a label, how its cell is shown, and the sort key it offers."""

    key: str
    label: str
    kind: str
    # record -> the cell's value (a text, a record, a phone, a list of tag names ...)
    value: Callable
    sort: str = ""
    reads_custom: bool = False  # the value comes from the record's custom values


@dataclass(frozen=True)
class ExportColumn:
    """A column of the CSV/XLSX export: its header and its typed value.

    ``value(record, extra)`` gets what the type's ``export_extra`` read for the record's
    chunk (contact points, say), so a chunk of rows costs a few queries, not one per row.
    """

    header: str
    value: Callable


@dataclass(frozen=True)
class Verbs:
    """A type's write services: ``create(data, *, actor)``, ``update(obj, data, *,
    actor, expected_version)``, ``delete(obj, *, actor, expected_version)``."""

    create: Callable
    update: Callable
    delete: Callable
    # Many records at once (``delete_many(objs, *, actor)``), for a type whose deleting
    # does more than the engine's ``core.services.delete_records``.
    delete_many: Callable | None = None


@dataclass(frozen=True)
class Timeline:
    """How a type's records show on the timelines of the records they are about
    (``core.timeline``): a note, a call, a meeting, a task."""

    moment_field: str  # the field that places an entry in time ("started_at")
    template: str  # the entry's partial; its context holds ``entry`` (a timeline.Entry)
    quick_template: str = ""  # a short create form on a record's timeline, if any
    label: str = ""  # the kind's name in the timeline's filter ("Calls")


@dataclass(frozen=True)
class ImportLookup:
    """How an import finds a record of a type from a cell of another type's row (a
    person's company by its tax id, a deal's contact by an email).

    ``compared`` is what the cell's text (``normalize``d) is compared with: a lookup
    path of the type's queryset ("tax_id", "emails__normalized") or an expression (a
    full name). ``creates``: a record not found is created from the row's cells (a
    company by its name, with its tax id); the keys of such a type's lookups are then
    its create data's keys."""

    key: str  # the import target's last part: "company.tax_id"
    label: str
    compared: object
    normalize: Callable[[str], str] = str.strip
    creates: bool = False

    def find(self, queryset, values: set[str]):
        """(id, value) of the records of ``queryset`` that have one of ``values``,
        whatever the case: read by the exact and by the case-folded values (SQLite's
        lower() knows ASCII only), oldest first."""
        path = self.compared
        if not isinstance(path, str):
            queryset, path = queryset.annotate(import_lookup=path), "import_lookup"
        wanted = values | {value.casefold() for value in values}
        return queryset.filter(**{f"{path}__in": wanted}).order_by("pk").values_list("pk", path)


@dataclass(frozen=True)
class ImportReference:
    """A field an import gives by a name where the type's services take an id (a
    deal's stage): ``resolve(text, data)`` answers the id for a cell's text, the row's
    data so far at hand (the stage named within the row's pipeline), or raises
    ``ValueError`` saying which names are known."""

    key: str  # the import target's key: "stage"
    label: str
    field: str  # the create data's key: "stage_id"
    resolve: Callable[[str, dict], int]


@dataclass(frozen=True)
class MenuEntry:
    label: str
    order: int = 100


# -- the types ------------------------------------------------------------------------------


class AuditedType:
    """A kind of object whose changes are audited and on which roles grant actions."""

    model: type
    singular: str
    plural: str

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower

    @classmethod
    def of(cls, model, singular, plural) -> AuditedType:
        entry = cls()
        entry.model, entry.singular, entry.plural = model, singular, plural
        return entry

    def visible(self, user, action: str = Action.VIEW, *, sorted_page: bool = False):
        """``sorted_page``: read as pages sorted along an index (see ``access.scope_q``)."""
        return self.model.objects.visible_to(user, action, sorted_page=sorted_page)

    def url_of(self, obj, page: str = "detail") -> str:
        """The object's page in the UI (its detail page, or another of its pages such as
        "done"), or "" if it has none."""
        return ""

    def links(self) -> list[tuple[str, RecordType]]:
        """Foreign keys of this type to registered record types: (field name, type)."""
        found = []
        for model_field in self.model._meta.get_fields():
            if isinstance(model_field, ForeignKey):
                target = by_model(model_field.related_model)
                if isinstance(target, RecordType):
                    found.append((model_field.name, target))
        return found


# A record id no database holds, standing for the id in a reversed detail URL.
_PK_MARK = 987654321987
_record_urls: dict[tuple[str, str, str], str] = {}


class RecordType(AuditedType):
    """A business record type with the whole engine. Subclass, set the attributes, and
    override a hook where the generic behaviour is not enough; then ``register()`` it.
    """

    name: str  # "person": URL names ("<namespace>:person_list"), API operation ids
    path: str  # "people": the UI's path segment and the API's "/people"
    namespace: str  # the URL namespace of its UI pages ("contacts")
    menu: MenuEntry | None = None
    home_widget: bool = False
    # Sort key -> order_by fields; "name" first. A sort must walk an index at 1M rows.
    sorts: dict[str, tuple[str, ...]] = {}
    default_sort = "name"
    filters: tuple[Filter, ...] = ()
    # How the list may group its rows beyond owner, department and custom fields.
    groups: tuple[grouping.Grouping, ...] = ()
    columns: tuple[Column, ...] = ()
    export_columns: tuple[ExportColumn, ...] = ()
    # Read with a page of list rows (the list's cells read them).
    list_prefetch: tuple[str, ...] = ()
    # Whether records carry tags (a "tags" many-to-many): tag filter, bulk tag.
    has_tags: bool = False
    # UI partials: the profile tab's body and the form's own sections.
    profile_template: str = "web/records/_profile.html"
    subtitle_template: str = ""  # the line under the detail page's title
    form_template: str = ""
    form_class: type | None = None
    # Field names the create form may take from the query string ("company_id").
    initial_fields: tuple[str, ...] = ()
    # How the history names a linked record of this type the reader cannot see, and
    # what a form or service says of an id of this type that names nothing visible.
    hidden_name: str = _("a record you cannot see")
    unknown_text: str = _("Unknown record.")
    empty_text: str = ""  # the empty list's invitation
    search_placeholder: str = _("Search by name…")  # the list's search box
    owner_label: str = _("Owner")  # what the type calls a record's owner ("Assignee")
    mine_label: str = _("My records")  # the list's "owned by me" box ("Assigned to me")
    # Records of this type are timeline entries (see ``Timeline``); None: they are not.
    timeline: Timeline | None = None
    # How an import finds a record of this type named on another type's row, most
    # telling first (a tax id before a name); none: an import cannot name one.
    import_lookups: tuple[ImportLookup, ...] = ()
    # What formula fields read besides the custom fields (``core.customfields.computed``):
    # the record's own columns and links by name, a link offering its record's columns
    # and custom fields ("company.name"). None: every column people edit of a kind
    # formulas read (text, numbers, dates, yes/no), and every link to a record type.
    formula_columns: tuple[str, ...] | None = None

    # Phrases naming the type. A language declines a type's name ("нет людей"), so a
    # built-in type spells each one out; these defaults serve types named at run time.
    @property
    def new_label(self) -> str:
        return format_lazy(_("New: {type}"), type=self.singular)

    @property
    def empty_title(self) -> str:
        return format_lazy(_("No records yet: {types}"), types=self.plural)

    @property
    def first_label(self) -> str:
        return format_lazy(_("Add the first record: {type}"), type=self.singular)

    # -- reads ---------------------------------------------------------------------------

    def base_queryset(self, user, action: str, *, sorted_page: bool = False):
        """The records ``user`` may ``action``, with what every channel's rows read: each
        link marked visible or not (``visible_link``), its record read in the same query
        by its name alone (``select_names``)."""
        links = [name for name, _target in self.links()]
        qs = self.visible(user, action, sorted_page=sorted_page)
        qs = select_names(qs, "owner", "department", *links)
        return with_visible_links(qs, user, links)

    def sorts_for(self, user) -> dict[str, tuple[str, ...]]:
        return self.sorts

    # -- timeline ----------------------------------------------------------------------------

    @property
    def shows_timeline(self) -> bool:
        """Whether a record's page has a timeline tab: every type that is not itself an
        entry on timelines."""
        return self.timeline is None

    # The audited fields whose change moves a record's timeline parents ("company_id").
    timeline_parent_fields: tuple[str, ...] = ()

    def timeline_parents(self, obj) -> list[tuple[str, int]]:
        """The records (object type, id) whose timelines also show the entries about
        ``obj``: a person's company."""
        return []

    def import_links(self, row: dict) -> list:
        """The records a bulk import's row is about (``core.timeline``): its ``links``; a
        type whose participants are links adds them."""
        return list(row.get("links") or ())

    def timeline_queryset(self, user):
        """An entry type's records as its timeline entries read them: their own columns
        and their owner's name (a list's annotations and link marks are not shown)."""
        return select_names(self.visible(user), "owner")

    def list_query(self, user, filters: ListFilters | None = None, *, action=Action.VIEW):
        """Records ``user`` may ``action`` (view, or export for exports), filtered and sorted.

        The one definition of a list: UI, API and export all read it.
        """
        from . import search

        filters = filters or ListFilters()
        sorted_page = action == Action.VIEW and self._sorts_along_index(user, filters.sort)
        qs = self.base_queryset(user, action, sorted_page=sorted_page)
        for spec in self.filters:
            value = filters.get(spec.name)
            if value not in (None, ""):
                qs = spec.apply(qs, user, value)
        if filters.q:
            qs = search.narrow(qs, filters.q, user, sorted_page=sorted_page)
        if filters.tag and self.has_tags:
            qs = qs.filter(tags__name__iexact=filters.tag)
        for column in ("owner_id", "department_id"):
            value = getattr(filters, column)
            if value == grouping.NO_VALUE:
                qs = qs.filter(**{f"{column}__isnull": True})
            elif value:
                qs = qs.filter(**{column: value})
        if filters.mine:
            qs = qs.filter(owner_id=user.pk)
        for condition in filters.custom:
            qs = qs.filter(custom_condition(user, self.object_type, condition))
        if filters.sort.lstrip("-").startswith(CUSTOM_SORT):
            name = filters.sort.lstrip("-").removeprefix(CUSTOM_SORT)
            descending = filters.sort.startswith("-")
            found = _custom_field(user, self.object_type, name)
            return qs.order_by(*customfields.order_by(found, descending=descending))
        sorts = self.sorts_for(user)
        return qs.order_by(*sorts.get(filters.sort, sorts[self.default_sort]))

    def list_page_query(self, user, filters: ListFilters, columns: Iterable[Column]):
        """The rows of the UI list showing ``columns``: ``list_query``, with the custom
        values read only if a column shows one (decoding a person's ten values was a
        tenth of a page of 50)."""
        qs = self.list_query(user, filters)
        return qs if any(c.reads_custom for c in columns) else qs.defer("custom")

    def _sorts_along_index(self, user, sort: str) -> bool:
        """Whether an index serves the list's order for ``sort``: every sort the type
        declares does (``sorts``), a custom field's sort walks the field's own index; a
        reader's variant of a sort that is not in ``sorts`` (a hidden employer sorted as
        empty) does not."""
        bare = sort.lstrip("-")
        if bare.startswith(CUSTOM_SORT):
            return self.sort_allowed(user, sort)
        sorts = self.sorts_for(user)
        return sorts.get(sort, sorts[self.default_sort]) in self.sorts.values()

    def sort_allowed(self, user, sort: str) -> bool:
        """Whether ``sort`` is one of the type's sorts or a custom field ``user`` may sort by."""
        bare = sort.lstrip("-")
        if bare.startswith(CUSTOM_SORT):
            name = bare.removeprefix(CUSTOM_SORT)
            found = customfields.visible_field(user, self.object_type, name)
            return found is not None and found.kind in customfields.SORTABLE_KINDS
        return sort in self.sorts

    def one(self, user, pk, *, action: str = Action.VIEW):
        """One record with what its detail page and API answer read, or NotFound."""
        return self.base_queryset(user, Action.VIEW).get_visible(user, pk, action)

    def api_one(self, user, pk):
        """One record to view, read for ``to_out`` (the API's answer), or NotFound; a type
        whose ``to_out`` reads its own lists reads less here than the detail page does.
        A timeline entry carries the records it is about that ``user`` may see
        (``timeline_links``)."""
        obj = self.one(user, pk)
        if self.timeline:
            from .timeline import link_refs

            obj.timeline_links = link_refs(user, obj)
        return obj

    def list_columns(self, user) -> list[Column]:
        """The list's columns for ``user``: the type's own, then one per custom field they
        may see (shown when chosen in the list's column menu)."""
        columns = list(self.columns)
        for found in customfields.visible_fields(user, self.object_type):
            sortable = found.kind in customfields.SORTABLE_KINDS
            columns.append(
                Column(
                    f"{CUSTOM_SORT}{found.name}",
                    found.label,
                    CellKind.TEXT,
                    _custom_cell(user, found),
                    sort=f"{CUSTOM_SORT}{found.name}" if sortable else "",
                    reads_custom=True,
                )
            )
        return columns

    def export_columns_for(self, user) -> list[ExportColumn]:
        """The export's columns for ``user``: the type's own, then the custom fields they
        may see, as typed values (numbers, dates, yes/no; choices by their labels)."""
        return [
            *self.export_columns,
            *(
                ExportColumn(found.label, _custom_export(user, found))
                for found in customfields.visible_fields(user, self.object_type)
            ),
        ]

    # The formats its list exports to; "vcf" needs ``vcard``.
    export_formats: tuple[str, ...] = ("csv", "xlsx")

    def vcard(self, obj, extra: dict) -> str:
        """The record as one vCard 4.0 (a type that exports "vcf"); ``extra`` as
        ``export_extra`` read it."""
        raise NotImplementedError

    def export_extra(self, ids: list[int]) -> dict[int, dict]:
        """What export columns read besides the row, for a chunk of ids (one dict per id)."""
        return {pk: {} for pk in ids}

    def row_subtitle(self, obj) -> str:
        """The small line under a row's title (a person's position)."""
        return ""

    # -- writes: the type's services -----------------------------------------------------

    # The type's domain verbs, unless it overrides the three methods below.
    verbs: Verbs | None = None

    def create(self, data: dict, *, actor):
        return self.verbs.create(data, actor=actor)

    def update(self, obj, data: dict, *, actor, expected_version=None):
        return self.verbs.update(obj, data, actor=actor, expected_version=expected_version)

    def delete(self, obj, *, actor, expected_version=None) -> None:
        self.verbs.delete(obj, actor=actor, expected_version=expected_version)

    def delete_many(self, objs: list, *, actor) -> None:
        """Delete these records together (a bulk delete, an import's undo): what
        ``delete`` does to each, in a few statements for all."""
        from .services import delete_records

        (getattr(self.verbs, "delete_many", None) or delete_records)(objs, actor=actor)

    def audited_lists(self, actor) -> tuple[str, ...]:
        """The lists a record is written and audited with (its phones, its tags): read
        as a prefetch before many records are deleted at once."""
        return self.importer(actor).related

    def tag_names(self, obj) -> list[str]:
        return [t.name for t in obj.tags.all()] if self.has_tags else []

    def tags_in_use(self, user):
        """The tags the list's filter and bulk bar offer ``user``."""
        return []

    def duplicate_warnings(self, data: dict, *, actor) -> dict:
        """Before creating: what the form warns of (records that look like ``data``)."""
        return {}

    def import_references(self, actor) -> list[ImportReference]:
        """The fields an import may give by name rather than by id (a deal's pipeline
        and stage), in the order they are resolved; read once per import."""
        return []

    def importer(self, actor):
        """This type's part of a bulk import (``kontor.core.bulk.Importer``): how an input
        row becomes a record and the rows written with it. The default takes the record's
        own columns only, which is all a type without child rows needs."""
        from .bulk import Importer

        return Importer(self, actor)

    # -- API (kontor.core.api_records) ----------------------------------------------------

    out_schema: type  # the whole record: detail, create and update answers
    create_schema: type
    patch_schema: type  # the create schema's fields, all optional, plus ``version``
    search_description: str = "Name and other text"

    @property
    def export_stem(self) -> str:
        """The export file's name before its date: "people-2026-12-01.csv"."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def list_schema(self) -> type:
        """One row of the API list: what a list shows (the full record is ``out_schema``)."""
        return self.out_schema

    def to_out(self, obj) -> dict:
        raise NotImplementedError

    def list_items(self, objs: list) -> list[dict]:
        """A page of API list rows; a type reads what its rows need for the page at once."""
        return [self.to_out(obj) for obj in objs]

    # -- UI ------------------------------------------------------------------------------

    def url(self, suffix: str, *args) -> str:
        return reverse(f"{self.namespace}:{self.name}_{suffix}", args=args)

    def url_of(self, obj, page: str = "detail") -> str:
        # Reversed once per type, page and script prefix, then filled in: a timeline page
        # names some sixty records, and each reverse walked the URL patterns.
        key = (get_script_prefix(), self.object_type, page)
        template = _record_urls.get(key)
        if template is None:
            try:
                template = self.url(page, _PK_MARK)
            except NoReverseMatch:
                template = ""
            _record_urls[key] = template
        return template.replace(str(_PK_MARK), str(obj.pk)) if template else ""

    def list_params(self) -> tuple[str, ...]:
        """The query parameters the list page reads as its state (``web.records.list_filters``;
        a saved view keeps these); "custom" alone may repeat."""
        common = ("q", "tag") if self.has_tags else ("q",)
        own = tuple(spec.name for spec in self.filters)
        return (*common, "owner_id", "department_id", "mine", *own, "custom", "sort", "group")

    def groupings(self, user) -> dict[str, grouping.Grouping]:
        """The ways ``user`` may group the list (the "group" parameter -> its grouping)."""
        found = (
            *grouping.common(self),
            *self.groups,
            *grouping.custom(user, self.object_type, CUSTOM_SORT),
        )
        return {g.key: g for g in found}

    def list_context(self, request, filters: ListFilters) -> dict:
        """More for the list page's template (rarely needed: filters come from ``filters``)."""
        return {}

    def quick_filters(self, user) -> list[tuple[str, dict[str, str]]]:
        """Named filters the list offers as links above its filters: (label, query),
        e.g. ("Assigned to me", {"mine": "true"})."""
        return []

    def row_class(self, obj) -> str:
        """A CSS class marking the record's row in lists (an overdue task's)."""
        return ""

    def list_links(self, user) -> list[tuple[str, str]]:
        """More pages the list links to among its actions: (label, URL), e.g. a report,
        deals' kanban board."""
        return []

    def profile_context(self, request, obj) -> dict:
        """More for the profile tab's template: what the record's page shows beside its
        fields (a task's checklist and comments), read for ``request.user``."""
        return {}

    def linked_from(self) -> list[tuple[RecordType, str]]:
        """Registered record types that point at this one: (type, their field name)."""
        return [
            (other, name)
            for other in record_types()
            for name, target in other.links()
            if target is self
        ]


# -- custom fields in lists ------------------------------------------------------------------

CUSTOM_SORT = "cf."


def _custom_cell(user, found):
    def cell(obj):
        stored = (obj.custom or {}).get(found.key)
        return "" if stored is None else customfields.reader_display(user, found, stored)

    return cell


def _custom_export(user, found):
    def value(obj, extra):
        stored = (obj.custom or {}).get(found.key)
        return None if stored is None else customfields.export_value(user, found, stored)

    return value


def _custom_field(user, object_type: str, name: str):
    """The custom field ``name`` of the type that ``user`` may see; a hidden one answers as
    an absent one (422 "Unknown field.")."""
    found = customfields.visible_field(user, object_type, name)
    if found is None:
        raise _unknown_field(name)
    return found


def _unknown_field(name: str) -> ValidationFailed:
    return ValidationFailed(errors={f"custom.{name}": [customfields.unknown_field_message()]})


def custom_condition(user, object_type: str, condition: str) -> Q:
    """The filter "name[__op]:value" on a custom field ``user`` may see, else a 422."""
    head, sep, value = condition.partition(":")
    name, _sep, op = head.partition("__")
    if not sep:  # names no value: answered as a field that is not there
        raise _unknown_field(name)
    found = _custom_field(user, object_type, name)
    op = op or "eq"
    if op == "range" or op == "in":
        value = value.split(",")
    return customfields.filter_q(found, op, value if op not in ("empty", "not_empty") else None)


# -- the registry ---------------------------------------------------------------------------

_types: dict[str, AuditedType] = {}


def register(entry: AuditedType) -> AuditedType:
    """Add a type (call from ``AppConfig.ready()``); a record type also becomes searchable
    if it defines ``search`` (keyword arguments of ``core.search.register``)."""
    _types[entry.object_type] = entry
    search_spec = getattr(entry, "search", None)
    if search_spec:
        from . import search

        search.register(entry.model, **search_spec)
    return entry


def unregister(entry: AuditedType) -> None:
    """Remove a type defined at run time (an archived custom object type)."""
    if _types.get(entry.object_type) is entry:
        del _types[entry.object_type]


_refreshers: list[Callable[[], None]] = []


def register_refresher(refresh: Callable[[], None]) -> None:
    """Add a source of types defined at run time (custom objects): ``refresh()`` brings
    this process's registry in step with it."""
    if refresh not in _refreshers:
        _refreshers.append(refresh)


def refresh() -> None:
    """Load the run-time types other processes defined since this one last looked. A
    request does it on its way in; code that serves no request (an event handler in the
    worker) calls this before naming a type."""
    for refresher in _refreshers:
        refresher()


def get(object_type: str) -> AuditedType | None:
    """The type registered as "app.model" ("contacts.person"), or None."""
    return _types.get(object_type)


def by_model(model) -> AuditedType | None:
    return _types.get(model._meta.label_lower)


def by_name(name: str) -> RecordType | None:
    """The record type registered as ``name`` ("person")."""
    for entry in record_types():
        if entry.name == name:
            return entry
    return None


def record_type_named(name: str) -> RecordType:
    """A registered record type by its name ("person"), path ("people") or object type
    ("contacts.person"), as a user or a client names it; else ``ValidationFailed``."""
    found = by_name(name) or next(
        (t for t in record_types() if t.path == name or t.object_type == name), None
    )
    if found is None:
        raise ValidationFailed(
            gettext("Unknown record type: %(name)s (one of: %(names)s).")
            % {"name": name, "names": ", ".join(sorted(t.path for t in record_types()))}
        )
    return found


def all_types() -> list[AuditedType]:
    return list(_types.values())


def record_types() -> list[RecordType]:
    return [t for t in _types.values() if isinstance(t, RecordType)]


def grantable() -> list[str]:
    """Every object type a role may grant on: record types (by name), then the other
    audited types, then the admin areas guarded by a grant."""
    names = sorted(t.object_type for t in record_types()) + [
        t.object_type for t in _types.values() if not isinstance(t, RecordType)
    ]
    return names + [name for name in _admin_areas if name not in names]


# Names a grant may carry that are no record: an admin area its holders open (the event
# deliveries, custom field definitions) with the label the roles editor shows.
_admin_areas: dict[str, str] = {}


def register_admin_area(object_type: str, label) -> None:
    _admin_areas[object_type] = label


@dataclass(frozen=True)
class MenuPage:
    """A page of an app's own in the navigation ("My day"), among the types' lists."""

    menu: MenuEntry
    url_name: str
    allowed: Callable  # user -> bool


_menu_pages: list[MenuPage] = []


def register_menu_page(page: MenuPage) -> None:
    if page not in _menu_pages:
        _menu_pages.append(page)


def menu(user) -> list[tuple[RecordType | MenuPage, str]]:
    """(type or page, URL) of the navigation's entries ``user`` may open, in their order."""
    from .access import may

    entries = [
        (t, t.url("list"))
        for t in record_types()
        if t.menu is not None and may(user, t.object_type, Action.VIEW)
    ]
    entries += [(p, reverse(p.url_name)) for p in _menu_pages if p.allowed(user)]
    return sorted(entries, key=lambda entry: entry[0].menu.order)


def url_of(obj, page: str = "detail") -> str:
    entry = by_model(type(obj))
    return entry.url_of(obj, page) if entry else ""


def label_of(object_type: str) -> str:
    entry = get(object_type)
    if entry is not None:
        return str(entry.plural)
    return str(_admin_areas.get(object_type, object_type))


# -- settings pages other apps add ----------------------------------------------------------


@dataclass(frozen=True)
class SettingsPage:
    """A page of the settings area: its URL name, menu label, and who may open it."""

    url_name: str
    label: str
    allowed: Callable  # user -> bool


_settings_pages: list[SettingsPage] = []


def register_settings_page(page: SettingsPage) -> None:
    if page not in _settings_pages:
        _settings_pages.append(page)


def settings_pages() -> list[SettingsPage]:
    return list(_settings_pages)


# Partials an app adds to every page's top bar, beside the account menu (the bell).
_topbar_items: list[str] = []


def register_topbar_item(template: str) -> None:
    if template not in _topbar_items:
        _topbar_items.append(template)


def topbar_items() -> list[str]:
    return list(_topbar_items)


# -- linked records: shown only to a reader who may see them --------------------------------


def select_names(qs, *fields: str):
    """``select_related(*fields)``, reading of each linked record only its key, the
    columns its name is made of (the linked model's ``name_fields``, what ``str()``
    reads) and its placement (what ``mark_links_in_scope`` checks); a model that does not
    declare ``name_fields`` is read whole.

    Every read model shows a linked record (owner, department, employer) by its name and
    link alone. Reading them whole built each from every column, converting each
    date-time: on a list page of 50 people that was a third of the page's time.
    """
    return qs.select_related(*fields).defer(
        *(
            name
            for field in fields
            for name in _unnamed_columns(qs.model._meta.concrete_model, field)
        )
    )


@functools.cache
def _unnamed_columns(model, field: str) -> tuple[str, ...]:
    """The columns of the record ``model.<field>`` links to that its name does not read."""
    related = model._meta.concrete_model._meta.get_field(field).related_model
    if not getattr(related, "name_fields", None):
        return ()
    placement = (
        getattr(related, "access_owner_field", None),
        getattr(related, "access_department_field", None),
    )
    shown = {*related.name_fields, *placement}
    return tuple(
        f"{field}__{column.attname}"
        for column in related._meta.concrete_fields
        if not column.primary_key and column.attname not in shown
    )


def link_visible_q(user, model, field: str) -> Q | None:
    """Whether the record ``field`` of a ``model`` row links to is visible to ``user``;
    None when ``user`` sees every record of the linked type (nothing to check).

    "IN (visible ids)", read once per query: for a head's list sorted by a linked name it
    took half the time of a correlated EXISTS per row.
    """
    target = model._meta.get_field(field).related_model
    if sees_all(user, target):
        return None
    entry = by_model(target)
    visible = entry.visible(user) if entry else target._default_manager.none()
    return Q(**{f"{field}_id__in": visible.values("pk")})


def with_visible_links(qs, user, fields: Iterable[str]):
    """Mark each row with ``<field>_visible`` for each link ``field``: the one rule every
    read model uses (lists, detail, API, export, search hits) before showing a link.

    The mark looks the linked record up by its key in each row read (EXISTS): a page of
    50 rows costs 50 lookups. "IN (visible ids)" (``link_visible_q``, for sorts that read
    every row) first reads every visible linked record: 100-200 ms per page or detail
    for a head who sees 90,000 of 100,000 companies.
    """
    for name in fields:
        target = qs.model._meta.get_field(name).related_model
        if sees_all(user, target):
            mark = Value(True, output_field=BooleanField())
        else:
            entry = by_model(target)
            visible = entry.visible(user) if entry else target._default_manager.none()
            mark = Exists(visible.filter(pk=OuterRef(f"{name}_id")))
        qs = qs.annotate(**{f"{name}_visible": mark})
    return qs


def mark_links_in_scope(user, objs: Iterable, fields: Iterable[str], *, drop_hidden=False):
    """``with_visible_links`` for rows already read with their linked records and those
    records' placement (``select_names`` keeps it; the phone lookup reads it itself):
    ``record_in_scope``, ``visible_to``'s Python twin (tests/test_permission_matrix.py
    holds the two to one answer), decides each link without a query.

    For one record that is cheaper than the EXISTS: compiling it for a reader who sees
    part of the linked type (the scope's departments) took 0.7 ms of a head's 1.7 ms
    read of one person. ``drop_hidden``: a hidden link's record is also dropped from the
    row, so ``obj.<field>`` is None (rows no template guards, the phone lookup's).
    """
    for name in fields:
        for obj in objs:
            linked = getattr(obj, name)
            shown = linked is not None and record_in_scope(user, linked, Action.VIEW)
            setattr(obj, f"{name}_visible", shown)
            if drop_hidden and not shown:
                obj._meta.get_field(name).set_cached_value(obj, None)


def visible_link(obj, field: str):
    """The record ``obj.<field>`` links to, if the read marked it visible; else None.

    A row read without the mark shows no link: forgetting the mark hides, never leaks.
    """
    return getattr(obj, field) if getattr(obj, f"{field}_visible", False) else None
