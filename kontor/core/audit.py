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


def entry_columns(action: str, object_type: str, *, actor) -> dict:
    """What every audit entry of one write shares: who, through which channel, what.

    Also the bulk import's (kontor.core.bulk), which writes a batch's entries at once.
    """
    ctx = current()
    return {
        "actor_id": getattr(actor, "pk", None),
        "actor_label": actor.get_username() if actor is not None else "",
        "channel": ctx.channel,
        "request_id": ctx.request_id,
        "action": action,
        "object_type": object_type,
    }


def object_repr(obj) -> str:
    return str(obj)[:255]


def record(action: str, obj, *, actor, changes: dict) -> AuditEntry:
    return AuditEntry.objects.create(
        **entry_columns(action, obj._meta.label_lower, actor=actor),
        object_id=obj.pk,
        object_repr=object_repr(obj),
        changes=changes,
    )
