"""Search documents follow custom field changes.

A document holds the text of the custom fields every reader may see (values.search_text).
When a field leaves or joins that set (removed, given or freed of view roles, its kind
or options changed), the documents of the records holding a value of it are rebuilt:
by the event handler below, after commit, in the worker (or ``kontor serve``'s
dispatcher), chunk by chunk, so a large type never holds the change's transaction.
"""

from __future__ import annotations

from django.db.models import Q

from .. import search, types
from ..models import CustomField
from .kinds import CHOICE_KINDS, TEXT_KINDS

EVENTS = "core.customfield.*"
HANDLER_NAME = "core.customfields.rebuild_search_documents"
# The attributes that decide whether, and as what text, a field's value is searched.
SEARCH_ATTRIBUTES = ("kind", "choices", "view_roles")


def searched(kind, view_roles) -> bool:
    """Whether values of a field of this kind and view roles are in search documents."""
    return (kind in TEXT_KINDS or kind in CHOICE_KINDS) and not view_roles


def _states(event_type: str, field_id: int, changes: dict) -> list[tuple]:
    """(kind, view_roles) before and after the change, as far as search cares."""
    if event_type.endswith(".deleted"):
        return [(changes.get("kind", [None])[0], changes.get("view_roles", [None])[0])]
    if not event_type.endswith(".updated") or not set(SEARCH_ATTRIBUTES) & set(changes):
        return []  # a new field holds no values yet; other changes leave the text as it is
    current = CustomField.objects.filter(pk=field_id).values("kind", "view_roles").first()
    if current is None:
        return []  # removed since: its own event rebuilds
    before = {
        name: changes[name][0] if name in changes else current[name]
        for name in ("kind", "view_roles")
    }
    return [(before["kind"], before["view_roles"]), (current["kind"], current["view_roles"])]


def rebuild_search_documents(event) -> None:
    """The handler of every custom field event (see the module's docstring)."""
    from .services import record_model

    payload = event.payload
    states = _states(event.type, payload["field_id"], payload.get("changes") or {})
    if not any(searched(kind, roles) for kind, roles in states):
        return
    types.refresh()  # the worker may not have loaded a custom type defined since it started
    model = record_model(payload["object_type"])
    if model is None:
        # A custom type this process has not loaded yet: retried (and visible) later.
        raise LookupError(f"Unknown object type {payload['object_type']!r}.")
    if search.is_registered(model):
        # Values stay in a removed field's rows, so the same key finds the records.
        search.rebuild_documents(model, Q(custom__has_key=str(payload["field_id"])))
