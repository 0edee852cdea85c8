"""Merging two people or two companies into one, and undoing a merge.

The survivor takes the value the user chose for each field (lists are united by
default) through its type's update service; everything that points at the merged
record is re-linked to the survivor; then the merged record is deleted through its
type's delete service. Pointers are found from the models and the registry, not from a
list of known models: every foreign key and many-to-many of another model to the type
(Django's relation metadata), every (type, id) pointer of any model (attachments,
notifications: ``generic_pointers``), timeline links, and custom relation fields whose
target is the type. Each re-linked row is logged in the ``Merge`` row with the merged
record's rows as they were, so an undo puts the record back under its id and moves
exactly those pointers back.
"""

from __future__ import annotations

import datetime
import json

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.contacts import services as contacts
from kontor.contacts.queries import record_lists
from kontor.core import audit, customfields, events, timeline, types
from kontor.core import services as records
from kontor.core.access import Action, require
from kontor.core.customfields.kinds import Kind, is_empty
from kontor.core.customfields.queries import filter_q
from kontor.core.errors import Conflict, NotFound, ValidationFailed
from kontor.core.models import BusinessRecord, CustomField

from .models import Candidate, Merge

SURVIVOR, MERGED, BOTH = "survivor", "merged", "both"
# A copy of the linked record's value kept beside a foreign key: re-linking a row
# rewrites it (a person's employer name, kept for the list's sort).
COPIES = {("contacts.person", "company"): ("company_name", "name")}
# How two list items are the same: united lists keep one of each.
_SAME = {
    "phones": lambda item: item["e164"] or item["raw"],
    "emails": lambda item: item["address"].lower(),
    "addresses": lambda item: tuple(str(item[f]).strip().lower() for f in contacts.ADDRESS_FIELDS),
    "family": lambda item: (item["relation"], item["name"], str(item["birthday"])),
    "important_dates": lambda item: (item["label"], str(item["date"])),
    "tags": lambda item: item.lower(),
}


class _ExactEncoder(DjangoJSONEncoder):
    """Times to the microsecond: Django's encoder keeps milliseconds, and an undo must
    give the record back exactly."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _json(value):
    """``value`` as JSON stores it (dates as ISO text, decimals as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def record_type_of(object_type: str):
    rt = types.get(object_type)
    if object_type not in ("contacts.person", "contacts.company") or rt is None:
        raise NotFound()
    return rt


def lists_of(model) -> tuple[str, ...]:
    return tuple(name for name in contacts.LISTS if hasattr(model, name))


def fields_of(model) -> tuple[str, ...]:
    """The plain fields a user picks between (a person's employer too)."""
    extra = ("company_id",) if hasattr(model, "company_name") else ()
    return (*model.profile_fields, *extra)


def custom_fields_of(actor, object_type: str) -> list[CustomField]:
    return customfields.editable_fields(actor, object_type)


def _list_input(name: str, items: list) -> list:
    """A list as read (``record_lists``) in the shape the services take."""
    if name == "phones":
        return [{"number": item["raw"], "kind": item["kind"]} for item in items]
    return _json(items)


def item_text(name: str, item) -> str:
    """One list item as the merge form shows it."""
    if name == "phones":
        return item["display"]
    if name == "emails":
        return item["address"]
    if name == "addresses":
        return ", ".join(str(item[f]) for f in contacts.ADDRESS_FIELDS if item[f])
    if name == "family":
        return f"{item['name']} ({item['relation']})"
    if name == "important_dates":
        return f"{item['label']}: {item['date']}"
    return str(item)


def united(name: str, first: list, second: list) -> list:
    """``first`` and the items of ``second`` not in it, in that order."""
    same = _SAME[name]
    seen = {same(item) for item in first}
    return list(first) + [item for item in second if same(item) not in seen]


def comparison(rt, survivor, merged, actor) -> dict:
    """What the merge form shows and what ``merge`` applies by default: per field whose
    values differ the two values and the default choice (the survivor's, unless empty);
    per list the two lists and their union."""
    model = rt.model
    lists = lists_of(model)
    left, right = (record_lists(model, r.pk, lists) for r in (survivor, merged))
    rows = []
    for name in fields_of(model):
        a, b = getattr(survivor, name), getattr(merged, name)
        if a == b:
            continue  # the same on both: nothing to choose
        if name == "company_id":  # shown by name, if the reader sees it
            types.mark_links_in_scope(actor, [survivor, merged], ["company"])
            a, b = survivor.visible_company, merged.visible_company
        label = model._meta.get_field(name).verbose_name
        default = MERGED if getattr(survivor, name) in (None, "") else SURVIVOR
        rows.append({"name": name, "label": label, "values": (a, b), "default": default})
    for field in custom_fields_of(actor, rt.object_type):
        a = survivor.custom.get(str(field.pk))
        b = merged.custom.get(str(field.pk))
        if is_empty(a) and is_empty(b):
            continue
        default = MERGED if is_empty(a) else SURVIVOR
        rows.append(
            {
                "name": f"custom.{field.name}",
                "label": field.label,
                "values": (customfields.display(field, a), customfields.display(field, b)),
                "default": default,
            }
        )
    list_rows = [
        {
            "name": name,
            "label": getattr(model, name).field.verbose_name
            if name == "tags"
            else getattr(model, name).rel.related_model._meta.verbose_name_plural,
            "values": tuple(
                [item_text(name, item) for item in side[name]] for side in (left, right)
            ),
            "united": [item_text(name, item) for item in united(name, left[name], right[name])],
            "default": BOTH,
        }
        for name in lists
        if left[name] or right[name]
    ]
    return {"fields": rows, "lists": list_rows, "raw_lists": (left, right)}


def _chosen_data(rt, survivor, merged, choices: dict, actor) -> tuple[dict, dict]:
    """The survivor's service input the choices make, and its values before, for undo."""
    view = comparison(rt, survivor, merged, actor)
    data, before = {}, {}
    for row in view["fields"]:
        choice = choices.get(row["name"], row["default"])
        if choice not in (SURVIVOR, MERGED):
            raise ValidationFailed(errors={row["name"]: [_("Choose one of the two values.")]})
        if choice != MERGED:
            continue
        name = row["name"]
        if name.startswith("custom."):
            field_id = str(customfields.visible_field(actor, rt.object_type, name[7:]).pk)
            data.setdefault("custom", {})[name[7:]] = merged.custom.get(field_id)
            before.setdefault("custom", {})[name[7:]] = survivor.custom.get(field_id)
        else:
            data[name] = _json(getattr(merged, name))
            before[name] = _json(getattr(survivor, name))
    left, right = view["raw_lists"]
    for row in view["lists"]:
        name = row["name"]
        choice = choices.get(name, BOTH)
        if choice not in (SURVIVOR, MERGED, BOTH):
            raise ValidationFailed(errors={name: [_("Choose which list to keep.")]})
        if choice == SURVIVOR:
            continue
        items = right[name] if choice == MERGED else united(name, left[name], right[name])
        data[name] = _list_input(name, items)
        before[name] = _list_input(name, left[name])
    return data, before


# -- pointers --------------------------------------------------------------------------------


def _relations(model):
    """Foreign keys and many-to-manys of other models to ``model`` that are not its own
    parts (its lists, united through the service, and its own many-to-many's rows)."""
    own = set(lists_of(model))
    for rel in model._meta.related_objects:
        if rel.related_model._meta.auto_created or rel.get_accessor_name() in own:
            continue
        yield rel


def _cascaded(model, ids: list[int], changes_of, actor) -> None:
    """Each re-linked business record gets a new version, an audit row, its search
    document and its timeline links again, as if edited."""
    if not issubclass(model, BusinessRecord):
        return
    for start in range(0, len(ids), 500):
        for obj in model._base_manager.filter(pk__in=ids[start : start + 500]):
            records.record_cascaded_update(obj, actor=actor, changes=changes_of(obj))


def _move_fk(rel, ids, source, target, actor) -> None:
    model, field = rel.related_model, rel.field
    rows = model._base_manager.filter(pk__in=ids, **{field.attname: source.pk})
    update = {field.attname: target.pk}
    copy = COPIES.get((model._meta.label_lower, field.name))
    if copy:
        update[copy[0]] = getattr(target, copy[1])
    moved = list(rows.values_list("pk", flat=True))
    rows.update(**update)
    _cascaded(model, moved, lambda obj: {field.attname: [source.pk, target.pk]}, actor)


def _relink_fk(rel, merged, survivor, actor) -> dict:
    model, field = rel.related_model, rel.field
    ids = list(
        model._base_manager.filter(**{field.attname: merged.pk}).values_list("pk", flat=True)
    )
    _move_fk(rel, ids, merged, survivor, actor)
    return {"kind": "fk", "model": model._meta.label_lower, "field": field.name, "ids": ids}


def _m2m_sides(rel):
    """The through model, its column naming the other record, and its column naming ours."""
    through = rel.through
    return through, rel.field.m2m_column_name(), rel.field.m2m_reverse_name()


def _relink_m2m(rel, merged, survivor, actor) -> dict:
    through, other, ours = _m2m_sides(rel)
    rows = through._base_manager.filter(**{ours: merged.pk})
    already = set(through._base_manager.filter(**{ours: survivor.pk}).values_list(other, flat=True))
    holders = list(rows.values_list(other, flat=True))
    moved = [pk for pk in holders if pk not in already]
    dropped = [pk for pk in holders if pk in already]
    rows.filter(**{f"{other}__in": dropped}).delete()
    rows.update(**{ours: survivor.pk})
    name = rel.field.name
    changes = {name: [merged.pk, survivor.pk]}
    _cascaded(rel.related_model, holders, lambda obj: changes, actor)
    return {
        "kind": "m2m",
        "model": rel.related_model._meta.label_lower,
        "field": name,
        "moved": moved,
        "dropped": dropped,
    }


def _relink_timeline(object_type: str, merged, survivor) -> dict:
    """Entries about the merged record are about the survivor (and its parents)."""
    entries = list(
        timeline.TimelineLink.objects.filter(
            subject_type=object_type, subject_id=merged.pk, direct=True
        ).values_list("entry_type", "entry_id")
    )
    moved, dropped = [], []
    for entry_type, entry_id in entries:
        entry = _entry(entry_type, entry_id)
        if entry is None:
            continue
        subjects = [s for s in timeline.direct_subjects(entry) if not _is(s, merged)]
        if any(_is(s, survivor) for s in subjects):
            dropped.append([entry_type, entry_id])
        else:
            moved.append([entry_type, entry_id])
            subjects.append(survivor)
        timeline.set_links(entry, subjects)
    return {"kind": "timeline", "moved": moved, "dropped": dropped}


def _entry(entry_type: str, entry_id: int):
    rt = types.get(entry_type)
    return rt.model._base_manager.filter(pk=entry_id).first() if rt else None


def _is(record, other) -> bool:
    return type(record) is type(other) and record.pk == other.pk


# (type, id) pairs that are not pointers to move: history stays under the id it was
# written for, search documents and timers follow the records' own writes, the timeline
# is re-linked entry by entry (its parents too), and the finder's own rows.
NOT_MOVED = {
    "core.auditentry",
    "core.searchdocument",
    "core.timer",
    "core.timelinelink",
    "dedup.candidate",
    "dedup.merge",
    "dedup.scan",
}


def generic_pointers() -> list[tuple]:
    """Every (model, type column, id column) naming a record by its type and id, read
    from the models: a ``<name>_type`` text column beside a ``<name>_id`` integer column
    (attachments' ``object_type``/``object_id``, notifications', any added later)."""
    found = []
    for model in apps.get_models():
        if model._meta.label_lower in NOT_MOVED:
            continue
        columns = {f.name: f for f in model._meta.concrete_fields}
        for name, field in columns.items():
            prefix = name.removesuffix("_type")
            pk_field = columns.get(f"{prefix}_id")
            if (
                name.endswith("_type")
                and isinstance(field, models.CharField)
                and isinstance(pk_field, models.BigIntegerField)
            ):
                found.append((model, name, pk_field.name))
    return found


def _move_generic(object_type: str, pointer: dict, source_pk: int, target_pk: int) -> None:
    model = apps.get_model(pointer["model"])
    model._base_manager.filter(
        pk__in=pointer["ids"],
        **{pointer["type_field"]: object_type, pointer["id_field"]: source_pk},
    ).update(**{pointer["id_field"]: target_pk})


def _relink_generic(object_type: str, merged, survivor) -> list[dict]:
    log = []
    for model, type_field, id_field in generic_pointers():
        ids = list(
            model._base_manager.filter(
                **{type_field: object_type, id_field: merged.pk}
            ).values_list("pk", flat=True)
        )
        pointer = {
            "kind": "generic",
            "model": model._meta.label_lower,
            "type_field": type_field,
            "id_field": id_field,
            "ids": ids,
        }
        _move_generic(object_type, pointer, merged.pk, survivor.pk)
        log.append(pointer)
    return log


def _relation_fields(object_type: str):
    return CustomField.objects.filter(kind=Kind.RELATION, related_type=object_type)


def _move_custom(field, ids, source_pk: int, target_pk: int, actor) -> list[int]:
    model = types.get(field.object_type).model
    key = str(field.pk)
    moved = []
    for obj in model._base_manager.filter(pk__in=ids):
        if obj.custom.get(key) != source_pk:
            continue
        obj.custom[key] = target_pk
        model._base_manager.filter(pk=obj.pk).update(custom=obj.custom)
        records.record_cascaded_update(
            obj, actor=actor, changes={f"custom.{field.name}": [source_pk, target_pk]}
        )
        moved.append(obj.pk)
    return moved


def _relink_custom(object_type: str, merged, survivor, actor) -> list[dict]:
    found = []
    for field in _relation_fields(object_type):
        rt = types.get(field.object_type)
        if rt is None:
            continue
        ids = list(
            rt.model._base_manager.filter(filter_q(field, "eq", merged.pk)).values_list(
                "pk", flat=True
            )
        )
        moved = _move_custom(field, ids, merged.pk, survivor.pk, actor)
        found.append({"kind": "custom", "field_id": field.pk, "ids": moved})
    return found


def relink(rt, merged, survivor, actor) -> list[dict]:
    """Point everything that points at ``merged`` at ``survivor``; the log for undo."""
    log = []
    for rel in _relations(rt.model):
        if rel.many_to_many:
            log.append(_relink_m2m(rel, merged, survivor, actor))
        else:
            log.append(_relink_fk(rel, merged, survivor, actor))
    log.append(_relink_timeline(rt.object_type, merged, survivor))
    log += _relink_generic(rt.object_type, merged, survivor)
    log += _relink_custom(rt.object_type, merged, survivor, actor)
    return log


def _own_rows(record) -> list:
    """The rows deleting ``record`` would delete with it (its phones, emails, ...),
    Django's own deletion collector asked; many-to-many rows come with the record."""
    collector = Collector(using=router.db_for_write(type(record)))
    collector.collect([record])
    rows = []
    for model, instances in collector.data.items():
        if model is not type(record) and not model._meta.auto_created:
            rows += list(instances)
    for qs in collector.fast_deletes:
        if not qs.model._meta.auto_created:
            rows += list(qs)
    return rows


# -- merge and undo --------------------------------------------------------------------------


def _changed(record) -> Conflict:
    return Conflict(
        _("“%(name)s” was changed after you opened the comparison. Review the pair again.")
        % {"name": record}
    )


def merge(
    object_type: str,
    survivor_id: int,
    merged_id: int,
    *,
    actor,
    choices: dict | None = None,
    versions: tuple[int, int] | None = None,
) -> Merge:
    """Merge record ``merged_id`` into ``survivor_id``. ``choices``: field or list name ->
    "survivor" / "merged" (lists also "both", their default). ``versions``: the two
    records' versions the user reviewed; a record changed since is refused (409)."""
    rt = record_type_of(object_type)
    if survivor_id == merged_id:
        raise ValidationFailed(_("A record cannot be merged into itself."))
    with transaction.atomic():
        visible = rt.visible(actor).select_for_update()
        survivor = _get(visible, survivor_id)
        merged = _get(visible, merged_id)
        if versions is not None:
            for record, version in zip((survivor, merged), versions, strict=True):
                if record.version != version:
                    raise _changed(record)
        require(actor, Action.EDIT, survivor)
        require(actor, Action.EDIT, merged)
        require(actor, Action.DELETE, merged)
        data, before = _chosen_data(rt, survivor, merged, choices or {}, actor)
        merged_repr = str(merged)[:255]
        pointers = relink(rt, merged, survivor, actor)
        merged = rt.model._base_manager.get(pk=merged.pk)
        merged_rows = json.loads(
            serializers.serialize("json", [merged, *_own_rows(merged)], cls=_ExactEncoder)
        )
        rt.delete(merged, actor=actor)
        survivor = rt.model._base_manager.get(pk=survivor.pk)
        survivor = rt.update(survivor, data, actor=actor)
        log = Merge.objects.create(
            object_type=object_type,
            survivor_id=survivor.pk,
            merged_id=merged_id,
            merged_repr=merged_repr,
            merged_record=merged_rows,
            survivor_before=before,
            survivor_version=survivor.version,
            pointers=pointers,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        Candidate.objects.filter(object_type=object_type, first_id=merged_id).delete()
        Candidate.objects.filter(object_type=object_type, second_id=merged_id).delete()
        _log(survivor, "merged", {"merged": [None, f"{merged_repr} (#{merged_id})"]}, actor)
    return log


def _get(qs, pk: int):
    record = qs.filter(pk=pk).first()
    if record is None:
        raise NotFound()
    return record


def _log(survivor, verb: str, changes: dict, actor) -> None:
    event_type = f"{survivor._meta.label_lower}.{verb}"
    audit.record(event_type, survivor, actor=actor, changes=changes)
    events.emit(
        event_type,
        **events.record_payload(survivor._meta.label_lower, survivor.pk, actor, changes),
    )


def _restore(rt, rows: list, actor):
    """The merged record back under its id, with its own rows, through the engine's
    create (permission, audit, search document)."""
    restored = list(serializers.deserialize("json", json.dumps(rows), ignorenonexistent=True))
    head, parts = restored[0], restored[1:]
    record = head.object
    record._state.adding = True
    m2m = head.m2m_data or {}

    def save_related(obj):
        for part in parts:
            part.save()
        for name, ids in m2m.items():
            target = getattr(obj, name)
            target.set(target.model._base_manager.filter(pk__in=ids))

    return records.create_record(record, actor=actor, save_related=save_related)


def undo(merge_id: int, *, actor) -> Merge:
    """Put the merged record back under its id and move every re-linked pointer back;
    the survivor gets its values before the merge. Refused (409) if the survivor changed
    since the merge: its later changes would be lost."""
    with transaction.atomic():
        log = Merge.objects.select_for_update().filter(pk=merge_id).first()
        if log is None:
            raise NotFound()
        rt = record_type_of(log.object_type)
        survivor = _get(rt.visible(actor).select_for_update(), log.survivor_id)
        require(actor, Action.EDIT, survivor)
        if log.undone_at is not None:
            raise Conflict(_("This merge has been undone already."))
        if survivor.version != log.survivor_version:
            raise Conflict(
                _(
                    "“%(name)s” was changed after the merge; undoing it would lose those "
                    "changes. Merge or edit the records by hand instead."
                )
                % {"name": survivor}
            )
        if rt.model._base_manager.filter(pk=log.merged_id).exists():
            raise Conflict(_("A record with the merged record's id exists again."))
        restored = _restore(rt, log.merged_record, actor)
        for pointer in log.pointers:
            _move_back(rt, pointer, survivor, restored, actor)
        survivor = rt.model._base_manager.get(pk=survivor.pk)
        rt.update(survivor, log.survivor_before, actor=actor)
        log.undone_at = timezone.now()
        log.undone_by = actor if getattr(actor, "pk", None) else None
        log.save(update_fields=["undone_at", "undone_by"])
        _log(survivor, "merge_undone", {"merged": [f"{restored} (#{restored.pk})", None]}, actor)
    return log


def _move_back(rt, pointer: dict, survivor, restored, actor) -> None:
    kind = pointer["kind"]
    if kind in ("fk", "m2m"):
        source = apps.get_model(pointer["model"])
        rel = source._meta.get_field(pointer["field"]).remote_field
        if kind == "fk":
            _move_fk(rel, pointer["ids"], survivor, restored, actor)
        else:
            through, other, ours = _m2m_sides(rel)
            through._base_manager.filter(
                **{ours: survivor.pk, f"{other}__in": pointer["moved"]}
            ).update(**{ours: restored.pk})
            through._base_manager.bulk_create(
                through(**{other: pk, ours: restored.pk}) for pk in pointer["dropped"]
            )
            holders = pointer["moved"] + pointer["dropped"]
            changes = {pointer["field"]: [survivor.pk, restored.pk]}
            _cascaded(source, holders, lambda obj: changes, actor)
    elif kind == "timeline":
        for (entry_type, entry_id), keep in [(e, False) for e in pointer["moved"]] + [
            (e, True) for e in pointer["dropped"]
        ]:
            entry = _entry(entry_type, entry_id)
            if entry is None:
                continue
            subjects = timeline.direct_subjects(entry)
            if not keep:
                subjects = [s for s in subjects if not _is(s, survivor)]
            timeline.set_links(entry, [*subjects, restored])
    elif kind == "generic":
        _move_generic(rt.object_type, pointer, survivor.pk, restored.pk)
    elif kind == "custom":
        field = CustomField.objects.filter(pk=pointer["field_id"]).first()
        if field is not None and types.get(field.object_type) is not None:
            _move_custom(field, pointer["ids"], survivor.pk, restored.pk, actor)
