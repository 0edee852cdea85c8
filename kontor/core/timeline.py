"""Timelines: for any record, the notes, calls, emails, meetings and tasks about it.

A record type whose records are timeline entries says so with ``RecordType.timeline``
(the field that places an entry in time, the partial that shows it). What an entry is
about is a set of links (``core.TimelineLink``), any registered records, written by the
entry type's services (``read_links`` from input, ``set_links``); the engine keeps each
link's copy of the entry's moment, owner and department current on every write
(``refresh``) and drops the links of deleted records (``forget_all``).

An entry about a record is also on the timelines of that record's parents
(``RecordType.timeline_parents``: a person's company), through rows marked not
``direct``, which follow the record when it moves (``reparent``). So a record's timeline
is one walk of an index, newest first, scoped for each entry type by that type's grants
on the copied owner and department, a page at a time after a cursor.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import compiled, modules, types
from .access import Action, object_type_of, scope_q
from .inputs import as_db_id
from .models import TimelineLink
from .types import ListFilters, RecordType

PAGE_SIZE = 30
_MOMENT = TimelineLink._meta.get_field("occurred_at")
# Links one entry may have: a meeting's participants, a task's records.
MAX_LINKS = 100


def entry_types() -> list[RecordType]:
    return [rt for rt in types.record_types() if rt.timeline]


def _entry_type_of(obj) -> RecordType | None:
    rt = types.by_model(type(obj))
    return rt if rt is not None and getattr(rt, "timeline", None) else None


# -- writing -----------------------------------------------------------------------------------


def parse_link(raw) -> tuple[str, int | None]:
    """A link from input: ``"person:12"`` or ``{"type": "person", "id": 12}``."""
    if isinstance(raw, dict):
        return str(raw.get("type", "")), as_db_id(raw.get("id"))
    name, _sep, pk = str(raw).partition(":")
    return name.strip(), as_db_id(pk.strip())


def read_links(data: dict, actor, errors, name: str = "links") -> list | None:
    """The records ``data[name]`` names, each one ``actor`` may see; None if not given.

    A link to a record the actor cannot see is the same "unknown" as one to nothing.
    """
    raw = data.get(name)
    if raw is None:
        return None
    if isinstance(raw, str | dict):
        raw = [raw]
    if len(raw) > MAX_LINKS:
        errors.add(name, _("Link at most %(count)d records.") % {"count": MAX_LINKS})
        return []
    found = []
    for item in raw:
        type_name, pk = parse_link(item)
        rt = types.by_name(type_name)
        record = rt.visible(actor).filter(pk=pk).first() if rt and pk is not None else None
        if record is None:
            errors.add(name, str(rt.unknown_text) if rt else _("Unknown record."))
            continue
        if record not in found:
            found.append(record)
    return found


def _copied(entry) -> dict:
    rt = _entry_type_of(entry)
    return {
        "occurred_at": getattr(entry, rt.timeline.moment_field),
        "owner_id": entry.owner_id,
        "department_id": entry.department_id,
    }


def _parents(subject) -> list[tuple[str, int]]:
    rt = types.by_model(type(subject))
    return rt.timeline_parents(subject) if isinstance(rt, RecordType) else []


def _wanted(subjects) -> dict[tuple[str, int], bool]:
    """The link rows an entry about ``subjects`` has: each subject's (direct), and each
    subject's parents' (a person's company), which a direct link to the parent overrides."""
    wanted = {}
    for subject in subjects:
        for parent in _parents(subject):
            wanted.setdefault(parent, False)
    wanted.update({(object_type_of(s), s.pk): True for s in subjects})
    return wanted


def set_links(entry, subjects) -> None:
    """Make ``subjects`` the records ``entry`` is about: links added and removed."""
    _write_rows(object_type_of(entry), entry.pk, _wanted(subjects), _copied(entry))


def _write_rows(entry_type: str, entry_id: int, wanted: dict, copied: dict) -> None:
    rows = TimelineLink.objects.filter(entry_type=entry_type, entry_id=entry_id)
    existing = {
        (subject_type, subject_id): direct
        for subject_type, subject_id, direct in rows.values_list(
            "subject_type", "subject_id", "direct"
        )
    }
    for key, direct in existing.items():
        if key not in wanted:
            rows.filter(subject_type=key[0], subject_id=key[1]).delete()
        elif wanted[key] != direct:
            rows.filter(subject_type=key[0], subject_id=key[1]).update(direct=wanted[key])
    TimelineLink.objects.bulk_create(
        TimelineLink(
            entry_type=entry_type,
            entry_id=entry_id,
            subject_type=key[0],
            subject_id=key[1],
            direct=direct,
            **copied,
        )
        for key, direct in sorted(wanted.items())
        if key not in existing
    )


def reparent(subject) -> None:
    """``subject``'s parents changed (a person moved to another company): the entries
    about it follow it to the new parent's timeline."""
    object_type = object_type_of(subject)
    entries = TimelineLink.objects.filter(
        subject_type=object_type, subject_id=subject.pk, direct=True
    ).values_list("entry_type", "entry_id")
    for entry_type, entry_id in entries:
        rt = types.get(entry_type)
        entry = rt.model._base_manager.filter(pk=entry_id).first() if rt else None
        if entry is not None:
            set_links(entry, direct_subjects(entry))


def direct_subjects(entry) -> list:
    """The records ``entry`` is linked to itself, whoever may see them."""
    rows = TimelineLink.objects.filter(
        entry_type=object_type_of(entry), entry_id=entry.pk, direct=True
    )
    by_type: dict[str, list[int]] = {}
    for subject_type, subject_id in rows.values_list("subject_type", "subject_id"):
        by_type.setdefault(subject_type, []).append(subject_id)
    found = []
    for subject_type, ids in by_type.items():
        rt = types.get(subject_type)
        if rt is not None:
            found += list(rt.model._base_manager.filter(pk__in=ids))
    return found


class ImportLinks:
    """The links of a bulk import's rows (``links``, as ``read_links`` takes them): each
    batch's linked records checked with one query per type, written with the records."""

    def __init__(self, record_type: RecordType, actor):
        self.record_type, self.actor = record_type, actor
        self.active = bool(record_type.timeline)
        # Per batch: each visible linked record's key and its parents' keys.
        self.visible: dict[tuple[str, int], list[tuple[str, int]]] = {}

    def start_batch(self, rows: list[dict]) -> None:
        if not self.active:
            return
        wanted: dict[RecordType, set[int]] = {}
        for row in rows:
            for raw in self.record_type.import_links(row):
                name, pk = parse_link(raw)
                if (rt := types.by_name(name)) is not None and pk is not None:
                    wanted.setdefault(rt, set()).add(pk)
        self.visible = {
            (rt.object_type, record.pk): rt.timeline_parents(record)
            for rt, ids in wanted.items()
            for record in rt.visible(self.actor).filter(pk__in=ids)
        }

    def clean(self, row: dict):
        """The row's link rows ({(object type, id): direct}), or its errors
        (``FieldErrors``)."""
        from .services import FieldErrors

        found, errors = {}, FieldErrors()
        raw_links = self.record_type.import_links(row) if self.active else ()
        for raw in raw_links:
            name, pk = parse_link(raw)
            rt = types.by_name(name)
            key = (rt.object_type, pk) if rt else None
            if key not in self.visible:
                errors.add("links", str(rt.unknown_text) if rt else _("Unknown record."))
                continue
            for parent in self.visible[key]:
                found.setdefault(parent, False)
            found[key] = True
        return errors if errors.by_field else found

    def placement(self, obj) -> tuple:
        """What the links of ``obj`` (cleaned, not yet written) copy from it: its moment,
        owner and department. Plain values: a batch's rows may be cleaned in another
        process (``kontor.core.forked``)."""
        return (getattr(obj, self.record_type.timeline.moment_field), obj.owner_id,
                obj.department_id)  # fmt: skip

    def write(self, placements: list[tuple], ids: list[int], subjects: list[dict]) -> None:
        if not self.active:
            return
        from .bulk import insert  # the import's own writer (bulk imports this module)

        insert(
            TimelineLink,
            (
                {
                    "entry_type": self.record_type.object_type,
                    "entry_id": pk,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "direct": direct,
                    "occurred_at": occurred_at,
                    "owner_id": owner_id,
                    "department_id": department_id,
                }
                for (occurred_at, owner_id, department_id), pk, keys in zip(
                    placements, ids, subjects, strict=True
                )
                for (subject_type, subject_id), direct in keys.items()
            ),
        )


def refresh(record, changes: dict) -> None:
    """After any write of ``record``: an entry's links get its moment and placement
    again; a subject whose parents moved takes its entries along (``reparent``)."""
    if _entry_type_of(record) is not None:
        TimelineLink.objects.filter(entry_type=object_type_of(record), entry_id=record.pk).update(
            **_copied(record)
        )
    rt = types.by_model(type(record))
    if isinstance(rt, RecordType) and set(rt.timeline_parent_fields) & set(changes):
        reparent(record)


def forget_all(object_type: str, ids: list[int]) -> None:
    """Deleted records leave every timeline: as entries and as what entries are about."""
    TimelineLink.objects.filter(
        Q(entry_type=object_type, entry_id__in=ids)
        | Q(subject_type=object_type, subject_id__in=ids)
    ).delete()


def linked_records(user, entry) -> list:
    """The records ``entry`` is about that ``user`` may see (in modules on for them), by type."""
    links = TimelineLink.objects.filter(
        entry_type=object_type_of(entry), entry_id=entry.pk, direct=True
    )
    by_type: dict[str, list[int]] = {}
    for subject_type, subject_id in links.values_list("subject_type", "subject_id"):
        by_type.setdefault(subject_type, []).append(subject_id)
    found = []
    for subject_type, ids in by_type.items():
        rt = types.get(subject_type)
        if isinstance(rt, RecordType) and modules.type_enabled(user, subject_type):
            found += list(_by_name(rt.visible(user).filter(pk__in=ids)))
    return found


def link_refs(user, entry) -> list[dict]:
    """``linked_records`` as the API names them: type name, id, name."""
    return [
        {"type": types.by_model(type(record)).name, "id": record.pk, "name": str(record)}
        for record in linked_records(user, entry)
    ]


def _names_of(rt: RecordType, user):
    return _by_name(rt.visible(user))


def _by_name(qs):
    """Records read for their name and link only (a model's ``name_fields``)."""
    fields = getattr(qs.model, "name_fields", None)
    return qs.only("pk", *fields) if fields else qs


# -- reading -----------------------------------------------------------------------------------


class Link(NamedTuple):
    """A record an entry is about, as a timeline names it."""

    type: str  # the record type's name ("person")
    id: int
    name: str
    url: str


@dataclass
class Entry:
    rt: RecordType
    obj: object
    occurred_at: datetime.datetime
    # The other records it is about that the reader may see.
    about: list[Link] = field(default_factory=list)

    @property
    def cursor(self) -> str:
        return f"{self.occurred_at.isoformat()}|{self.obj.pk}|{self.rt.name}"


@dataclass
class TimelinePage:
    entries: list[Entry]
    next_cursor: str  # "" at the end


def parse_cursor(cursor: str):
    """(moment, id, type name) from a page's cursor, or None for the first page."""
    moment, _sep, rest = (cursor or "").partition("|")
    pk, _sep, name = rest.partition("|")
    moment = parse_datetime(moment) if moment else None
    pk = as_db_id(pk)
    if moment is None or pk is None or types.by_name(name) is None:
        return None
    return moment, pk, types.by_name(name).object_type


def _visible_q(user, kinds, text: str) -> Q:
    """Entries of the chosen kinds ``user`` may see (and that match ``text``)."""
    condition = Q(pk__in=[])
    for rt in entry_types():
        if (kinds and rt.name not in kinds) or not modules.type_enabled(user, rt.object_type):
            continue
        scope = scope_q(user, rt.model, Action.VIEW)
        if scope is None:
            continue
        of_type = Q(entry_type=rt.object_type) & scope
        if text:
            matching = rt.list_query(user, ListFilters(q=text)).order_by().values("pk")
            of_type &= Q(entry_id__in=matching)
        condition |= of_type
    return condition


def _column(name: str) -> str:
    return connection.ops.quote_name(TimelineLink._meta.get_field(name).column)


def _page_rows(user, record, kinds, text, after, limit) -> list[tuple]:
    """(moment, entry id, entry type) of the link rows of ``record``'s page: one walk of
    the subject's index, the scope's condition compiled once per reader (with a text
    search, each time: its subqueries are no key)."""
    visible = _visible_q(user, kinds, text)
    scope = compiled.where(TimelineLink, visible, key=None if text else visible)
    if scope is None:
        return []
    moment, entry_id, entry_type = (_column(n) for n in ("occurred_at", "entry_id", "entry_type"))
    conditions = [f"{_column('subject_type')} = %s", f"{_column('subject_id')} = %s"]
    params = [object_type_of(record), record.pk]
    if scope[0]:
        conditions.append(f"({scope[0]})")
        params += scope[1]
    if after:
        at, pk, of_type = after
        at = _MOMENT.get_db_prep_value(at, connection)
        conditions.append(
            f"({moment} < %s OR ({moment} = %s AND ({entry_id} < %s"
            f" OR ({entry_id} = %s AND {entry_type} < %s))))"
        )
        params += [at, at, pk, pk, of_type]
    sql = (
        f"SELECT {moment}, {entry_id}, {entry_type} FROM "
        f"{connection.ops.quote_name(TimelineLink._meta.db_table)}"
        f" WHERE {' AND '.join(conditions)}"
        f" ORDER BY {moment} DESC, {entry_id} DESC, {entry_type} DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    column = _MOMENT.get_col(TimelineLink._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *_MOMENT.get_db_converters(connection)]
    for convert in converters:
        rows = [(convert(at, column, connection), pk, of_type) for at, pk, of_type in rows]
    return rows


def feed(user, record, *, kinds=(), text="", cursor="", limit=PAGE_SIZE) -> TimelinePage:
    """The page of ``record``'s timeline after ``cursor``, newest first.

    ``record`` must be one the reader may see (the caller read it through its type's door).
    """
    # One row per entry and subject: the index's order, read up to the page's end.
    page = _page_rows(user, record, kinds, text, parse_cursor(cursor), limit + 1)
    more = len(page) > limit
    entries = _entries(user, page[:limit], record)
    return TimelinePage(entries, entries[-1].cursor if more and entries else "")


def _read_visible(rt: RecordType, user, purpose: str, build, ids) -> list:
    """``build()`` (a read of ``rt``'s records in ``user``'s scope) by ids, its statement
    compiled once per type, purpose and scope."""
    scope = scope_q(user, rt.model, Action.VIEW)
    if scope is None:
        return []
    return compiled.by_ids((rt.model, rt.object_type, purpose, scope), build, ids)


def _entries(user, page, record) -> list[Entry]:
    by_type: dict[str, list[int]] = {}
    for _moment, pk, entry_type in page:
        by_type.setdefault(entry_type, []).append(pk)
    objs = {}
    for entry_type, ids in by_type.items():
        rt = types.get(entry_type)
        for obj in _read_visible(rt, user, "timeline", partial(rt.timeline_queryset, user), ids):
            objs[(entry_type, obj.pk)] = obj
    about = _about(user, by_type, record)
    entries = []
    for moment, pk, entry_type in page:
        obj = objs.get((entry_type, pk))
        if obj is not None:  # deleted or moved out of scope since the links were read
            entries.append(
                Entry(types.get(entry_type), obj, moment, about.get((entry_type, pk), []))
            )
    return entries


def _about_links(by_type: dict, record) -> list[tuple]:
    """(entry type, entry id, subject type, subject id) of the entries' direct links but
    the one to ``record``."""
    entry_type, entry_id = _column("entry_type"), _column("entry_id")
    subject_type, subject_id = _column("subject_type"), _column("subject_id")
    of_entries, params = [], []
    for object_type, ids in by_type.items():
        of_entries.append(f"({entry_type} = %s AND {entry_id} IN ({', '.join(['%s'] * len(ids))}))")
        params += [object_type, *ids]
    sql = (
        f"SELECT {entry_type}, {entry_id}, {subject_type}, {subject_id} FROM "
        f"{connection.ops.quote_name(TimelineLink._meta.db_table)}"
        f" WHERE ({' OR '.join(of_entries)}) AND {_column('direct')} = %s"
        f" AND NOT ({subject_type} = %s AND {subject_id} = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, True, object_type_of(record), record.pk])
        return cursor.fetchall()


def _about(user, by_type: dict, record) -> dict:
    """For each entry of a page, the other records it is about that ``user`` may see."""
    if not by_type:
        return {}
    links = _about_links(by_type, record)
    ids_by_subject_type: dict[str, set[int]] = {}
    for _entry_type, _entry_id, subject_type, subject_id in links:
        ids_by_subject_type.setdefault(subject_type, set()).add(subject_id)
    subjects = {}
    for subject_type, ids in ids_by_subject_type.items():
        rt = types.get(subject_type)
        if not isinstance(rt, RecordType):
            continue
        named = _read_visible(rt, user, "names", partial(_names_of, rt, user), ids)
        for obj in named:
            subjects[(subject_type, obj.pk)] = Link(rt.name, obj.pk, str(obj), rt.url_of(obj))
    about: dict = {}
    for entry_type, entry_id, subject_type, subject_id in links:
        if (subject_type, subject_id) in subjects:
            about.setdefault((entry_type, entry_id), []).append(
                subjects[(subject_type, subject_id)]
            )
    return about
