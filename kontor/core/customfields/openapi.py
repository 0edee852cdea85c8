"""The API document describes each type's custom fields for the reader who asks.

Every registered record type the reader may view gets two components: its values as
the API answers them (``CustomFields.<type>``) and as it takes them
(``CustomFieldsInput.<type>``: the fields the reader may edit, numbers also as text).
A type's own schemas point their ``custom`` property at them; schemas several types
share (custom objects) list every such type's. A field the reader may not see is not
in the document: neither its name nor its options.
"""

from __future__ import annotations

import decimal

from .. import types
from ..access import Action, Scope, scope_for
from . import kinds, registry
from .kinds import Kind

_STRING_FORMATS = {
    Kind.DATE: "date",
    Kind.DATETIME: "date-time",
    Kind.URL: "uri",
    Kind.EMAIL: "email",
}
_TEXT_LIMITS = {Kind.TEXT: kinds.TEXT_LIMIT, Kind.LONG_TEXT: kinds.LONG_TEXT_LIMIT}


def _value_schema(field, *, taking: bool) -> dict:
    kind = Kind(field.value_kind)
    if kind in _TEXT_LIMITS:
        schema = {"type": "string", "maxLength": _TEXT_LIMITS[kind]}
        if field.pattern:
            schema["pattern"] = field.pattern
    elif kind in _STRING_FORMATS:
        schema = {"type": "string", "format": _STRING_FORMATS[kind]}
    elif kind == Kind.PHONE:
        schema = {"type": "string", "description": "E.164, e.g. +493012345678"}
    elif kind == Kind.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind == Kind.CHOICE:
        schema = {"type": "string", "enum": [c["key"] for c in field.choices]}
    elif kind == Kind.MULTIPLE_CHOICE:
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": [c["key"] for c in field.choices]},
        }
    elif kind in kinds.ID_KINDS:
        target = "a user" if kind == Kind.USER else f"a record of {field.related_type}"
        schema = {"type": "integer", "description": f"The id of {target}"}
    elif kind == Kind.INTEGER:
        schema = {"type": "integer"}
        for bound, key in ((field.minimum, "minimum"), (field.maximum, "maximum")):
            if bound is not None:
                schema[key] = int(bound)
        if taking:
            schema = {"anyOf": [schema, {"type": "string"}]}
    else:
        # Decimals are answered as text ("1500.5"), exact; taken as a number or text.
        schema = {"type": "string", "format": "decimal"}
        notes = [f"Amount in {field.currency}"] if kind == Kind.MONEY and field.currency else []
        notes += [
            f"{word} {decimal.Decimal(bound).normalize():f}"
            for word, bound in (("at least", field.minimum), ("at most", field.maximum))
            if bound is not None
        ]
        if notes:
            schema["description"] = "; ".join(notes)
        if taking:
            schema = {"anyOf": [{"type": "number"}, schema]}
    return schema


def _fields_schema(fields, *, taking: bool) -> dict:
    properties = {}
    for field in fields:
        value = _value_schema(field, taking=taking)
        properties[field.name] = {
            "anyOf": [value, {"type": "null"}],
            "title": field.label,
            "description": " ".join(
                part for part in (field.help_text, "Required." if field.required else "") if part
            ),
        }
        if field.kind == Kind.FORMULA:
            # Computed on every save (never in an input schema: nobody may edit it).
            properties[field.name] |= {"readOnly": True, "description": "Computed: a formula."}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _point_custom_at(component: dict | None, refs: list[str]) -> None:
    if component is None or "custom" not in component.get("properties", {}):
        return
    custom = component["properties"]["custom"]
    kept = {k: custom[k] for k in ("description", "default") if k in custom}
    targets = [{"$ref": f"#/components/schemas/{ref}"} for ref in refs]
    component["properties"]["custom"] = (
        {**kept, "allOf": targets} if len(targets) == 1 else {**kept, "anyOf": targets}
    )


def describe(schema: dict, user) -> None:
    """Add the custom field components ``user`` may read to ``schema``, in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    read_by: dict[str, list[str]] = {}
    taken_by: dict[str, list[str]] = {}
    for rt in types.record_types():
        if scope_for(user, rt.object_type, Action.VIEW) == Scope.NONE:
            continue
        read_name = f"CustomFields.{rt.object_type}"
        taken_name = f"CustomFieldsInput.{rt.object_type}"
        components[read_name] = _fields_schema(
            registry.visible_fields(user, rt.object_type), taking=False
        )
        components[taken_name] = _fields_schema(
            registry.editable_fields(user, rt.object_type), taking=True
        )
        for attribute in ("out_schema", "list_schema"):
            read_by.setdefault(getattr(rt, attribute).__name__, []).append(read_name)
        for attribute in ("create_schema", "patch_schema"):
            taken_by.setdefault(getattr(rt, attribute).__name__, []).append(taken_name)
    for names in (read_by, taken_by):
        for component_name, refs in names.items():
            _point_custom_at(components.get(component_name), sorted(set(refs)))
