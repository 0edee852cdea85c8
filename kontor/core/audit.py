"""Audit rows, written by services inside their transaction (never by signals)."""

import datetime
import decimal

from .context import current
from .models import AuditEntry


def json_safe(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for each field whose value changed."""
    keys = before.keys() | after.keys()
    return {
        k: [json_safe(before.get(k)), json_safe(after.get(k))]
        for k in sorted(keys)
        if before.get(k) != after.get(k)
    }


def record(action: str, obj, *, actor, changes: dict) -> AuditEntry:
    ctx = current()
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) is not None else None,
        actor_label=actor.get_username() if actor is not None else "",
        channel=ctx.channel,
        request_id=ctx.request_id,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        object_repr=str(obj)[:255],
        changes=changes,
    )
