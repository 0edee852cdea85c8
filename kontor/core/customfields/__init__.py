"""Custom fields: admin-defined fields on every record type, without migrations.

Definitions are ``kontor.core.models.CustomField`` rows; a record's values live in its
``custom`` JSON column under the field's id. The parts:

- kinds: the kinds, how each cleans, stores and shows a value;
- registry: the per-process cache of definitions and field-level access;
- values: cleaning a record's values on write, reading them for a reader;
- queries: filter and sort expressions the field's index serves;
- indexes: the per-field expression indexes, made and dropped at run time;
- services: adding, changing and removing definitions;
- openapi: each type's fields in the API document, as its reader may see them.
"""

from .kinds import INDEXED_KINDS as SORTABLE_KINDS
from .kinds import OPERATORS, Kind, display
from .queries import CustomKey, filter_q, order_by
from .registry import (
    ChangeReader,
    editable_fields,
    fields_of,
    may_edit,
    may_manage_fields,
    may_see,
    visible_field,
    visible_fields,
)
from .values import (
    audit_values,
    clean_values,
    export_value,
    input_value,
    pickable_users,
    purge_removed,
    reader_display,
    related_record,
    search_text,
    unknown_field_message,
    values_for,
)

__all__ = [
    "OPERATORS",
    "SORTABLE_KINDS",
    "ChangeReader",
    "CustomKey",
    "Kind",
    "audit_values",
    "clean_values",
    "display",
    "editable_fields",
    "fields_of",
    "export_value",
    "filter_q",
    "input_value",
    "pickable_users",
    "related_record",
    "reader_display",
    "may_edit",
    "may_manage_fields",
    "may_see",
    "order_by",
    "purge_removed",
    "search_text",
    "unknown_field_message",
    "values_for",
    "visible_field",
    "visible_fields",
]
