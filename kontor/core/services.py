"""The lifecycle every business record shares: create, update, delete.

Each runs in one transaction: check permission, validate, write, audit, re-index for
search, write a domain event to the outbox (delivered after commit). Domain services
call these with their own field handling; they never write a record any other way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from . import audit, customfields, events, search, timeline, timers
from .access import (
    Action,
    may,
    object_type_of,
    placement_owners_q,
    record_in_scope,
    require,
    require_placement,
)
from .customfields import computed as formula_fields
from .errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from .inputs import as_db_id, text_problem
from .models import Attachment, AuditEntry, BusinessRecord


class FieldErrors:
    """Collects field messages so a form shows every problem at once."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationFailed(errors=self.by_field)


# -- placement: owner and department from input ----------------------------------------------

# Also the bulk import's words for an id it cannot place the record with.
PLACEMENT_UNKNOWN = {
    "owner_id": gettext_lazy("Unknown user."),
    "department_id": gettext_lazy("Unknown department."),
}


def place(obj, data: dict, errors: FieldErrors) -> set[str]:
    """Put the owner and department ids from input on ``obj`` as given.

    Answers the keys set to a new id: whether that user or department exists and may
    be chosen is asked by ``require_known_placement`` only after the scope check, so a
    hidden id and an absent one get the same answer.
    """
    changed = set()
    for key in ("owner_id", "department_id"):
        if key not in data:
            continue
        value = data[key]
        if value in (None, ""):
            setattr(obj, key, None)
            continue
        pk = as_db_id(value)
        if pk is None:
            errors.add(key, str(PLACEMENT_UNKNOWN[key]))
        elif pk != getattr(obj, key):
            setattr(obj, key, pk)
            changed.add(key)
    return changed


class PlacementChoices:
    """Whom ``actor`` may make owner for ``action``, and which departments exist.

    Asked per id by default (a single write names one of each); ``preload()`` reads
    both sets once, for a bulk import that asks for every row.
    """

    def __init__(self, actor, object_type: str, action: str):
        self.owners = placement_owners_q(actor, object_type, action)
        self.owner_ids: set[int] | None = None
        self.department_ids: set[int] | None = None

    def preload(self) -> PlacementChoices:
        self.owner_ids = (
            set()
            if self.owners is None
            else set(
                get_user_model()
                .objects.filter(self.owners, is_active=True)
                .values_list("pk", flat=True)
            )
        )
        self.department_ids = set(_departments().values_list("pk", flat=True))
        return self

    def owner_known(self, pk: int) -> bool:
        if self.owner_ids is not None:
            return pk in self.owner_ids
        return (
            self.owners is not None
            and get_user_model().objects.filter(self.owners, pk=pk, is_active=True).exists()
        )

    def department_known(self, pk: int) -> bool:
        if self.department_ids is not None:
            return pk in self.department_ids
        return _departments().filter(pk=pk).exists()


def _departments():
    return apps.get_model(settings.KONTOR_DEPARTMENT_MODEL).objects


def require_known_placement(
    obj, changed: set[str], action: str, actor, errors: FieldErrors, *, choices=None
) -> None:
    """A new owner must be an active user the actor may choose, a new department exist.

    Both say "unknown" whether the id names nothing or someone the actor may not choose
    (``placement_owners_q``). The department is already inside the actor's reach
    (``require_placement`` ran first), so only its existence is left to ask.
    ``choices``: a ``PlacementChoices`` the caller keeps (preloaded by an import).
    """
    if not changed:
        return
    choices = choices or PlacementChoices(actor, object_type_of(obj), action)
    if "owner_id" in changed and not choices.owner_known(obj.owner_id):
        errors.add("owner_id", str(PLACEMENT_UNKNOWN["owner_id"]))
    if "department_id" in changed and not choices.department_known(obj.department_id):
        errors.add("department_id", str(PLACEMENT_UNKNOWN["department_id"]))


def place_new(obj, data: dict, actor, errors: FieldErrors) -> None:
    """Owner and department of a new record: from input, else its creator's; then the
    permission to create it there (before validation: someone who may not create learns
    nothing from errors) and the input's ids checked."""
    changed = place(obj, data, errors)
    default_placement(obj, actor)
    require_create(actor, obj)
    require_known_placement(obj, changed, Action.CREATE, actor, errors)


def place_edited(obj, data: dict, actor, errors: FieldErrors) -> None:
    """Owner and department of an edited record from input, with the permission to move
    it there and the input's ids checked."""
    department_before = obj.department_id
    changed = place(obj, data, errors)
    require_placement(
        actor, Action.EDIT, obj, department_changed=obj.department_id != department_before
    )
    require_known_placement(obj, changed, Action.EDIT, actor, errors)


def apply_custom_values(obj, data: dict, actor, errors: FieldErrors) -> None:
    """Custom values from input onto ``obj``: those given cleaned, a new record's defaults
    and required ones checked; messages keyed ``custom.<name>``. Every type's services
    call it, so custom fields behave alike on every type."""
    if "custom" not in data and obj.pk is not None:
        return
    try:
        obj.custom = customfields.clean_values(
            obj._meta.label_lower, data.get("custom"), user=actor, instance=obj
        )
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                errors.add(field, message)


def compute_formulas(obj) -> None:
    """A business record's formula fields computed from its values as they are about to
    be saved (``customfields.computed``); every write of a record passes here."""
    if isinstance(obj, BusinessRecord):
        formula_fields.compute(obj)


def default_placement(obj, actor) -> None:
    """A new record without owner or department goes to its creator and their department."""
    if obj.owner_id is None and getattr(actor, "pk", None) is not None:
        obj.owner_id = actor.pk
    if obj.department_id is None:
        obj.department_id = getattr(actor, "department_id", None)


def field_errors(obj, *, exclude: list[str] | None = None, validate_unique: bool = True) -> dict:
    """The model's own validation of ``obj`` as field messages (empty: valid).

    Text the database could not store (NUL, unpaired surrogates) is a field error too.
    A bulk import leaves uniqueness to the database (a query per row otherwise).
    ``exclude`` names fields the caller has checked itself (a link it read the record of).
    """
    errors = {}
    try:
        obj.full_clean(exclude=exclude, validate_unique=validate_unique, validate_constraints=True)
    except DjangoValidationError as exc:
        errors = exc.message_dict
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(value, str) and (problem := text_problem(value)):
            errors.setdefault(field.name, []).append(problem)
    return errors


def validate(obj, *, exclude: list[str] | None = None) -> None:
    """Run the model's own validation; a failure becomes ValidationFailed with field messages."""
    if errors := field_errors(obj, exclude=exclude):
        raise ValidationFailed(errors=errors)


def _event_type(obj, verb: str) -> str:
    return f"{obj._meta.label_lower}.{verb}"


def _after_write(obj, verb: str, *, actor, changes: dict) -> None:
    audit.record(_event_type(obj, verb), obj, actor=actor, changes=changes)
    if verb == "updated":
        timeline.refresh(obj, changes)
    if search.is_registered(obj):
        search.index(obj, new=verb == "created")
    events.emit(
        _event_type(obj, verb),
        **events.record_payload(obj._meta.label_lower, obj.pk, actor, changes),
    )


def snapshot(obj) -> dict:
    """The audited state of ``obj``: its own ``audit_snapshot()`` or its concrete fields,
    and its custom values as ``custom.<name>``."""
    snap = obj.audit_snapshot() if hasattr(obj, "audit_snapshot") else field_snapshot(obj)
    if isinstance(obj, BusinessRecord) and obj.custom:
        snap.update(customfields.audit_values(obj))
    return snap


def field_snapshot(obj) -> dict:
    """Its concrete fields but the bookkeeping ones: the audited state of most models (a
    model's ``audit_snapshot`` adds its lists to it)."""
    skip = {"id", "version", "created_at", "updated_at", "password", "custom"}
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in skip
    }


# -- settings objects (import templates, saved views): audited writes, named per owner ---------


def audit_write(verb: str, obj, before: dict, *, actor) -> None:
    """The audit row of a settings object's write (``<app.model>.<verb>``: created,
    updated, deleted) holding the fields that changed; nothing changed, no row."""
    after = field_snapshot(obj) if verb != "deleted" else {}
    changes = audit.diff(before, after)
    if changes:
        audit.record(f"{object_type_of(obj)}.{verb}", obj, actor=actor, changes=changes)


def delete_audited(obj, *, actor) -> None:
    """Delete a settings object with its audit row, in one transaction."""
    with transaction.atomic():
        audit_write("deleted", obj, field_snapshot(obj), actor=actor)
        obj.delete()


def unique_name(value, siblings, errors: FieldErrors, *, limit: int, taken: str) -> str:
    """A name from input, its spaces collapsed; a field error unless it is given, at most
    ``limit`` characters, storable and none of ``siblings``' (case aside): ``taken``."""
    name = " ".join(str(value or "").split())
    problem = text_problem(name)
    if not name:
        problem = gettext("This field is required.")
    elif len(name) > limit:
        problem = gettext("Keep it to %(limit)d characters.") % {"limit": limit}
    elif not problem and siblings.filter(name__iexact=name).exists():
        problem = taken
    if problem:
        errors.add("name", problem)
    return name


def require_create(actor, obj) -> None:
    """Raise PermissionDenied unless ``actor`` may create ``obj`` (new) where it is placed."""
    require(actor, Action.CREATE, obj)
    require_placement(actor, Action.CREATE, obj)


def create_record(
    obj,
    *,
    actor,
    save_related: Callable[[object], None] | None = None,
    checked_links: tuple[str, ...] = (),
):
    """Insert ``obj`` (unsaved) and, through ``save_related``, its child rows.

    ``checked_links``: foreign keys the caller has made sure of (it read the linked
    record, or took the actor's own placement), so validation does not read them again.
    """
    with transaction.atomic():
        require_create(actor, obj)
        compute_formulas(obj)
        validate(obj, exclude=list(checked_links))
        obj.save(force_insert=True)
        if save_related:
            save_related(obj)
        _after_write(obj, "created", actor=actor, changes=created_changes(obj))
    return obj


def created_changes(obj) -> dict:
    """A new record's audit changes: each filled-in field as ``[None, value]``.

    Empty fields of a new record say nothing. ``audit.diff({}, filled)``, for less (a
    bulk import logs every row): most values are strings or lists of strings, JSON-safe
    as they are; the rest go through ``audit.json_safe``.
    """
    filled = snapshot(obj)
    changes = {}
    for key in sorted(filled):
        value = filled[key]
        if value in (None, "", [], {}):
            continue
        if type(value) is list and all(type(item) is str for item in value):
            value = list(value)
        elif type(value) is not str:
            value = audit.json_safe(value)
        changes[key] = [None, value]
    return changes


def update_record(
    obj,
    apply: Callable[[object], None],
    *,
    actor,
    expected_version: int | None,
    save_related: Callable[[object], None] | None = None,
    checked_links: tuple[str, ...] = (),
):
    """Apply ``apply(obj)`` to a loaded record and save it if nobody saved it meanwhile.

    ``expected_version`` is the version the user edited; None means the loaded one.
    ``checked_links`` as for ``create_record``: links ``apply`` read when it changed them
    (an unchanged one stands, kept by its foreign key).
    A record the user edits must stay within their edit scope after the change too, so
    no one can hand a record to a department or owner they could not have created it in.
    """
    with transaction.atomic():
        require(actor, Action.EDIT, obj)
        before = snapshot(obj)
        department_before = _department_of(obj)
        expected = obj.version if expected_version is None else expected_version
        apply(obj)
        require_placement(
            actor, Action.EDIT, obj, department_changed=_department_of(obj) != department_before
        )
        compute_formulas(obj)
        validate(obj, exclude=list(checked_links))
        # The conditional UPDATE is the lock: of two writers holding one version, the
        # second matches no row and is refused (invariant 5).
        bumped = (
            type(obj)
            ._base_manager.filter(pk=obj.pk, version=expected)
            .update(version=F("version") + 1)
        )
        if not bumped:
            raise Conflict()
        obj.version = expected + 1
        obj.updated_at = timezone.now()
        obj.save()
        if save_related:
            save_related(obj)
        changes = audit.diff(before, snapshot(obj))
        if changes:
            _after_write(obj, "updated", actor=actor, changes=changes)
    return obj


def _department_of(obj):
    field = obj.access_department_field
    return getattr(obj, field) if field else None


def record_cascaded_update(obj, *, actor, changes: dict) -> None:
    """Log a change the database made to ``obj`` while deleting another record.

    (An ON DELETE SET NULL: deleting a company leaves its people without employer.) The
    record, as it is now, gets a new version, an audit entry, a fresh search document
    and its event, as if it had been edited; no permission is asked of it, since the
    actor was allowed the delete that caused the change.
    """
    obj.version += 1
    obj.updated_at = timezone.now()
    type(obj)._base_manager.filter(pk=obj.pk).update(
        version=F("version") + 1, updated_at=obj.updated_at
    )
    _after_write(obj, "updated", actor=actor, changes=changes)


def delete_record(obj, *, actor, expected_version: int | None = None) -> None:
    with transaction.atomic():
        require(actor, Action.DELETE, obj)
        if expected_version is not None and expected_version != obj.version:
            raise Conflict()
        _delete_all(type(obj), [obj], actor=actor)


def delete_records(objs: list, *, actor) -> None:
    """Delete many records of one model as ``delete_record`` deletes one (each allowed,
    audited, unindexed, with its event, timers, timeline links and attachments), with a
    few statements for all of them: an import's undo removes 100,000 records in a minute.
    Any record ``actor`` may not delete refuses the whole call. ``objs`` should carry
    the lists their audit snapshot reads as a prefetch (``RecordType.audited_lists``).
    """
    if not objs:
        return
    with transaction.atomic():
        for obj in objs:
            require(actor, Action.DELETE, obj)
        _delete_all(type(objs[0]), objs, actor=actor)


def _delete_all(model, objs: list, *, actor) -> None:
    # The bulk import's writer (kontor.core.bulk builds on this module).
    from .bulk import insert

    object_type = model._meta.label_lower
    ids = [obj.pk for obj in objs]
    action = _event_type(objs[0], "deleted")
    columns = {**audit.entry_columns(action, object_type, actor=actor), "at": timezone.now()}
    insert(
        AuditEntry,
        (
            {
                **columns,
                "object_id": obj.pk,
                "object_repr": audit.object_repr(obj),
                "changes": audit.diff(snapshot(obj), {}),
            }
            for obj in objs
        ),
    )
    events.emit_audited(action, object_type, ids)
    if search.is_registered(objs[0]):
        search.unindex_all(object_type, ids)
    attachments = list(Attachment.objects.filter(object_type=object_type, object_id__in=ids))
    # Work due about them (a task's reminder) goes with them.
    timers.cancel_all(object_type, ids)
    timeline.forget_all(object_type, ids)
    model._base_manager.filter(pk__in=ids).delete()
    for attachment in attachments:
        attachment.delete()
        # The file goes only once the rows are gone for good.
        transaction.on_commit(lambda f=attachment.file: f.delete(save=False))


# -- bulk actions on a selection -----------------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk action did to a selection.

    ``done``: records changed. ``skipped``: records the actor sees but may not change
    this way (their names may be shown). ``missing``: ids that name nothing the actor
    can see, deleted meanwhile or never theirs to see; only counted.
    """

    done: int
    skipped: list
    missing: int


def _bulk(record_type, ids, action: str, change, *, actor, prefetch=()) -> BulkResult:
    """``change(obj)`` each selected record the actor sees, each in its own savepoint.

    A row the actor may not change (403, or 404 and 409 from a concurrent write) is
    skipped and the rest applied; bad input (ValidationFailed) is the same for every
    row, so it changes nothing and is raised.
    """
    if not may(actor, record_type.object_type, action):
        raise PermissionDenied()
    ids = set(ids)
    visible = record_type.visible(actor).filter(pk__in=ids).prefetch_related(*prefetch)
    objs = list(visible)
    done, skipped = 0, []
    with transaction.atomic():
        for obj in objs:
            try:
                with transaction.atomic():
                    change(obj)
            except (PermissionDenied, NotFound, Conflict):
                skipped.append(obj)
            else:
                done += 1
    return BulkResult(done=done, skipped=skipped, missing=len(ids) - len(objs))


def bulk_update(record_type, ids: list[int], data: dict, *, actor) -> BulkResult:
    """Apply ``data`` (owner, department) to each listed record the actor may edit,
    through the type's own update service."""

    def change(obj):
        record_type.update(obj, data, actor=actor)

    return _bulk(record_type, ids, Action.EDIT, change, actor=actor)


def bulk_add_tag(record_type, ids: list[int], tag: str, *, actor) -> BulkResult:
    """Add one tag to each listed record the actor may edit."""

    def add_tag(obj):
        record_type.update(obj, {"tags": [*record_type.tag_names(obj), tag]}, actor=actor)

    return _bulk(record_type, ids, Action.EDIT, add_tag, actor=actor, prefetch=("tags",))


# Records a bulk delete reads and deletes at a time.
DELETE_CHUNK = 1000


def bulk_delete(record_type, ids: list[int], *, actor) -> BulkResult:
    """Delete each listed record the actor may delete, a chunk of them at once through
    the type's ``delete_many``."""
    if not may(actor, record_type.object_type, Action.DELETE):
        raise PermissionDenied()
    from .bulk import prime_lists  # kontor.core.bulk builds on this module

    ids = sorted(set(ids))
    lists = record_type.audited_lists(actor)
    done, skipped, seen = 0, [], 0
    with transaction.atomic():
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            objs = list(record_type.visible(actor).filter(pk__in=chunk))
            prime_lists(objs, lists)
            seen += len(objs)
            allowed = []
            for obj in objs:
                (allowed if record_in_scope(actor, obj, Action.DELETE) else skipped).append(obj)
            record_type.delete_many(allowed, actor=actor)
            done += len(allowed)
    return BulkResult(done=done, skipped=skipped, missing=len(ids) - seen)
