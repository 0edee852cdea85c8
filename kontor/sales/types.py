"""Deals on the engine: list, detail, forms, API, export, search, audit come from it."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kontor.accounts.models import Department
from kontor.core import grouping
from kontor.core.inputs import as_db_id
from kontor.core.money import currency_filter, currency_grouping, format_money
from kontor.core.types import (
    CellKind,
    Column,
    ExportColumn,
    Filter,
    FilterKind,
    ImportReference,
    MenuEntry,
    RecordType,
    Timeline,
    Verbs,
)

from . import schemas, services
from .models import Deal, Pipeline, Stage, StageChange


def money(amount, currency: str) -> str:
    return format_money(amount, currency)


def _by_pipeline(qs, user, value):
    return qs.filter(pipeline_id=value) if str(value).isdigit() else qs.none()


def _pipeline_options(user):
    return [(str(p.pk), p.name) for p in Pipeline.objects.filter(is_active=True)]


def _by_stage(qs, user, value):
    return qs.filter(stage_id=value) if str(value).isdigit() else qs.none()


def _stage_options(user):
    return [
        (str(s.pk), f"{s.pipeline.name} · {s.name}")
        for s in Stage.objects.select_related("pipeline").filter(pipeline__is_active=True)
    ]


_STATUS = {
    "open": Q(closed_at__isnull=True),
    "won": Q(stage__kind=Stage.Kind.WON),
    "lost": Q(stage__kind=Stage.Kind.LOST),
    # What a win rate is counted over.
    "closed": Q(stage__kind__in=(Stage.Kind.WON, Stage.Kind.LOST)),
}


def _by_status(qs, user, value):
    return qs.filter(_STATUS[value]) if value in _STATUS else qs.none()


def _status_options(user):
    return [
        ("open", pgettext_lazy("deals", "Open")),
        ("won", pgettext_lazy("deals", "Won")),
        ("lost", pgettext_lazy("deals", "Lost")),
        ("closed", pgettext_lazy("deals", "Won or lost")),
    ]


# -- what a report's figure opens: its deals, by the figure's own definition ------------------
#
# A period is "first..last", both days included, either one left out for an open end:
# "2026-01-01..2026-03-31", "2026-04-01..".


PERIOD_YEARS = (1900, 2999)


def day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def period_value(start: datetime.date | None, end: datetime.date | None) -> str:
    """The period filter's value for [start, end): ``end`` is the day after the last."""
    last = end - datetime.timedelta(days=1) if end else None
    return f"{start.isoformat() if start else ''}..{last.isoformat() if last else ''}"


def parse_period(value: str) -> tuple[datetime.date | None, datetime.date | None] | None:
    """(first, last) of a period filter's value, or None when it is not one."""
    first_text, dots, last_text = value.strip().partition("..")
    if not dots or not (first_text or last_text):
        return None
    try:
        first = datetime.date.fromisoformat(first_text) if first_text else None
        last = datetime.date.fromisoformat(last_text) if last_text else None
    except ValueError:
        return None
    if first and last and last < first:
        return None
    # Far beyond any deal, and where converting a day's first moment to UTC overflows.
    if any(day and not PERIOD_YEARS[0] <= day.year <= PERIOD_YEARS[1] for day in (first, last)):
        return None
    return first, last


def _period_filter(name: str, label, column: str, description: str) -> Filter:
    """A filter narrowing ``column`` to a period's days; a date-time column by the days'
    moments in the current time zone, as the reports count them."""
    moments = Deal._meta.get_field(column).get_internal_type() == "DateTimeField"

    def apply(qs, user, value):
        period = parse_period(value)
        if period is None:
            return qs.none()
        first, last = period
        if first:
            qs = qs.filter(**{f"{column}__gte": day_start(first) if moments else first})
        if last:
            if moments:
                qs = qs.filter(**{f"{column}__lt": day_start(last + datetime.timedelta(days=1))})
            else:
                qs = qs.filter(**{f"{column}__lte": last})
        return qs

    return Filter(
        name, label, FilterKind.LINKED, apply, description=description, describe=_describe_period
    )


def _describe_period(user, value) -> str:
    period = parse_period(value)
    if period is None:
        return value
    first, last = (formats.date_format(day, "SHORT_DATE_FORMAT") if day else "…" for day in period)
    return f"{first} – {last}"


def reached_q(stage: Stage) -> Q:
    """The deals that reached ``stage`` as the funnel counts them (reports.funnel): ever
    moved into it or into a later stage of its pipeline, or won; a move into lost
    reaches nothing."""
    moves = StageChange.objects.filter(deal=OuterRef("pk")).filter(
        Q(to_stage__kind=Stage.Kind.WON)
        | Q(to_stage__kind=Stage.Kind.OPEN, to_stage__position__gte=stage.position)
    )
    return Q(pipeline_id=stage.pipeline_id) & Q(Exists(moves))


def _reached_stage(value) -> Stage | None:
    pk = as_db_id(value)
    return Stage.objects.select_related("pipeline").filter(pk=pk).first() if pk else None


def _by_reached_stage(qs, user, value):
    stage = _reached_stage(value)
    return qs.filter(reached_q(stage)) if stage is not None else qs.none()


def _describe_stage(user, value) -> str:
    stage = _reached_stage(value)
    return f"{stage.pipeline.name} · {stage.name}" if stage else str(value)


def _department(value):
    pk = as_db_id(value)
    return Department.objects.filter(pk=pk).first() if pk else None


def _by_department_tree(qs, user, value):
    department = _department(value)
    if department is None:
        return qs.none()
    return qs.filter(department_id__in=department.subtree_ids())


def _describe_department(user, value) -> str:
    department = _department(value)
    return str(department) if department else str(value)


def _stage_cell(deal: Deal) -> str:
    return f"{deal.pipeline.name} · {deal.stage.name}"


class _PipelineNames:
    def __init__(self):
        self.ids: dict[str, int] | None = None
        self.names: list[str] = []

    def resolve(self, text: str, data: dict) -> int:
        if self.ids is None:
            self.ids = {}
            for pipeline in Pipeline.objects.all():
                self.ids[pipeline.name.casefold()] = pipeline.pk
                self.names.append(pipeline.name)
        found = self.ids.get(" ".join(text.split()).casefold())
        if found is None:
            raise ValueError(
                gettext("Unknown pipeline: %(name)s (known: %(names)s).")
                % {"name": text, "names": ", ".join(self.names)}
            )
        return found


class _StageNames:
    def __init__(self):
        self.by_pipeline: dict[int, dict[str, int]] | None = None
        self.names: dict[int, list[str]] = {}
        self.default_id: int | None = None

    def resolve(self, text: str, data: dict) -> int:
        if self.by_pipeline is None:
            self.by_pipeline = {}
            for stage in Stage.objects.order_by("position", "id"):
                stages = self.by_pipeline.setdefault(stage.pipeline_id, {})
                stages.setdefault(stage.name.casefold(), stage.pk)
                self.names.setdefault(stage.pipeline_id, []).append(stage.name)
            default = services.default_pipeline()
            self.default_id = default.pk if default else None
        pipeline_id = data.get("pipeline_id") or self.default_id
        found = self.by_pipeline.get(pipeline_id, {}).get(" ".join(text.split()).casefold())
        if found is None:
            raise ValueError(
                gettext("Unknown stage: %(name)s (the pipeline's stages: %(names)s).")
                % {"name": text, "names": ", ".join(self.names.get(pipeline_id, ()))}
            )
        return found


class DealType(RecordType):
    model = Deal
    verbs = Verbs(services.create_deal, services.update_deal, services.delete_deal)
    name = "deal"
    path = "deals"
    namespace = "sales"
    singular = _("deal")
    plural = _("deals")
    menu = MenuEntry(_("Deals"), order=25)
    home_widget = True
    # On its company's and contact person's timelines from when it was opened; and a
    # deal's page has a timeline of its own: the tasks, notes and calls about it.
    timeline = Timeline("created_at", "sales/_deal_entry.html", label=_("Deals"))
    shows_timeline = True
    has_tags = True
    list_prefetch = ("tags", "lines")
    timeline_parent_fields = ("company_id", "person_id")
    sorts = {
        "name": ("title", "id"),
        "-name": ("-title", "-id"),
        "amount": ("amount", "id"),
        "-amount": ("-amount", "-id"),
        "close": ("expected_close", "id"),
        "-close": ("-expected_close", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    default_sort = "-created"
    groups = (
        grouping.by_relation(
            "stage",
            _("Stage"),
            "stage",
            Stage,
            order=("pipeline__name", "pipeline_id", "stage__position", "stage_id"),
            title=lambda stage: f"{stage.pipeline} · {stage}",
            related=("pipeline",),
        ),
        grouping.by_relation(
            "pipeline", _("Pipeline"), "pipeline", Pipeline, order=("pipeline__name", "pipeline_id")
        ),
        currency_grouping(),
    )
    filters = (
        Filter(
            "status",
            _("Status"),
            FilterKind.CHOICE,
            _by_status,
            options=_status_options,
            description="open, won, lost, closed (won or lost)",
        ),
        Filter(
            "pipeline_id",
            _("Pipeline"),
            FilterKind.CHOICE,
            _by_pipeline,
            options=_pipeline_options,
            description="A pipeline's id",
        ),
        Filter(
            "stage_id",
            _("Stage"),
            FilterKind.CHOICE,
            _by_stage,
            options=_stage_options,
            description="A stage's id",
        ),
        currency_filter(),
        _period_filter(
            "created",
            _("Opened"),
            "created_at",
            "Opened in a period: first..last (days included, YYYY-MM-DD; either end may be "
            "left out)",
        ),
        _period_filter(
            "closed", _("Closed"), "closed_at", "Won or lost in a period: first..last, as created"
        ),
        _period_filter(
            "close",
            _("Expected close"),
            "expected_close",
            "Expected to close in a period: first..last, as created",
        ),
        Filter(
            "reached_stage_id",
            _("Reached stage"),
            FilterKind.LINKED,
            _by_reached_stage,
            description="A stage's id: the deals of its pipeline that ever reached it "
            "or a later stage, or were won (the funnel's definition)",
            describe=_describe_stage,
        ),
        Filter(
            "department_tree_id",
            _("Department and below"),
            FilterKind.LINKED,
            _by_department_tree,
            description="A department's id: the deals of it and of the departments below it",
            describe=_describe_department,
        ),
    )
    profile_template = "sales/_deal_profile.html"
    subtitle_template = "sales/_deal_subtitle.html"
    form_template = "sales/_deal_fields.html"
    mine_label = _("My deals")
    hidden_name = _("a deal you cannot see")
    unknown_text = _("Unknown deal.")
    new_label = _("New deal")
    search_placeholder = _("Search deals…")
    empty_title = _("No deals yet")
    first_label = _("Add the first deal")
    empty_text = _("Follow each sale from the first contact to won or lost, stage by stage.")
    search = {"label": _("Deals"), "ordering": ("title", "id"), "code": 9}
    search_description = "Title, notes"
    out_schema = schemas.DealOut
    create_schema = schemas.DealIn
    patch_schema = schemas.DealPatch

    @property
    def form_class(self):
        from .forms import DealForm

        return DealForm

    @property
    def columns(self):
        return (
            Column("title", pgettext_lazy("deal", "Title"), CellKind.TITLE, str, sort="name"),
            Column("stage", _("Stage"), CellKind.TEXT, _stage_cell),
            Column(
                "amount",
                _("Amount"),
                CellKind.TEXT,
                lambda d: money(d.amount, d.currency),
                sort="amount",
            ),
            Column("company", _("Company"), CellKind.RECORD, lambda d: d.visible_company),
            Column(
                "close", _("Expected close"), CellKind.DATE, lambda d: d.expected_close, "close"
            ),
            Column("owner", _("Owner"), CellKind.TEXT, lambda d: d.owner or ""),
            Column("tags", _("Tags"), CellKind.TAGS, lambda d: d.tags.all()),
            Column("updated", _("Updated"), CellKind.DATE, lambda d: d.updated_at, "updated"),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda d, extra: d.pk),
        ExportColumn(pgettext_lazy("deal", "Title"), lambda d, extra: d.title),
        ExportColumn(_("Pipeline"), lambda d, extra: d.pipeline.name),
        ExportColumn(_("Stage"), lambda d, extra: d.stage.name),
        ExportColumn(_("Amount"), lambda d, extra: d.amount),
        ExportColumn(_("Currency"), lambda d, extra: d.currency),
        ExportColumn(_("Expected close"), lambda d, extra: d.expected_close),
        ExportColumn(_("Company"), lambda d, extra: str(d.visible_company or "")),
        ExportColumn(_("Contact person"), lambda d, extra: str(d.visible_person or "")),
        ExportColumn(_("Source"), lambda d, extra: d.get_source_display()),
        ExportColumn(_("Lost reason"), lambda d, extra: str(d.lost_reason or "")),
        ExportColumn(_("Closed"), lambda d, extra: d.closed_at),
        ExportColumn(_("Owner"), lambda d, extra: str(d.owner or "")),
        ExportColumn(_("Department"), lambda d, extra: str(d.department or "")),
        ExportColumn(_("Created"), lambda d, extra: d.created_at),
    )

    def importer(self, actor):
        from .bulk import DealImporter

        return DealImporter(self, actor)

    def import_references(self, actor) -> list[ImportReference]:
        """A row names its pipeline and its stage (within the row's pipeline, else the
        default one) by name, whatever the case; read at the first row that needs them."""
        return [
            ImportReference("pipeline", _("Pipeline"), "pipeline_id", _PipelineNames().resolve),
            ImportReference("stage", _("Stage"), "stage_id", _StageNames().resolve),
        ]

    def import_links(self, row: dict) -> list:
        # Its company and contact person are what it is about, as in a single write
        # (``services.clients_of``).
        return [
            f"{name}:{row[field]}"
            for name, field in (("company", "company_id"), ("person", "person_id"))
            if row.get(field) not in (None, "")
        ]

    def base_queryset(self, user, action, *, sorted_page=False):
        qs = super().base_queryset(user, action, sorted_page=sorted_page)
        return qs.select_related("pipeline", "stage", "lost_reason")

    def timeline_queryset(self, user):
        return super().timeline_queryset(user).select_related("stage")

    def timeline_parents(self, obj) -> list[tuple[str, int]]:
        """What is about a deal (a task, a note) is on its client's timelines too."""
        parents = []
        if obj.company_id:
            parents.append(("contacts.company", obj.company_id))
        if obj.person_id:
            parents.append(("contacts.person", obj.person_id))
        return parents

    def list_links(self, user):
        return [(_("Board"), reverse("sales:board")), (_("Reports"), reverse("sales:reports"))]

    def tags_in_use(self, user):
        from kontor.contacts.queries import tags_in_use

        return tags_in_use(user, self.model)

    def row_subtitle(self, obj):
        return obj.visible_company or ""

    def to_out(self, obj) -> dict:
        return schemas.deal_out(obj)

    def list_items(self, objs: list) -> list[dict]:
        prefetch_related_objects(objs, "tags", "lines")
        return super().list_items(objs)

    def profile_context(self, request, obj) -> dict:
        from .line_views import quote_context
        from .models import StageChange

        changes = (
            StageChange.objects.filter(deal=obj)
            .select_related("from_stage", "to_stage", "moved_by")
            .order_by("-moved_at", "-id")
        )
        return {"stage_changes": changes[:50], **quote_context(request, obj)}


DEAL = DealType()
