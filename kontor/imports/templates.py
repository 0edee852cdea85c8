"""Import templates: a mapping saved by name (which header goes to which field, how the
file is read, what the import does with matches), applied to the next file of the same
shape by its headers, whatever their order, case or spacing.

A template is its creator's, or shared with everyone; its name is unique per record
type among its creator's templates. Its creator changes and deletes it, and so does an
administrator of imports (``may_manage_imports``), who sees every template. Each write
is one transaction with its audit row (``imports.importtemplate.created``, ``updated``,
``deleted``: the fields changed).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kontor.core import services as records
from kontor.core import types
from kontor.core.access import Action, may
from kontor.core.errors import NotFound, PermissionDenied
from kontor.core.inputs import as_db_id, text_problem

from . import mapping, services
from .models import ImportTemplate, may_manage_imports

NAME_LIMIT = ImportTemplate._meta.get_field("name").max_length
READING_KEYS = ("encoding", "delimiter", "sheet")
# Each option a template keeps and the type of its value.
OPTION_TYPES = {"match_on": list, "on_match": str, "create_links": bool, "day_first": bool}
CHANGEABLE = ("name", "shared", "mapping", "reading", "options")


def visible(user, object_type: str | None = None):
    found = ImportTemplate.objects.visible_to(user).select_related("created_by")
    return found.filter(object_type=object_type) if object_type else found


def template_for(user, pk) -> ImportTemplate:
    pk = as_db_id(pk)
    found = visible(user).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound()
    return found


def named(user, object_type: str, name: str) -> ImportTemplate:
    """The template of this name for these records: the user's own, else a shared one."""
    found = visible(user, object_type).filter(name__iexact=" ".join(name.split()))
    template = found.filter(created_by_id=user.pk).first() or found.filter(shared=True).first()
    if template is None:
        raise NotFound(_("There is no import template named %(name)s.") % {"name": name})
    return template


# What an import does when neither its channel nor a template says otherwise.
DEFAULT_OPTIONS = {"match_on": [], "on_match": "skip", "create_links": True, "day_first": True}


def reading_with(template: ImportTemplate | None, given: dict) -> dict:
    """How a file is read: what was given, else the template's (else detected)."""
    saved = template.reading if template else {}
    return {key: given.get(key) or saved.get(key, "") for key in READING_KEYS}


def options_with(template: ImportTemplate | None, given: dict) -> dict:
    """An import's options: those given (None: not given), else the template's, else
    the defaults."""
    saved = {**DEFAULT_OPTIONS, **(template.options if template else {})}
    return {key: saved[key] if given.get(key) is None else given[key] for key in saved}


def may_change(user, template: ImportTemplate) -> bool:
    return template.created_by_id == getattr(user, "pk", None) or may_manage_imports(user)


def create(data: dict, *, actor) -> ImportTemplate:
    """A template from ``{"name", "object_type", "mapping", "reading"?, "options"?,
    "shared"?}``; the actor must be able to import records of that type."""
    record_type = types.record_type_named(str(data.get("object_type") or ""))
    if not may(actor, record_type.object_type, Action.CREATE):
        raise PermissionDenied()
    template = ImportTemplate(created_by=actor, object_type=record_type.object_type)
    with transaction.atomic():
        _clean(template, {"reading": {}, "options": {}, **data}, record_type, actor)
        template.save(force_insert=True)
        records.audit_write("created", template, {}, actor=actor)
    return template


def save(data: dict, *, actor) -> tuple[ImportTemplate, bool]:
    """ "Save as template" (the wizard, the CLI): the actor's own template of that name
    for these records updated, else a new one; answers it and whether it is new."""
    record_type = types.record_type_named(str(data.get("object_type") or ""))
    own = ImportTemplate.objects.filter(
        created_by_id=actor.pk,
        object_type=record_type.object_type,
        name__iexact=" ".join(str(data.get("name") or "").split()),
    ).first()
    if own is not None:
        return update(own, data, actor=actor), False
    return create(data, actor=actor), True


def update(template: ImportTemplate, data: dict, *, actor) -> ImportTemplate:
    """Change the sent fields (of ``CHANGEABLE``)."""
    if not may_change(actor, template):
        raise PermissionDenied()
    with transaction.atomic():
        template = ImportTemplate.objects.select_for_update().get(pk=template.pk)
        before = records.field_snapshot(template)
        record_type = types.record_type_named(template.object_type)
        _clean(template, {k: v for k, v in data.items() if k in CHANGEABLE}, record_type, actor)
        template.save()
        records.audit_write("updated", template, before, actor=actor)
    return template


def delete(template: ImportTemplate, *, actor) -> None:
    if not may_change(actor, template):
        raise PermissionDenied()
    records.delete_audited(template, actor=actor)


def columns_for(template: ImportTemplate, headers: list[str], available) -> dict[str, str]:
    """The template applied to a file's headers, as the wizard's form keeps a mapping:
    header -> target key ("" for a column not imported)."""
    applied = mapping.apply_saved(template.mapping, headers, available)
    return {header: applied.get(index, "") for index, header in enumerate(headers)}


# -- checking input ---------------------------------------------------------------------------


def _clean(template: ImportTemplate, data: dict, record_type, actor) -> None:
    errors = records.FieldErrors()
    if "name" in data or template.pk is None:
        template.name = _name(data.get("name"), template, errors)
    if "shared" in data:
        template.shared = bool(data["shared"])
    if "mapping" in data or template.pk is None:
        template.mapping = _mapping(data.get("mapping"), record_type, actor, errors)
    if "reading" in data:
        template.reading = _strings(data["reading"], READING_KEYS, "reading", errors)
    if "options" in data:
        template.options = _options(data["options"], errors)
    errors.raise_if_any()


def _name(value, template: ImportTemplate, errors) -> str:
    mine = ImportTemplate.objects.filter(
        created_by_id=template.created_by_id, object_type=template.object_type
    ).exclude(pk=template.pk)
    taken = _("You have a template of this name for these records already.")
    return records.unique_name(value, mine, errors, limit=NAME_LIMIT, taken=taken)


def _mapping(value, record_type, actor, errors) -> dict:
    """Header -> target key; every key one this type offers the actor."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        errors.add("mapping", _("A mapping is a JSON object: column header -> field key."))
        return {}
    if problem := _text_problem([*value, *value.values()]):
        errors.add("mapping", problem)
        return {}
    available = mapping.targets(record_type, actor)
    try:
        mapping.Mapping.of(dict(enumerate(value.values())), available)
    except mapping.CellError as exc:
        errors.add("mapping", str(exc))
    return value


def _strings(value, keys: tuple[str, ...], field: str, errors) -> dict:
    if not isinstance(value, dict) or any(
        k not in keys or not isinstance(v, str) for k, v in value.items()
    ):
        errors.add(field, _("Only these keys, with text: %(keys)s.") % {"keys": ", ".join(keys)})
        return {}
    if problem := _text_problem(value.values()):
        errors.add(field, problem)
        return {}
    return value


def _options(value, errors) -> dict:
    if not isinstance(value, dict) or any(
        k not in OPTION_TYPES or not isinstance(v, OPTION_TYPES[k]) for k, v in value.items()
    ):
        names = ", ".join(OPTION_TYPES)
        errors.add("options", _("Only these keys, each of its kind: %(keys)s.") % {"keys": names})
        return {}
    if value.get("on_match", services.OnMatch.SKIP) not in services.OnMatch.ALL:
        errors.add("options", _("Unknown choice: %(value)s.") % {"value": value["on_match"]})
    match_on = value.get("match_on", ())
    if not all(isinstance(key, str) for key in match_on):
        errors.add("options", _("Match keys are texts: email, phone or a field's key."))
    elif problem := _text_problem(match_on):
        errors.add("options", problem)
    return value


def _text_problem(texts) -> str | None:
    """Why one of ``texts`` cannot be stored (a NUL, which PostgreSQL's JSON refuses)."""
    return next(filter(None, map(text_problem, texts)), None)
