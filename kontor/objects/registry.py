"""Live custom object types: one proxy model and one registered RecordType per definition.

Definitions live in the database, so every process (server workers, the worker, the
CLI) builds its types from them and follows changes without a restart: ``sync()`` reads
the "objecttypes" token (kontor.core.stamps, replaced by every definition change) and
rebuilds only when it moved. The middleware calls it at the start of every request.

The proxy model is what makes a custom object "equal on the system": it is labelled
``objects.<slug>``, so grants, the audit log, search documents, attachments and events
name it like any model, and its default manager holds only its own records. Proxies are
marked ``auto_created`` so that migrations never try to write them.
"""

from __future__ import annotations

import threading

from django.apps import apps
from django.db.models import Manager
from django.utils.translation import gettext_lazy as _

from kontor.core import search, stamps, types
from kontor.core.access import ScopedQuerySet
from kontor.core.types import CellKind, Column, ExportColumn, MenuEntry, RecordType

from .models import CustomRecord, ObjectTypeDefinition
from .schemas import RecordIn, RecordOut, RecordPatch

# A custom object type's search code (core.search.register) is this plus its definition's
# id: built-in types take codes below it.
SEARCH_CODES_FROM = 1000

_lock = threading.Lock()
_stamp: str | None = None
_live: dict[str, CustomObjectType] = {}


def _manager_for(definition_id: int):
    class DefinitionManager(Manager.from_queryset(ScopedQuerySet)):
        def get_queryset(self):
            return super().get_queryset().filter(definition_id=definition_id)

    return DefinitionManager()


def _proxy(definition: ObjectTypeDefinition) -> type:
    """The proxy model of ``definition``'s records (``objects.<slug>``)."""
    definition_id = definition.pk

    def __init__(self, *args, **kwargs):
        CustomRecord.__init__(self, *args, **kwargs)
        if self.definition_id is None:
            self.definition_id = definition_id

    meta = type(
        "Meta",
        (),
        {
            "proxy": True,
            "app_label": "objects",
            "auto_created": True,
            "verbose_name": definition.singular,
            "verbose_name_plural": definition.plural,
        },
    )
    return type(
        definition.slug,
        (CustomRecord,),
        {
            "__module__": __name__,
            "__init__": __init__,
            "Meta": meta,
            "objects": _manager_for(definition_id),
        },
    )


class CustomObjectType(RecordType):
    """A record type whose definition an administrator keeps in the database."""

    namespace = "objects"
    home_widget = False
    sorts = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    form_template = "objects/_record_fields.html"
    profile_template = "objects/_record_profile.html"
    search_description = "Name"
    out_schema = RecordOut
    create_schema = RecordIn
    patch_schema = RecordPatch

    def __init__(self, definition: ObjectTypeDefinition, model: type):
        self.definition = definition
        self.model = model
        self.name = definition.slug
        self.path = f"objects/{definition.slug}"
        self.singular = definition.singular
        self.plural = definition.plural
        self.menu = MenuEntry(f"{definition.icon} {definition.plural}".strip(), order=500)
        self.empty_text = definition.description
        self.search = {
            "label": definition.plural,
            "ordering": ("name", "id"),
            "code": SEARCH_CODES_FROM + definition.pk,
        }

    @property
    def form_class(self):
        from .forms import RecordForm

        return RecordForm

    @property
    def columns(self):
        return (
            Column("name", _("Name"), CellKind.TITLE, str, sort="name"),
            Column("owner", _("Owner"), CellKind.TEXT, lambda obj: obj.owner or ""),
            Column("department", _("Department"), CellKind.TEXT, lambda obj: obj.department or ""),
            Column("updated", _("Updated"), CellKind.DATE, lambda obj: obj.updated_at, "updated"),
        )

    export_columns = (
        ExportColumn(_("ID"), lambda obj, extra: obj.pk),
        ExportColumn(_("Name"), lambda obj, extra: obj.name),
        ExportColumn(_("Notes"), lambda obj, extra: obj.notes),
        ExportColumn(_("Owner"), lambda obj, extra: str(obj.owner or "")),
        ExportColumn(_("Department"), lambda obj, extra: str(obj.department or "")),
        ExportColumn(_("Created"), lambda obj, extra: obj.created_at),
    )

    def to_out(self, obj) -> dict:
        from .api import record_out

        return record_out(obj)

    def url(self, suffix: str, *args) -> str:
        from django.urls import reverse

        return reverse(f"objects:record_{suffix}", args=[self.name, *args])

    def create(self, data, *, actor):
        from . import services

        return services.create_record(self, data, actor=actor)

    def update(self, obj, data, *, actor, expected_version=None):
        from . import services

        return services.update_record(obj, data, actor=actor, expected_version=expected_version)

    def delete(self, obj, *, actor, expected_version=None):
        from . import services

        services.delete_record(obj, actor=actor, expected_version=expected_version)

    def importer(self, actor):
        from . import services

        return services.RecordImporter(self, actor)


STAMP = "objecttypes"


def bump() -> None:
    """Tell every process the definitions changed (inside the changing transaction)."""
    stamps.bump(STAMP)


def sync(*, force: bool = False) -> None:
    """Bring this process's custom types in line with the definitions table."""
    global _stamp
    stamp = stamps.current(STAMP)
    if stamp == _stamp and not force:
        return
    with _lock:
        live = {d.slug: d for d in ObjectTypeDefinition.objects.filter(archived_at__isnull=True)}
        for slug in set(_live) - set(live):
            _drop(slug)
        for slug, definition in live.items():
            known = _live.get(slug)
            if known is None or known.definition.updated_at != definition.updated_at:
                if known is not None:
                    _drop(slug)
                _add(definition)
        _stamp = stamp


def _add(definition: ObjectTypeDefinition) -> None:
    model = _proxy(definition)
    entry = CustomObjectType(definition, model)
    _live[definition.slug] = entry
    types.register(entry)


def _drop(slug: str) -> None:
    entry = _live.pop(slug)
    types.unregister(entry)
    search.unregister(entry.model)
    apps.all_models["objects"].pop(slug, None)
    apps.clear_cache()


def live_types() -> list[CustomObjectType]:
    return list(_live.values())


def resolve(slug: str) -> CustomObjectType | None:
    sync()
    return _live.get(slug)
