"""The browser pages of every registered record type: list, detail tabs, forms, bulk, documents.

Class-based views configured with a ``RecordType`` (``kontor.core.types``); a type's URLs
are ``record_urls(record_type)``. Thin by rule: every read goes through the type's
``list_query``/``one`` (a record outside the user's scope is a 404), every write through
the type's services or ``kontor.core.files``. Nothing here names a concrete type: what a
type shows beyond the engine comes from its hooks and partials (profile, form fields).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, router
from django.db.models.deletion import Collector
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from kontor.accounts.models import Department
from kontor.accounts.queries import assignable_owners, placement_department_tree
from kontor.core import customfields, files, grouping, modules, services, timeline, types
from kontor.core.access import Action, may, record_in_scope, require
from kontor.core.customfields import computed
from kontor.core.customfields.services import may_manage_fields
from kontor.core.errors import Conflict, KontorError, NotFound, PermissionDenied, ValidationFailed
from kontor.core.inputs import as_db_id
from kontor.core.models import Attachment, AuditEntry
from kontor.core.pagination import LookaheadPage, capped_count, page_number
from kontor.core.types import AuditedType, CellKind, FilterKind, ListFilters, RecordType
from kontor.core.types import by_name as type_by_name
from kontor.savedviews.views import default_address, list_menu

from .errors import service_errors
from .templatetags.kontor import query_string

PAGE_SIZE = 50
HISTORY_LIMIT = 200
RELATED_LIMIT = 200
# A bulk result names at most this many skipped records; the rest are counted.
SKIPPED_NAMES_SHOWN = 10


class RecordView(View):
    """A page of one record type: ``record_type`` is set by ``record_urls``, or (for
    types defined at run time) ``resolve_type`` finds it from the URL's ``type_slug``."""

    record_type: RecordType = None
    resolve_type = None  # slug -> RecordType or None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if self.resolve_type is not None:
            self.record_type = self.resolve_type(kwargs.pop("type_slug"))
            if self.record_type is None:
                raise Http404()
        return super().dispatch(request, *args, **kwargs)

    @property
    def rt(self) -> RecordType:
        return self.record_type

    def permissions(self) -> dict:
        return {a: may(self.request.user, self.rt.object_type, a) for a in Action.all}

    def safe_next(self, fallback: str) -> str:
        return self.safe_back(self.request.POST.get("next", "")) or fallback

    def safe_back(self, target: str) -> str:
        return safe_back(self.request, target)


def safe_back(request, target: str) -> str:
    """``target`` if it is a page of this site to go back to, else ""."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


# -- list ------------------------------------------------------------------------------------


def list_filters(params, rt: RecordType, user) -> ListFilters:
    """The list's filters as the browser sends them; a bad id or sort is ignored."""
    sort = params.get("sort", rt.default_sort)
    extra = {}
    for spec in rt.filters:
        raw = params.get(spec.name, "")
        extra[spec.name] = as_db_id(raw) if spec.kind == FilterKind.RECORD else raw.strip()
    return ListFilters(
        q=params.get("q", "").strip(),
        tag=params.get("tag", "").strip() if rt.has_tags else "",
        owner_id=_id_or_none(params.get("owner_id")),
        department_id=_id_or_none(params.get("department_id")),
        # The last value: the list form sends "false" before its checkbox's "true".
        mine=params.get("mine") == "true",
        sort=sort if rt.sort_allowed(user, sort) else rt.default_sort,
        extra=extra,
        custom=[c for c in params.getlist("custom") if c.partition(":")[2] or "__" in c],
    )


def _id_or_none(raw) -> int | str | None:
    """A record's id, or ``grouping.NO_VALUE`` (the records without one)."""
    return grouping.NO_VALUE if raw == grouping.NO_VALUE else as_db_id(raw)


COLUMNS_SESSION_KEY = "list_columns:{}"


def chosen_columns(request, rt: RecordType) -> list:
    """The columns the user chose for this type's list (``cols``, kept in the session);
    the title column always shows, and a key the type lacks is ignored."""
    available = rt.list_columns(request.user)
    key = COLUMNS_SESSION_KEY.format(rt.object_type)
    if "cols" in request.GET:
        wanted = set(request.GET.getlist("cols"))
        request.session[key] = sorted(wanted)
    else:
        # The type's own columns until the user chooses; custom ones when chosen.
        wanted = set(request.session.get(key, [c.key for c in rt.columns]))
    return available, [c for c in available if c.kind == CellKind.TITLE or c.key in wanted]


def _sort_columns(request, rt: RecordType, current: str, shown: list) -> list[dict]:
    columns = []
    for column in shown:
        entry = {"column": column, "label": column.label, "state": None, "url": ""}
        if column.sort:
            key = column.sort
            if current == key:
                entry["state"], next_sort = "ascending", "-" + key
            elif current == "-" + key:
                entry["state"], next_sort = "descending", key
            else:
                next_sort = key
            entry["url"] = query_string(request.GET, sort=next_sort)
        columns.append(entry)
    return columns


def _filter_widgets(request, rt: RecordType, filters: ListFilters) -> list[dict]:
    """The type's own filters as the list shows them: a select, or a chip naming a record."""
    user = request.user
    widgets = []
    for spec in rt.filters:
        value = filters.get(spec.name)
        widget = {
            "spec": spec,
            "value": value,
            "chip": "",
            "options": [],
            "clear_url": query_string(request.GET, **{spec.name: None, "page": None}),
        }
        if spec.kind == FilterKind.RECORD:
            if not value:
                continue
            target = type_by_name(spec.target)
            try:
                record = target.one(user, value)
            except NotFound:
                continue  # a hidden record filters like an unknown one, and shows no chip
            widget["chip"], widget["chip_value"] = str(record), record.pk
        elif spec.kind == FilterKind.LINKED:
            if not value:
                continue
            widget["chip"], widget["chip_value"] = spec.describe(user, value), value
        else:
            # An option is a value shown as it is, or a (value, label) pair.
            widget["options"] = [
                option if isinstance(option, tuple) else (option, option)
                for option in spec.options(user)
            ]
        widgets.append(widget)
    return widgets + _custom_filter_widgets(request, rt, filters)


# Custom fields offered as a select on the list: their values are few and named.
FILTERED_KINDS = {"choice": "eq", "multiple_choice": "has", "boolean": "eq"}


def _custom_filter_widgets(request, rt: RecordType, filters: ListFilters) -> list[dict]:
    widgets = []
    for field in customfields.visible_fields(request.user, rt.object_type):
        op = FILTERED_KINDS.get(field.value_kind)  # a yes/no formula too
        if op is None:
            continue
        head = field.name if op == "eq" else f"{field.name}__{op}"
        if field.value_kind == "boolean":
            pairs = [("true", _("Yes")), ("false", _("No"))]
        else:
            pairs = [(choice["key"], choice["label"]) for choice in field.choices]
        options = [(f"{head}:{key}", label) for key, label in pairs]
        # The records without a value (a chart's group of them opens the list so).
        options.append((f"{field.name}__empty:", _("(none)")))
        chosen = next((c for c in filters.custom if c in dict(options)), "")
        others = [c for c in filters.custom if c != chosen]
        widgets.append(
            {
                "spec": {"name": "custom", "label": field.label},
                "value": chosen,
                "chip": "",
                "options": options,
                "clear_url": query_string(request.GET, custom=others or None, page=None),
            }
        )
    return widgets


class ListView(RecordView):
    template_name = "web/records/list.html"

    def get(self, request):
        rt = self.rt
        user = request.user
        if address := default_address(request, rt):
            return redirect(address)
        filters = list_filters(request.GET, rt, user)
        available, shown = chosen_columns(request, rt)
        try:
            qs = rt.list_page_query(user, filters, shown)
        except ValidationFailed as exc:  # a custom filter that does not apply: said, dropped
            for message in [m for msgs in exc.errors.values() for m in msgs]:
                messages.warning(request, message)
            filters.custom = []
            qs = rt.list_page_query(user, filters, shown)
        if tag_options := request.GET.get("tag_options"):
            context = {"tags": rt.tags_in_use(user), "tag_options": tag_options, "filters": filters}
            return render(request, f"{self.template_name}#tag-options", context)
        if request.GET.get("total"):  # the pager's total, asked for after the rows showed
            first = (page_number(request.GET.get("page")) - 1) * PAGE_SIZE + 1
            context = {"first": first, "last": first + PAGE_SIZE - 1, "total": capped_count(qs)}
            return render(request, "web/records/_pager_info.html", context)
        qs = qs.prefetch_related(*rt.list_prefetch)
        groupings = rt.groupings(user)
        group = groupings.get(request.GET.get("group", ""))
        page = LookaheadPage(group.ordered(qs) if group else qs, PAGE_SIZE, request.GET.get("page"))
        may_edit = may(user, rt.object_type, Action.EDIT)
        rows = [
            {"obj": obj, "cells": [(c, c.value(obj)) for c in shown]} for obj in page.object_list
        ]
        if group:
            _mark_groups(rows, group, qs)
        context = {
            "rt": rt,
            "page": page,
            "rows": rows,
            "filters": filters,
            "filter_widgets": _filter_widgets(request, rt, filters),
            "columns": _sort_columns(request, rt, filters.sort, shown),
            "column_choices": [
                {"column": c, "shown": c in shown, "fixed": c.kind == CellKind.TITLE}
                for c in available
            ],
            "can": self.permissions(),
            # The column menu links an administrator to the type's custom fields.
            "fields_url": (
                reverse("web:field_type", args=[rt.object_type]) if may_manage_fields(user) else ""
            ),
            "tags": None,  # read after the page shows (``tag_options``)
            # Filters offer whom and where the user can see; bulk changes, where they may put.
            "owners": assignable_owners(user, rt.object_type, Action.VIEW),
            "departments": placement_department_tree(user, rt.object_type, Action.VIEW),
            "bulk_owners": assignable_owners(user, rt.object_type, Action.EDIT),
            "bulk_departments": (
                placement_department_tree(user, rt.object_type, Action.EDIT) if may_edit else []
            ),
            "is_filtered": filters.is_narrowed,
            "groupings": groupings.values(),
            "group": group,
            "quick_filters": _quick_filters(request, rt),
            "list_links": rt.list_links(user),
            "export_path": f"/api/v1/{rt.path}/export",
            "list_query": query_string(request.GET, page=None),
            "export_csv": query_string(request.GET, page=None, format="csv"),
            "export_xlsx": query_string(request.GET, page=None, format="xlsx"),
            "export_vcf": query_string(request.GET, page=None, format="vcf"),
            **list_menu(request, rt, shown),
            **rt.list_context(request, filters),
        }
        template = self.template_name
        if request.htmx and request.htmx.target == "list-results":
            template += "#results"
        return render(request, template, context)


def _mark_groups(rows: list[dict], group, listed) -> None:
    """Give the first row of each group on the page its header: the group's name and how
    many records of the list it holds."""
    values = list(dict.fromkeys(getattr(row["obj"], grouping.ANNOTATION) for row in rows))
    titles = group.titles([v for v in values if not grouping.is_empty(v)])
    counts = group.counts(listed, values)
    previous = object()
    for row in rows:
        value = getattr(row["obj"], grouping.ANNOTATION)
        if value != previous:
            title = titles.get(value) or _("(none)")
            row["group"] = {"title": title, "count": counts.get(value, 0)}
        previous = value


# Parameters that change how a list shows, not which records it holds.
_PRESENTATION_PARAMS = {"page", "sort", "cols", "view", "group", "total", "tag_options"}


def _quick_filters(request, rt: RecordType) -> list[dict]:
    """The type's named filters as links, the one the list shows now marked current."""
    given = {
        key: value
        for key, value in request.GET.items()
        if key not in _PRESENTATION_PARAMS and value not in ("", "false")
    }
    return [
        {"label": label, "url": f"?{urlencode(query)}", "current": given == query}
        for label, query in rt.quick_filters(request.user)
    ]


def _bulk_message(request, done_text: str, result: services.BulkResult) -> None:
    """Say what was done and, if some rows were not, which and why."""
    (messages.success if result.done else messages.warning)(request, done_text)
    if result.skipped:
        names = [str(obj) for obj in result.skipped[:SKIPPED_NAMES_SHOWN]]
        if len(result.skipped) > SKIPPED_NAMES_SHOWN:
            names.append("…")
        messages.warning(
            request,
            ngettext(
                "Skipped %(count)s record you may not change: %(names)s.",
                "Skipped %(count)s records you may not change: %(names)s.",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "names": ", ".join(names)},
        )
    if result.missing:
        messages.warning(
            request,
            ngettext(
                "%(count)s selected record was not found.",
                "%(count)s selected records were not found.",
                result.missing,
            )
            % {"count": result.missing},
        )


class BulkView(RecordView):
    """Tag, assign, move or delete the selected rows: each one the user may change."""

    def post(self, request):
        rt = self.rt
        ids = [i for i in map(as_db_id, request.POST.getlist("ids")) if i is not None]
        action = request.POST.get("action", "")
        back = self.safe_next(rt.url("list"))
        if not ids:
            messages.warning(request, _("Select at least one row first."))
            return redirect(back)
        try:
            outcome = self.run(action, ids)
        except ValidationFailed as exc:
            for message in [m for msgs in exc.errors.values() for m in msgs] or [exc.message]:
                messages.error(request, message)
            return redirect(back)
        except KontorError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        if isinstance(outcome, str):  # the request lacked something: say what
            messages.warning(request, outcome)
        else:
            _bulk_message(request, *outcome)
        return redirect(back)

    def run(self, action: str, ids: list[int]):
        rt, post, actor = self.rt, self.request.POST, self.request.user
        if action == "tag" and rt.has_tags:
            tag = post.get("tag", "").strip()
            if not tag:
                return _("Type the tag to add.")
            result = services.bulk_add_tag(rt, ids, tag, actor=actor)
            done = ngettext(
                "Tag “%(tag)s” added to %(count)s record.",
                "Tag “%(tag)s” added to %(count)s records.",
                result.done,
            ) % {"tag": tag, "count": result.done}
        elif action in ("owner", "department"):
            key = f"{action}_id"
            target = as_db_id(post.get(key))
            if target is None:
                return (
                    _("Choose the new owner.") if action == "owner" else _("Choose the department.")
                )
            result = services.bulk_update(rt, ids, {key: target}, actor=actor)
            if action == "owner":
                done = ngettext(
                    "Owner changed on %(count)s record.",
                    "Owner changed on %(count)s records.",
                    result.done,
                )
            else:
                done = ngettext(
                    "Department changed on %(count)s record.",
                    "Department changed on %(count)s records.",
                    result.done,
                )
            done %= {"count": result.done}
        elif action == "delete":
            result = services.bulk_delete(rt, ids, actor=actor)
            done = ngettext(
                "%(count)s record deleted.", "%(count)s records deleted.", result.done
            ) % {"count": result.done}
        else:
            return _("Choose what to do with the selected rows.")
        return done, result


# -- detail ----------------------------------------------------------------------------------

# Audited keys that are not fields of the record itself.
EXTRA_HISTORY_LABELS = {"attachments": gettext_lazy("documents")}


def _field_label(model, field: str) -> str:
    name = field.removesuffix("_id")
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(EXTRA_HISTORY_LABELS.get(name, name.replace("_", " ")))
    if model_field.is_relation and model_field.auto_created:
        return str(model_field.related_model._meta.verbose_name_plural)
    return str(model_field.verbose_name)


def _reference_names(user, rt: AuditedType, entries) -> tuple[dict, dict]:
    """Names of the ids the history holds: owners and departments, and linked records
    (of registered types) only if ``user`` can see them; and what to say of the others."""
    readers = {
        "owner_id": lambda ids: get_user_model().objects.filter(pk__in=ids),
        "department_id": lambda ids: Department.objects.filter(pk__in=ids),
    }
    hidden = {}
    for field_name, target in rt.links():
        readers[f"{field_name}_id"] = lambda ids, target=target: target.visible(user).filter(
            pk__in=ids
        )
        hidden[f"{field_name}_id"] = target.hidden_name
    ids = {key: set() for key in readers}
    for entry in entries:
        for field, pair in entry.changes.items():
            if field in ids and isinstance(pair, list):
                ids[field] |= {v for v in pair if isinstance(v, int)}
    names = {}
    for key, wanted in ids.items():
        if wanted:
            for obj in readers[key](wanted):
                names[(key, obj.pk)] = str(obj)
    return names, hidden


def _display(field: str, value, names: dict, hidden: dict) -> str:
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if (field, value) in names:
        return names[(field, value)]
    if field in hidden:
        return str(hidden[field])
    return str(value)


def history(user, rt: AuditedType, obj) -> list[dict]:
    """The object's audit entries, newest first, with names for the ids they hold."""
    entries = list(AuditEntry.objects.for_object(obj)[:HISTORY_LIMIT])
    reader = customfields.ChangeReader(user)
    for entry in entries:
        entry.changes = reader.changes(rt.object_type, entry.changes)
    names, hidden = _reference_names(user, rt, entries)
    items = []
    for entry in entries:
        changes = []
        for field, pair in entry.changes.items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                {
                    "label": reader.label(rt.object_type, field) or _field_label(rt.model, field),
                    "old": _display(field, old, names, hidden),
                    "new": _display(field, new, names, hidden),
                }
            )
        items.append({"entry": entry, "verb": entry.action.rsplit(".", 1)[-1], "changes": changes})
    return items


def related(user, rt: RecordType, obj) -> dict:
    """What the related tab shows: the linked records ``user`` may see, both ways."""
    linked = []
    for field_name, target in rt.links():
        record = getattr(obj, field_name)
        visible = record is not None and target.visible(user).filter(pk=record.pk).exists()
        linked.append(
            {
                "type": target,
                "field": field_name,
                "label": rt.model._meta.get_field(field_name).verbose_name,
                "record": record if visible else None,
                "subtitle": target.row_subtitle(record) if visible else "",
            }
        )
    linking = []
    for other, field_name in rt.linked_from():
        if not modules.type_enabled(user, other.object_type):
            continue
        rows = other.list_query(user).filter(**{field_name: obj})
        linking.append(
            {
                "type": other,
                "field": field_name,
                "rows": list(rows[:RELATED_LIMIT]),
                "may_create": may(user, other.object_type, Action.CREATE),
            }
        )
    return {"linked": linked, "linking": linking}


def timeline_context(request, obj) -> dict:
    """A record's timeline tab: a page of entries (filtered by kind and text, after a
    cursor) and the short forms that add an entry about it."""
    user = request.user
    kinds = [k for k in request.GET.getlist("kind") if k]
    text = request.GET.get("q", "").strip()
    page = timeline.feed(user, obj, kinds=kinds, text=text, cursor=request.GET.get("after", ""))
    entry_types = timeline.entry_types()
    return {
        "timeline": page,
        "timeline_kinds": [(rt.name, rt.timeline.label) for rt in entry_types],
        "timeline_chosen": kinds,
        "timeline_q": text,
        "timeline_more_url": request.path + query_string(request.GET, after=page.next_cursor)
        if page.next_cursor
        else "",
        "timeline_filtered": bool(kinds or text),
        # The entry types' own lists (they have no place in the navigation of their own).
        "timeline_lists": [rt for rt in entry_types if may(user, rt.object_type, Action.VIEW)],
        "quick_add": [
            rt
            for rt in entry_types
            if rt.timeline.quick_template and may(user, rt.object_type, Action.CREATE)
        ],
        "link_to_here": f"{types.by_model(type(obj)).name}:{obj.pk}",
    }


def _tab_label(rt: RecordType) -> str | None:
    """The related tab's name: the one linked type's, or "Related"; None if nothing links."""
    links = [target.singular for _name, target in rt.links()]
    links += [other.plural for other, _name in rt.linked_from()]
    if not links:
        return None
    return str(links[0]).capitalize() if len(links) == 1 else _("Related")


class DetailView(RecordView):
    template_name = "web/records/detail.html"

    @method_decorator(service_errors)
    def get(self, request, pk: int, tab: str = "profile"):
        rt, user = self.rt, request.user
        obj = rt.one(user, pk)
        tabs = [("profile", _("Profile"))]
        if rt.shows_timeline and timeline.entry_types():
            tabs.append(("timeline", _("Timeline")))
        if related_label := _tab_label(rt):
            tabs.append(("related", related_label))
        tabs += [("documents", _("Documents")), ("history", _("History"))]
        if tab not in dict(tabs):
            raise Http404()
        context = {
            "rt": rt,
            "obj": obj,
            "tab": tab,
            "tabs": [
                (key, label, rt.url("detail", pk) if key == "profile" else rt.url("tab", pk, key))
                for key, label in tabs
            ],
            "may_edit": record_in_scope(user, obj, Action.EDIT),
            "may_delete": record_in_scope(user, obj, Action.DELETE),
            "can": self.permissions(),
        }
        if tab == "profile":
            context["custom_values"] = custom_values(user, rt, obj)
            context.update(rt.profile_context(request, obj))
        elif tab == "timeline":
            context.update(timeline_context(request, obj))
            if request.htmx and request.htmx.target == "timeline-more":
                return render(request, "web/records/_timeline.html#timeline_entries", context)
        elif tab == "related":
            context["related"] = related(user, rt, obj)
        elif tab == "documents":
            context["attachments"] = list(files.attachments_of(obj).select_related("uploaded_by"))
        elif tab == "history":
            context["history"] = history(user, rt, obj)
        template = self.template_name
        if request.htmx and request.htmx.target == "tab-panel":
            template += "#tab"
        return render(request, template, context)


# -- create / edit / delete ------------------------------------------------------------------


class FormView(RecordView):
    template_name = "web/records/form.html"

    def form_context(self, form, **extra) -> dict:
        rt, user = self.rt, self.request.user
        # A new record is placed with "create"; an edited one with "edit", and keeps its
        # current owner and department on offer even if the user could not choose them.
        obj = extra.get("obj")
        action = Action.CREATE if obj is None else Action.EDIT
        return {
            "rt": rt,
            "form": form,
            "custom_sections": custom_inputs(user, rt, form, obj),
            "links": _link_labels(user, rt, form),
            "owners": assignable_owners(
                user, rt.object_type, action, keep=getattr(obj, "owner_id", None)
            ),
            "departments": placement_department_tree(
                user, rt.object_type, action, keep=getattr(obj, "department_id", None)
            ),
            **extra,
        }

    def save(self, form, extra: dict, write, done: str):
        """Run ``write()``: on success a message and the record's page; else the status to
        answer, with the service's messages put on the form (the user's input stays)."""
        try:
            obj = write()
        except Conflict as exc:
            extra["conflict"] = exc.message
            return 409
        except ValidationFailed as exc:
            form.errors.update(exc.errors)
            extra["form_message"] = exc.message
            return 422
        except PermissionDenied as exc:
            extra["form_message"] = exc.message
            return 403
        messages.success(self.request, done % {"name": obj})
        # A record added from another's page (a note on a person's timeline) goes back there.
        return redirect(self.safe_next(self.rt.url("detail", obj.pk)))


def custom_inputs(user, rt: RecordType, form, obj) -> list[dict]:
    """The custom fields a form shows ``user``, by section: each with its input's value
    (what was posted, else the record's), its messages, and whether it may be changed."""
    posted = form.data.get("custom")
    stored = customfields.values_for(user, obj) if obj is not None else {}
    sections: dict[str, list] = {}
    for field in customfields.visible_fields(user, rt.object_type):
        if posted is not None and field.name in posted:
            value = posted[field.name]
        elif obj is None:
            value = field.default
        else:
            value = stored.get(field.name)
        sections.setdefault(field.section, []).append(
            custom_input(
                user,
                field,
                value,
                errors=form.errors.get(f"custom.{field.name}", []),
                editable=customfields.may_edit(user, field),
            )
        )
    return [{"title": title, "inputs": inputs} for title, inputs in sections.items()]


def custom_input(user, field, value, *, errors=(), editable=True) -> dict:
    """One custom field's input as web/records/_custom_fields.html draws it (record forms
    and the field's preview on its settings page): a user field offers the active users,
    a relation names the chosen record if ``user`` may see it."""
    shown = customfields.input_value(field, value)
    entry = {
        "field": field,
        "name": f"custom.{field.name}",
        "value": shown,
        "errors": list(errors),
        "editable": editable,
    }
    if field.kind == customfields.Kind.USER:
        entry["users"] = customfields.pickable_users(keep=shown)
        entry["value"] = str(shown)
    elif field.kind == customfields.Kind.RELATION:
        entry["target"] = types.get(field.related_type)
        record = customfields.related_record(user, field, shown) if shown else None
        entry["label"] = str(record) if record is not None else ""
    elif field.kind == customfields.Kind.FORMULA:
        # Computed when the record is saved: shown, never typed.
        entry["text"] = customfields.reader_display(user, field, value) if value else ""
    return entry


def custom_values(user, rt: RecordType, obj) -> list[dict]:
    """The custom values a detail page shows ``user``: label and text of each filled one,
    and a related record's page if they may see it."""
    shown = []
    for field in customfields.visible_fields(user, rt.object_type):
        value = (obj.custom or {}).get(field.key)
        if value is None:
            # An empty formula result may be an error: the page says which.
            problem = field.kind == customfields.Kind.FORMULA and computed.problem(obj, field)
            if problem:
                shown.append({"field": field, "text": "", "problem": problem})
            continue
        item = {"field": field, "text": customfields.reader_display(user, field, value)}
        if field.kind == customfields.Kind.RELATION:
            record = customfields.related_record(user, field, value)
            item["url"] = types.url_of(record) if record is not None else ""
        shown.append(item)
    return shown


def _link_labels(user, rt: RecordType, form) -> dict:
    """The names of the linked records a form names (its autocomplete boxes show them)."""
    labels = {}
    for field_name, target in rt.links():
        key = f"{field_name}_id"
        if form.data.get(key):
            try:
                labels[key] = str(target.one(user, form.data[key]))
            except NotFound:
                form.errors.setdefault(key, [str(target.unknown_text)])
    return labels


class CreateView(FormView):
    def require_create(self):
        if not may(self.request.user, self.rt.object_type, Action.CREATE):
            raise PermissionDenied()

    @method_decorator(service_errors)
    def get(self, request):
        self.require_create()
        data = {}
        for name in self.rt.initial_fields:
            if (value := as_db_id(request.GET.get(name))) is not None:
                data[name] = value
        if links := request.GET.getlist("links"):
            data["links"] = links
        form = self.rt.form_class(data, is_new=True)
        context = self.form_context(form, next=self.safe_back(request.GET.get("next", "")))
        return render(request, self.template_name, context)

    @method_decorator(service_errors)
    def post(self, request):
        self.require_create()
        rt = self.rt
        form = rt.form_class.from_post(request.POST, is_new=True)
        status = 200
        extra = {}
        if form.errors:
            status = 422
        elif not request.POST.get("save_anyway"):
            extra.update(rt.duplicate_warnings(form.data, actor=request.user))
        if not form.errors and not extra:
            outcome = self.save(
                form,
                extra,
                lambda: rt.create(form.data, actor=request.user),
                _("“%(name)s” was created."),
            )
            if not isinstance(outcome, int):
                return outcome
            status = outcome
        context = self.form_context(
            form, next=self.safe_back(request.POST.get("next", "")), **extra
        )
        return render(request, self.template_name, context, status=status)


class EditView(FormView):
    def load(self, pk):
        obj = self.rt.one(self.request.user, pk)
        require(self.request.user, Action.EDIT, obj)
        return obj

    @method_decorator(service_errors)
    def get(self, request, pk: int):
        obj = self.load(pk)
        form = self.rt.form_class.from_record(obj)
        context = self.form_context(form, obj=obj, title=str(obj), version=obj.version)
        return render(request, self.template_name, context)

    @method_decorator(service_errors)
    def post(self, request, pk: int):
        rt = self.rt
        obj = self.load(pk)
        title = str(obj)
        form = rt.form_class.from_post(request.POST, is_new=False)
        version = as_db_id(request.POST.get("version"))
        extra = {"obj": obj, "title": title, "version": version}
        status = 422
        if not form.errors:

            def write():
                return rt.update(obj, form.data, actor=request.user, expected_version=version)

            outcome = self.save(form, extra, write, _("Changes to “%(name)s” were saved."))
            if not isinstance(outcome, int):
                return outcome
            status = outcome
        context = self.form_context(
            form, next=self.safe_back(request.POST.get("next", "")), **extra
        )
        return render(request, self.template_name, context, status=status)


def _size(rows) -> int:
    return rows.count() if hasattr(rows, "count") and not isinstance(rows, list) else len(rows)


def delete_effects(obj) -> list[str]:
    """What deleting ``obj`` also deletes or changes, counted, as the database will do it.

    Django's own deletion collector says so (cascades, SET NULL), so the preview is what
    the delete does; the links of many-to-many fields (tags) are not worth a line.
    """
    using = router.db_for_write(type(obj), instance=obj) or DEFAULT_DB_ALIAS
    collector = Collector(using=using, origin=obj)
    collector.collect([obj])
    deleted: dict = {}
    for model, instances in collector.data.items():
        if model is not type(obj):
            deleted[model] = deleted.get(model, 0) + len(instances)
    for rows in collector.fast_deletes:
        deleted[rows.model] = deleted.get(rows.model, 0) + _size(rows)
    effects = []
    for model, count in deleted.items():
        if count and not model._meta.auto_created:
            effects.append(_deleted(model._meta.verbose_name_plural, count))
    for (model_field, _value), batches in collector.field_updates.items():
        count = sum(_size(rows) for rows in batches)
        if not count:
            continue
        effects.append(
            ngettext(
                "%(what)s: %(count)s will be kept without “%(field)s”",
                "%(what)s: %(count)s will be kept without “%(field)s”",
                count,
            )
            % {
                "what": capfirst(model_field.model._meta.verbose_name_plural),
                "count": count,
                "field": model_field.verbose_name,
            }
        )
    documents = Attachment.objects.filter(
        object_type=obj._meta.label_lower, object_id=obj.pk
    ).count()
    if documents:
        effects.append(_deleted(_("documents"), documents))
    return effects


def _deleted(what, count: int) -> str:
    # "Phones: 2 will be deleted": the type's name stays in the nominative in every language.
    return ngettext(
        "%(what)s: %(count)s will be deleted", "%(what)s: %(count)s will be deleted", count
    ) % {"what": capfirst(what), "count": count}


class DeleteView(RecordView):
    template_name = "web/records/delete.html"

    def load(self, pk):
        obj = self.rt.one(self.request.user, pk)
        require(self.request.user, Action.DELETE, obj)
        return obj

    @method_decorator(service_errors)
    def get(self, request, pk: int):
        obj = self.load(pk)
        context = {"rt": self.rt, "obj": obj, "effects": delete_effects(obj)}
        return render(request, self.template_name, context)

    @method_decorator(service_errors)
    def post(self, request, pk: int):
        rt = self.rt
        obj = self.load(pk)
        name = str(obj)
        try:
            rt.delete(
                obj, actor=request.user, expected_version=as_db_id(request.POST.get("version"))
            )
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect(rt.url("detail", pk))
        messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
        return redirect(rt.url("list"))


class UploadView(RecordView):
    @method_decorator(service_errors)
    def post(self, request, pk: int):
        obj = self.rt.one(request.user, pk)
        try:
            attachment = files.add_attachment(obj, request.FILES.get("file"), actor=request.user)
        except ValidationFailed as exc:
            for msgs in exc.errors.values():
                for message in msgs:
                    messages.error(request, message)
        else:
            messages.success(request, _("“%(name)s” was uploaded.") % {"name": attachment.name})
        return redirect(self.rt.url("tab", pk, "documents"))


def record_urls(rt: RecordType | None = None, *, prefix="", name="", resolve=None) -> list:
    """The UI's URLs of a record type, named ``<name>_list``, ``<name>_detail``, ...

    For types defined at run time: ``prefix`` holds ``<slug:type_slug>`` and ``resolve``
    turns the slug into the type.
    """

    def view(cls):
        return cls.as_view(record_type=rt, resolve_type=resolve)

    prefix, name = (rt.path, rt.name) if rt else (prefix, name)
    return [
        path(f"{prefix}/", view(ListView), name=f"{name}_list"),
        path(f"{prefix}/new/", view(CreateView), name=f"{name}_create"),
        path(f"{prefix}/bulk/", view(BulkView), name=f"{name}_bulk"),
        path(f"{prefix}/<int:pk>/", view(DetailView), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", view(EditView), name=f"{name}_edit"),
        path(f"{prefix}/<int:pk>/delete/", view(DeleteView), name=f"{name}_delete"),
        path(f"{prefix}/<int:pk>/documents/upload/", view(UploadView), name=f"{name}_documents"),
        path(f"{prefix}/<int:pk>/<str:tab>/", view(DetailView), name=f"{name}_tab"),
    ]
