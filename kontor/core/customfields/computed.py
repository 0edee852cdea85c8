"""Formula fields: custom fields whose value a formula (kontor.core.formulas) computes.

A formula field keeps its source (``CustomField.formula``) and the kind of its results
(``result_kind``, a value kind: decimal, money, text, date, boolean). Its result is
computed on every save of the record (``compute``: the single-record services and the
bulk path) and stored in ``custom`` under the field's id in that kind's stored form, so
filters, sorts and their indexes serve it as any field of that kind. What a formula
reads (``inputs``): the record's custom fields by API name (also as
``custom.<name>``), the columns and links its record type offers
(``RecordType.formula_columns``), and of each linked record its columns and custom
fields ("company.name"). Values come through ``kinds.to_python``.

Decided here (docs/architecture.md, "Formula fields"):
- a formula reads another formula field of its record only if no cycle forms (checked
  when saved); fields are computed in an order where each reads finished results;
- a formula reads a custom field with view roles only if it is itself restricted to
  readers of that field, so it never shows what they may not see; a linked record's
  restricted custom fields are never offered;
- a result the stored form refuses or an evaluation error stores empty; the detail page
  asks ``problem`` why;
- a change of a linked record, or of the date, reaches stored results at the record's
  next save or the nightly refresh (``refresh_daily``); a changed formula is computed for
  every record of its type in the background (``recompute_formulas``).
"""

from __future__ import annotations

import datetime
import decimal
import operator
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, formulas, types
from ..formulas import Formula, FormulaError
from . import kinds, registry
from .kinds import Kind

CUSTOM_PREFIX = "custom."
RECOMPUTE_CHUNK = 500
REFRESH_TIMER = "core.formulas.refresh"
REFRESH_EVENT = "core.formulas.refresh"
RECOMPUTE_HANDLER = "core.customfields.recompute_formulas"
# The hour (local time) the nightly refresh runs: after midnight, before the day starts.
REFRESH_HOUR = 1

# Column types formulas read, as the schema kinds they read as.
_COLUMN_KINDS = {
    "CharField": "text",
    "TextField": "text",
    "EmailField": "text",
    "URLField": "text",
    "SlugField": "text",
    "DateField": "date",
    "DateTimeField": "datetime",
    "DecimalField": "decimal",
    "IntegerField": "integer",
    "BigIntegerField": "integer",
    "SmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "PositiveSmallIntegerField": "integer",
    "PositiveBigIntegerField": "integer",
    "BooleanField": "boolean",
}


@dataclass(frozen=True)
class Input:
    """A name a formula may read: its schema kind, how it is read from a record, and
    the custom field of the record's own it is (None for columns and linked records)."""

    kind: str
    read: Callable
    field: object = None
    linked: bool = False


def _custom_reader(field) -> Callable:
    def read(obj):
        # ``field.key`` is read when a record is, never of a draft not saved yet (the
        # key is cached and would stay "None").
        return kinds.to_python(field, (obj.custom or {}).get(field.key))

    return read


def _column_reader(column: models.Field) -> Callable:
    get = operator.attrgetter(column.attname)
    if _COLUMN_KINDS[column.get_internal_type()] != "text":
        return get
    # A blank column is empty, as a custom text field without a value is.
    return lambda obj: get(obj) or None


def _linked_reader(link: str, read: Callable) -> Callable:
    def linked(obj):
        record = getattr(obj, link)
        return None if record is None else read(record)

    return linked


def _columns(rt) -> list[models.Field]:
    offered = rt.formula_columns
    found = []
    for column in rt.model._meta.concrete_fields:
        if column.primary_key or column.is_relation:
            continue
        if column.get_internal_type() not in _COLUMN_KINDS:
            continue
        if (offered is None and column.editable) or (offered and column.name in offered):
            found.append(column)
    return found


def _links(rt) -> list[tuple[str, object]]:
    offered = rt.formula_columns
    return [(name, target) for name, target in rt.links() if offered is None or name in offered]


def _readable(field) -> str | None:
    """The schema kind a formula reads a custom field as, or None if it cannot."""
    kind = field.value_kind
    if field.name in formulas.KEYWORDS or kind not in formulas.SCHEMA_KINDS:
        return None
    return kind


def _own_inputs(rt) -> dict[str, Input]:
    return {
        column.name: Input(_COLUMN_KINDS[column.get_internal_type()], _column_reader(column))
        for column in _columns(rt)
    }


def inputs(object_type: str, fields: list) -> dict[str, Input]:
    """Every name a formula of ``object_type`` may read, given the type's ``fields``."""
    rt = types.get(object_type)
    found: dict[str, Input] = {}
    if isinstance(rt, types.RecordType):
        found.update(_own_inputs(rt))
        for link, target in _links(rt):
            linked = _own_inputs(target)
            for field in registry.fields_of(target.object_type):
                kind = _readable(field)
                # Shared by every reader of the formula: a restricted field never is.
                if kind is not None and not field.view_roles:
                    linked[field.name] = Input(kind, _custom_reader(field))
            for name, entry in linked.items():
                found[f"{link}.{name}"] = Input(
                    entry.kind, _linked_reader(link, entry.read), linked=True
                )
    for field in fields:
        kind = _readable(field)
        if kind is None:
            continue
        entry = Input(kind, _custom_reader(field), field=field)
        found[f"{CUSTOM_PREFIX}{field.name}"] = entry
        found.setdefault(field.name, entry)  # a column of the same name keeps the bare name
    return found


def _reveals_nothing(reader, read) -> bool:
    """Whether everyone who sees ``reader`` (a formula field) also sees ``read``."""
    if not read.view_roles:
        return True
    if not reader.view_roles:
        return False
    seeing = set(read.view_roles) | set(read.edit_roles)
    return set(reader.view_roles) | set(reader.edit_roles) <= seeing


def schema_for(field, available: dict[str, Input]) -> dict[str, Input]:
    """What the formula field ``field`` may read of ``available``."""
    return {
        name: entry
        for name, entry in available.items()
        if entry.field is None
        or (entry.field.pk != field.pk and _reveals_nothing(field, entry.field))
    }


@dataclass
class Program:
    """One formula field of a type, compiled against its current definitions."""

    field: object
    formula: Formula | None
    error: FormulaError | None
    reads: tuple[tuple[str, Callable], ...] = ()
    reads_linked: bool = False

    @property
    def refreshed_daily(self) -> bool:
        return self.formula is not None and (self.formula.reads_today or self.reads_linked)


def _compile(field, available: dict[str, Input]) -> tuple[Formula, dict[str, Input]]:
    schema = schema_for(field, available)
    formula = formulas.compile(field.formula, {name: entry.kind for name, entry in schema.items()})
    return formula, {name: schema[name] for name in formula.names}


def _formula_reads(read: dict[str, Input]) -> set[str]:
    """The API names of the formula fields among what a formula reads."""
    return {
        e.field.name for e in read.values() if e.field is not None and e.field.kind == Kind.FORMULA
    }


def _programs(object_type: str, fields: list) -> list[Program]:
    """The type's formula fields compiled, in an order where each reads finished results
    (a field in a cycle, or one whose formula no longer compiles, gets an error)."""
    available = inputs(object_type, fields)
    compiled: dict[str, Program] = {}
    depends: dict[str, set[str]] = {}
    for field in fields:
        if field.kind != Kind.FORMULA:
            continue
        try:
            formula, read = _compile(field, available)
        except FormulaError as error:
            compiled[field.name] = Program(field, None, error)
            depends[field.name] = set()
            continue
        compiled[field.name] = Program(
            field,
            formula,
            None,
            tuple((name, entry.read) for name, entry in read.items()),
            any(entry.linked for entry in read.values()),
        )
        depends[field.name] = _formula_reads(read)
    ordered: list[Program] = []
    done: set[str] = set()
    while len(ordered) < len(compiled):
        ready = [n for n in compiled if n not in done and depends[n] <= done]
        if not ready:  # a cycle made before it was checked for: those fields stay empty
            for name in compiled.keys() - done:
                program = compiled[name]
                program.formula = None
                program.error = FormulaError(_("These formula fields read each other."), 0)
                ordered.append(program)
            break
        for name in ready:
            done.add(name)
            ordered.append(compiled[name])
    return ordered


def programs(object_type: str) -> list[Program]:
    """The type's formula fields, compiled once per definitions stamp."""
    return registry.derived(object_type, "formulas", lambda f: _programs(object_type, f))


# -- computing --------------------------------------------------------------------------


def _storable(field, result):
    """``result`` in the stored form of the field's result kind; ValidationError if that
    form cannot hold it (a number of more than 15 digits, text beyond a text field's)."""
    if isinstance(result, decimal.Decimal):
        whole = max(result.adjusted() + 1, 1)
        places = kinds.DECIMAL_DIGITS - whole
        if places < 0:
            raise ValidationError(_("The result has more than 15 digits before the point."))
        result = result.quantize(decimal.Decimal(1).scaleb(-places), decimal.ROUND_HALF_UP)
    return kinds.convert(field, result)


def _evaluate(program: Program, obj, today: datetime.date | None):
    values = {name: read(obj) for name, read in program.reads}
    result = program.formula.evaluate(values, today=today)
    return None if result is None else _storable(program.field, result)


def compute(obj, *, today: datetime.date | None = None) -> bool:
    """Store the results of the record's formula fields in ``obj.custom`` (not saved);
    whether any changed. An evaluation error stores empty (see ``problem``)."""
    object_type = obj._meta.label_lower
    if types.get(object_type) is None:
        return False
    found = programs(object_type)
    if not found:
        return False
    custom = dict(obj.custom or {})
    before = dict(custom)
    obj.custom = custom  # later formulas read the results of earlier ones from it
    for program in found:
        key = program.field.key
        value = None
        if program.formula is not None:
            try:
                value = _evaluate(program, obj, today)
            except (FormulaError, ValidationError):
                value = None
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    return custom != before


def problem(obj, field) -> str | None:
    """Why the formula field ``field`` holds no value for ``obj``: the error's message,
    or None when the formula's result is simply empty."""
    program = next((p for p in programs(field.object_type) if p.field.pk == field.pk), None)
    if program is None:
        return None
    if program.formula is None:
        return str(program.error)
    try:
        _evaluate(program, obj, None)
    except FormulaError as error:
        return str(error)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


# -- checking a definition --------------------------------------------------------------


def check(draft, fields: list) -> dict[str, list[str]]:
    """Errors of the formula field ``draft`` among the type's ``fields`` (``draft``
    replacing its saved self); sets ``draft.result_kind`` when it compiles."""
    others = [f for f in fields if f.pk is None or f.pk != draft.pk]
    available = inputs(draft.object_type, [*others, draft])
    if not draft.formula.strip():
        return {"formula": [_("Enter the formula.")]}
    try:
        formula, read = _compile(draft, available)
    except FormulaError as error:
        return {"formula": [str(error)]}
    draft.result_kind = kinds.FORMULA_RESULT_KINDS[formula.kind]
    # The others read the draft as of its new result kind.
    available = inputs(draft.object_type, [*others, draft])
    cycle = _cycle(draft, others, available, _formula_reads(read))
    if cycle:
        return {
            "formula": [
                _("Formula fields cannot read each other in a circle: %(cycle)s.")
                % {"cycle": " → ".join(cycle)}
            ]
        }
    return {}


def _cycle(draft, others: list, available: dict, draft_reads: set[str]) -> list[str]:
    """A path of formula fields from ``draft`` back to itself, or []."""
    reads = {draft.name: draft_reads}
    for field in others:
        if field.kind == Kind.FORMULA:
            try:
                reads[field.name] = _formula_reads(_compile(field, available)[1])
            except FormulaError:
                reads[field.name] = set()
    path: list[str] = [draft.name]

    def walk(name: str, seen: set[str]) -> bool:
        for following in sorted(reads.get(name, ())):
            path.append(following)
            if following == draft.name:
                return True
            if following not in seen:
                seen.add(following)
                if walk(following, seen):
                    return True
            path.pop()
        return False

    return path if walk(draft.name, set()) else []


def broken_by(object_type: str, fields: list, changed, *, removed: bool = False) -> list[str]:
    """The formulas of the type that ``changed`` (a field's new definition, or the field
    removed) would stop compiling: "Label: error" for each."""
    after = [f for f in fields if f.pk != changed.pk] + ([] if removed else [changed])
    available_before, available_after = inputs(object_type, fields), inputs(object_type, after)
    broken = []
    for field in after:
        if field.kind != Kind.FORMULA or field.pk == changed.pk:
            continue
        try:
            _compile(field, available_before)
        except FormulaError:
            continue  # broken already: not by this change
        try:
            _compile(field, available_after)
        except FormulaError as error:
            broken.append(f"{field.label}: {error}")
    return broken


# -- computing every record of a type ----------------------------------------------------


def recompute_type(object_type: str) -> int:
    """Compute the formula fields of every record of ``object_type``, RECOMPUTE_CHUNK
    records a transaction, writing only the records whose results changed (their
    ``custom`` alone: no version, audit row or event, as for a search document);
    records changed."""
    from .services import record_model

    model = record_model(object_type)
    if model is None or not programs(object_type):
        return 0
    links = [name for name, _target in _links(types.get(object_type))]
    changed, last = 0, 0
    today = timezone.localdate()
    while True:
        with transaction.atomic():
            # Locked while computed: a concurrent save waits, so its fresher result stands.
            chunk = list(
                model._base_manager.select_for_update(of=("self",))
                .select_related(*links)
                .filter(pk__gt=last)
                .order_by("pk")[:RECOMPUTE_CHUNK]
            )
            if not chunk:
                return changed
            for obj in chunk:
                if compute(obj, today=today):
                    model._base_manager.filter(pk=obj.pk).update(custom=obj.custom)
                    changed += 1
            last = chunk[-1].pk


def recompute_formulas(event) -> None:
    """The handler of custom field events and of the nightly refresh: every record of
    the type computed again when a formula field was added or its formula changed."""
    from ..models import CustomField

    payload = event.payload
    if event.type != REFRESH_EVENT:
        if "formula" not in (payload.get("changes") or {}) or event.type.endswith(".deleted"):
            return
        # Removed since, or not a formula (a kind never becomes one): nothing to compute.
        if not CustomField.objects.filter(pk=payload["field_id"], kind=Kind.FORMULA).exists():
            return
    types.refresh()  # a custom type defined since this worker started
    if types.get(payload["object_type"]) is None:
        raise LookupError(f"Unknown object type {payload['object_type']!r}.")
    recompute_type(payload["object_type"])


def next_refresh(after: datetime.datetime | None = None) -> datetime.datetime:
    """The nightly refresh's next moment: REFRESH_HOUR local time after ``after`` (now)."""
    after = timezone.localtime(after or timezone.now())
    moment = timezone.make_aware(
        datetime.datetime.combine(after.date(), datetime.time(REFRESH_HOUR))
    )
    return moment if moment > after else moment + datetime.timedelta(days=1)


def refresh_daily(timer) -> datetime.datetime:
    """The nightly timer: a refresh event per type with a formula that reads today's date
    or a linked record (their events compute in the background, chunk by chunk)."""
    for rt in types.record_types():
        if any(p.refreshed_daily for p in programs(rt.object_type)):
            events.emit(REFRESH_EVENT, object_type=rt.object_type)
    return next_refresh()
