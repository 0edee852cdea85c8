"""The lifecycle every business record shares: create, update, delete.

Each runs in one transaction: check permission, validate, write, audit, re-index for
search, emit a domain event (delivered after commit). Domain services call these with
their own field handling; they never write a record any other way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import audit, events, search
from .access import Action, require, require_placement
from .errors import Conflict, ValidationFailed
from .inputs import text_problem
from .models import Attachment


def validate(obj, *, exclude: list[str] | None = None) -> None:
    """Run the model's own validation; a failure becomes ValidationFailed with field messages.

    Text the database could not store (NUL, unpaired surrogates) is a field error too.
    ``exclude`` names fields the caller has checked itself (a link it read the record of).
    """
    errors = {}
    try:
        obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except DjangoValidationError as exc:
        errors = exc.message_dict
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(value, str) and (problem := text_problem(value)):
            errors.setdefault(field.name, []).append(problem)
    if errors:
        raise ValidationFailed(errors=errors)


def _event_type(obj, verb: str) -> str:
    return f"{obj._meta.label_lower}.{verb}"


def _after_write(obj, verb: str, *, actor, changes: dict) -> None:
    audit.record(_event_type(obj, verb), obj, actor=actor, changes=changes)
    if search.is_registered(obj):
        if verb == "deleted":
            search.unindex(obj)
        else:
            search.index(obj, new=verb == "created")
    # Payload: object_type, object_id, actor_id, changes ({field: [old, new]}).
    events.emit(
        _event_type(obj, verb),
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        actor_id=getattr(actor, "pk", None),
        changes=changes,
    )


def snapshot(obj) -> dict:
    """The audited state of ``obj``: its own ``audit_snapshot()`` or its concrete fields."""
    if hasattr(obj, "audit_snapshot"):
        return obj.audit_snapshot()
    skip = {"id", "version", "created_at", "updated_at", "password"}
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in skip
    }


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
        require(actor, Action.CREATE, obj)
        require_placement(actor, Action.CREATE, obj)
        validate(obj, exclude=list(checked_links))
        obj.save(force_insert=True)
        if save_related:
            save_related(obj)
        # Empty fields of a new record say nothing: only what was filled in is logged.
        filled = {k: v for k, v in snapshot(obj).items() if v not in (None, "", [], {})}
        _after_write(obj, "created", actor=actor, changes=audit.diff({}, filled))
    return obj


def update_record(
    obj,
    apply: Callable[[object], None],
    *,
    actor,
    expected_version: int | None,
    save_related: Callable[[object], None] | None = None,
):
    """Apply ``apply(obj)`` to a loaded record and save it if nobody saved it meanwhile.

    ``expected_version`` is the version the user edited; None means the loaded one.
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
        validate(obj)
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
        changes = audit.diff(snapshot(obj), {})
        _after_write(obj, "deleted", actor=actor, changes=changes)
        attachments = list(
            Attachment.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
        )
        obj.delete()
        for attachment in attachments:
            attachment.delete()
            # The file goes only once the rows are gone for good.
            transaction.on_commit(lambda f=attachment.file: f.delete(save=False))
