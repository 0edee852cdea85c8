"""An import: a table's rows, through a mapping, into records of one registered type.

``run_import(table, mapping, record_type, actor=..., options=...)`` reads the rows a
batch at a time and for each row: converts its cells (``mapping.Mapping``), refuses a
row that repeats an earlier row's match key (email, phone, tax id, an external id),
looks for an existing record with the same key among those the actor may see, and then,
as the options say, skips it, fills its empty fields, overwrites them, or creates a new
record anyway. Records of linked types named on the row (a person's company, a deal's
client, the records a task is about) are found by their type's ``import_lookups``, and
a company not found is created. New records go through the engine's bulk path
(``core.bulk.import_rows``: the single path's validation, permission per row, audit,
events), updates through the type's own update service.

A dry run (the preview) does all of it inside a transaction that is rolled back: its
counts and errors are what the import would do, every check included, and nothing
stays.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import bulk, search
from kontor.core.access import Action, may
from kontor.core.audit import json_safe
from kontor.core.context import Channel, acting, current
from kontor.core.customfields import registry as custom_registry
from kontor.core.customfields.kinds import is_empty
from kontor.core.customfields.queries import CustomKey
from kontor.core.customfields.values import values_for
from kontor.core.errors import KontorError, PermissionDenied
from kontor.core.phones import to_e164

from .mapping import Mapping, Shape
from .reading import Table, cell_text


class OnMatch:
    """What to do with a row whose match key an existing record has."""

    SKIP = "skip"
    FILL = "fill"  # set only the record's empty fields
    OVERWRITE = "overwrite"
    CREATE = "create"  # a new record anyway

    ALL = (SKIP, FILL, OVERWRITE, CREATE)


# Match keys beside a mapped field's own value (an external id, a tax id): a contact
# point list of the record, compared in its normalized column.
EMAIL, PHONE = "email", "phone"
_CONTACT_POINTS = {EMAIL: ("emails", "normalized"), PHONE: ("phones", "e164")}

# Rows per transaction: a batch's fixed work (its lookups, the job's bookkeeping, the
# commit) spread over more rows, against the time SQLite's write lock is held (about a
# second) and the memory a batch takes (docs/benchmarks.md).
DEFAULT_BATCH_SIZE = 5000


@dataclass
class Options:
    match_on: tuple[str, ...] = ()  # EMAIL, PHONE, or target keys ("tax_id", "custom.ext_id")
    on_match: str = OnMatch.SKIP
    create_links: bool = True  # a linked record named on a row but not found is created
    batch_size: int = DEFAULT_BATCH_SIZE


@dataclass(frozen=True)
class Problem:
    """Why a row was not imported: its line in the file, the column (header) or ""."""

    line: int
    column: str
    message: str


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    linked_created: int = 0  # records of linked types created (a person's companies)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False


def key_digest(key: str, value: str) -> str:
    """A match key's value as the duplicate check keeps it: fixed in size, whatever the
    value's length."""
    return hashlib.blake2b(f"{key}\x1f{value}".encode(), digest_size=16).hexdigest()


class KeyBook:
    """The match keys an import's rows had first, by digest: the line that had each.

    In memory, for a dry run; a recorded job keeps them in the database instead
    (``jobs.JobKeys``), written with each batch, so that the book needs no memory per
    row and a resumed run knows the rows written before it.
    """

    def __init__(self):
        self.lines: dict[str, int] = {}

    def known(self, digests: set[str]) -> dict[str, int]:
        """The first lines of those of ``digests`` earlier batches had."""
        return {d: self.lines[d] for d in digests if d in self.lines}

    def add(self, lines: dict[str, int]) -> None:
        """Keys first seen in this batch."""
        self.lines.update(lines)


def summary(outcome: Outcome) -> str:
    """One line saying where an import stands (the CLI's progress, the job's result)."""
    return _(
        "%(rows)d rows read: %(created)d new, %(updated)d updated, %(skipped)d skipped, "
        "%(failed)d with errors"
    ) % {
        "rows": outcome.rows,
        "created": outcome.created,
        "updated": outcome.updated,
        "skipped": outcome.skipped,
        "failed": outcome.failed,
    }


# The last column of the error rows' file.
ERROR_COLUMN = gettext_lazy("Error")


def write_error_rows(table: Table, problems: Iterable[Problem], out) -> int:
    """The rows that were not imported, as they were, each with its errors in a last
    column (``out``: a text file): to correct and import again. Reads ``table`` (opened
    anew) once; answers how many rows it wrote."""
    by_line: dict[int, list[str]] = {}
    for problem in problems:
        text = f"{problem.column}: {problem.message}" if problem.column else problem.message
        by_line.setdefault(problem.line, []).append(text)
    writer = csv.writer(out)
    writer.writerow([*table.headers, str(ERROR_COLUMN)])
    written = 0
    for line, cells in table.rows:
        if line in by_line:
            padded = [cell_text(c) for c in cells] + [""] * (len(table.headers) - len(cells))
            writer.writerow([*padded, "; ".join(by_line[line])])
            written += 1
    return written


def match_keys(record_type, mapping: Mapping) -> list[str]:
    """What rows of this mapping can be matched on: email and phone when the type keeps
    them and a column gives them, and each mapped single value (tax id, external id)."""
    model = record_type.model
    mapped = {t.field for t in mapping.columns.values()}
    keys = [
        key
        for key, (relation, _column) in _CONTACT_POINTS.items()
        if relation in mapped and hasattr(model, relation)
    ]
    keys += [t.key for t in mapping.columns.values() if t.shape in (Shape.SCALAR, Shape.CUSTOM)]
    return keys


def _key_values(key: str, mapping: Mapping, data: dict) -> list[str]:
    """The row's values of a match key, normalized as the database keeps them."""
    if key == EMAIL:
        return [e["address"].strip().lower() for e in data.get("emails", [])]
    if key == PHONE:
        return [p for p in (to_e164(e["number"]) for e in data.get("phones", [])) if p]
    target = next(t for t in mapping.columns.values() if t.key == key)
    value = data.get("custom", {}).get(target.part) if target.shape == Shape.CUSTOM else None
    if target.shape == Shape.SCALAR:
        value = data.get(target.field)
    return [] if value in (None, "") else [str(value).strip()]


def _column_of(key: str, mapping: Mapping) -> int | None:
    field_name = _CONTACT_POINTS[key][0] if key in _CONTACT_POINTS else key
    columns = mapping.columns_of(field_name) or [
        i for i, t in mapping.columns.items() if t.key == key
    ]
    return columns[0] if columns else None


def _existing(record_type, actor, key: str, mapping: Mapping, values: set[str]) -> dict[str, int]:
    """Match key value -> id of a record the actor may see that has it."""
    if not values:
        return {}
    visible = record_type.visible(actor)
    if key in _CONTACT_POINTS:
        relation, column = _CONTACT_POINTS[key]
        lookup = f"{relation}__{column}"
        found = visible.filter(search._among(lookup, sorted(values))).values_list(lookup, "pk")
    else:
        target = next(t for t in mapping.columns.values() if t.key == key)
        if target.shape == Shape.CUSTOM:
            custom = custom_registry.visible_field(actor, record_type.object_type, target.part)
            found = (
                visible.annotate(import_key=CustomKey(custom))
                .filter(import_key__in=values)
                .values_list("import_key", "pk")
            )
        else:
            found = visible.filter(**{f"{target.field}__in": values}).values_list(
                target.field, "pk"
            )
    matches: dict[str, int] = {}
    for value, pk in found.order_by("pk"):
        matches.setdefault(str(value), pk)
    return matches


@dataclass(eq=False)
class _Row:
    line: int
    cells: list
    data: dict
    links: dict
    match: int | None = None  # an existing record's id


@dataclass
class BatchDone:
    """What one batch wrote: passed to ``run_import``'s ``record`` inside the batch's
    transaction, so that what an import records of itself commits with its records."""

    last_line: int
    created: list[tuple[str, list[int]]] = field(default_factory=list)  # (type, ids)
    updated: list[tuple[str, int, dict]] = field(default_factory=list)  # (type, id, before)


def run_import(
    table: Table,
    mapping: Mapping,
    record_type,
    *,
    actor,
    options: Options | None = None,
    dry_run: bool = False,
    progress: Callable[[Outcome], None] | None = None,
    record: Callable[[Outcome, BatchDone], None] | None = None,
    keys: KeyBook | None = None,
    resume: Outcome | None = None,
    after_line: int = 0,
) -> Outcome:
    """Import ``table``'s rows a batch per transaction; ``record(outcome, done)`` runs
    in each batch's transaction, ``progress(outcome)`` after it. A dry run tells what an
    import would do: every batch in one transaction, rolled back.

    With ``record`` the batch's problems are the recorder's to keep: they are dropped
    from the outcome after it. A run resumed after ``after_line`` goes on from the
    counts in ``resume``, with the ``keys`` the rows before it had.
    """
    options = options or Options()
    if not may(actor, record_type.object_type, Action.CREATE):
        raise PermissionDenied()
    outcome = resume or Outcome()
    outcome.dry_run = dry_run
    importer = _Run(record_type, mapping, table.headers, actor, options, outcome, keys)
    rows = ((line, cells) for line, cells in nonblank(table.rows) if line > after_line)
    # Updates too are the import channel's (creations are, in the bulk path).
    # The collector as in the bulk path: a batch's rows are hundreds of thousands of
    # objects too, read, converted and matched before the bulk path sees them.
    with (
        acting(Channel.IMPORT, current().request_id or None),
        bulk.fewer_collections(),
        transaction.atomic() if dry_run else nullcontext(),
    ):
        for batch in _batches(rows, options.batch_size):
            with transaction.atomic():
                done = importer.batch(batch)
                if record:
                    record(outcome, done)
            if record:
                outcome.problems.clear()
            if progress:
                progress(outcome)
        if dry_run:
            transaction.set_rollback(True)
    return outcome


def nonblank(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    return ((line, cells) for line, cells in rows if any(str(c).strip() for c in cells if c))


def _batches(rows, size: int):
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class _Run:
    def __init__(self, record_type, mapping, headers, actor, options, outcome, keys):
        self.record_type = record_type
        self.mapping = mapping
        self.headers = headers
        self.actor = actor
        self.options = options
        self.outcome = outcome
        known = match_keys(record_type, mapping)
        unknown = [key for key in options.match_on if key not in known]
        if unknown:
            raise KontorError(_("Cannot match on: %(keys)s.") % {"keys": ", ".join(unknown)})
        if options.on_match not in OnMatch.ALL:
            raise KontorError(_("Unknown choice: %(value)s.") % {"value": options.on_match})
        # Match key value -> the line that had it first: a later row is a duplicate.
        self.keys = keys or KeyBook()
        # Linked records found or created so far, by (link group, lookup, value).
        self.linked: dict[tuple[str, str, str], int] = {}

    def fail(self, line: int, column: int | None, message: str) -> None:
        header = ""
        if column is not None:
            target = self.mapping.columns.get(column)
            header = self.headers[column] if column < len(self.headers) else ""
            header = header or (target.label if target else "")
        self.outcome.problems.append(Problem(line, header, str(message)))

    def batch(self, batch: list[tuple[int, list]]) -> BatchDone:
        self.done = BatchDone(last_line=batch[-1][0])
        converted = []
        for line, cells in batch:
            self.outcome.rows += 1
            data, links, errors = self.mapping.convert(cells)
            for column, message in errors.items():
                self.fail(line, column, message)
            if errors:
                self.outcome.failed += 1
                continue
            converted.append(_Row(line, cells, data, links))
        rows = self._first_of_their_keys(converted)
        self._match(rows)
        if not self.options.create_links or not any(row.links for row in rows):
            self._write(rows)
            return self.done
        # A linked record (a company) is created for rows not yet validated: if a row
        # that has links fails, write the batch again without it, so that no company is
        # left behind for a person who was not imported.
        before = self._state()
        savepoint = transaction.savepoint()
        self._write(rows)
        failed = {p.line for p in self.outcome.problems[before["problems"] :]}
        if not any(row.links and row.line in failed for row in rows):
            transaction.savepoint_commit(savepoint)
            return self.done
        transaction.savepoint_rollback(savepoint)
        problems = self.outcome.problems[before["problems"] :]
        self._restore(before)
        self.outcome.problems += problems
        self.outcome.failed += len(failed)
        self._write([row for row in rows if row.line not in failed])
        return self.done

    def _state(self) -> dict:
        """What a batch's writing changes in memory, to start it again."""
        counts = {n: getattr(self.outcome, n) for n in ("created", "updated", "skipped", "failed",
                                                         "linked_created")}  # fmt: skip
        return {
            "counts": counts,
            "problems": len(self.outcome.problems),
            "linked": dict(self.linked),
            "done": BatchDone(
                self.done.last_line, list(self.done.created), list(self.done.updated)
            ),
        }

    def _restore(self, state: dict) -> None:
        for name, value in state["counts"].items():
            setattr(self.outcome, name, value)
        del self.outcome.problems[state["problems"] :]
        self.linked, self.done = state["linked"], state["done"]

    def _write(self, rows: list[_Row]) -> None:
        """Link, update and create the batch's rows."""
        rows = self._link(rows)
        new, matched = [], []
        for row in rows:
            creates = row.match is None or self.options.on_match == OnMatch.CREATE
            (new if creates else matched).append(row)
        if self.options.on_match == OnMatch.SKIP:
            self.outcome.skipped += len(matched)
        else:
            for row in matched:
                self._update(row)
        self._create(new)

    def _first_of_their_keys(self, rows: list[_Row]) -> list[_Row]:
        """The rows that repeat no earlier row's match key; each other one fails with
        the cell's error. Rows are taken in order, a row's keys one after the other up
        to the first repeated one."""
        values = {
            row: [(key, value, key_digest(key, value)) for key in self.options.match_on
                  for value in _key_values(key, self.mapping, row.data)]
            for row in rows
        }  # fmt: skip
        first_lines = self.keys.known({digest for vs in values.values() for *_kv, digest in vs})
        new: dict[str, int] = {}
        kept = []
        for row, row_values in values.items():
            for key, value, digest in row_values:
                first = first_lines.setdefault(digest, row.line)
                if first == row.line:
                    new[digest] = row.line
                    continue
                self.fail(
                    row.line,
                    _column_of(key, self.mapping),
                    _("Duplicate of line %(line)d (%(value)s).") % {"line": first, "value": value},
                )
                self.outcome.failed += 1
                break
            else:
                kept.append(row)
        self.keys.add(new)
        return kept

    def _match(self, rows: list[_Row]) -> None:
        for key in self.options.match_on:
            unmatched = [row for row in rows if row.match is None]
            values = {row: _key_values(key, self.mapping, row.data) for row in unmatched}
            found = _existing(
                self.record_type,
                self.actor,
                key,
                self.mapping,
                {v for vs in values.values() for v in vs},
            )
            for row, row_values in values.items():
                row.match = next((found[v] for v in row_values if v in found), None)

    def _link(self, rows: list[_Row]) -> list[_Row]:
        """Set each row's linked records (a person's company, a deal's client, the
        records a task is about: found by their type's ``import_lookups``, or created);
        answers the rows still to import."""
        groups = {
            t.link_group: t
            for t in self.mapping.columns.values()
            if t.shape in (Shape.LINK, Shape.SUBJECT)
        }
        for group, target in groups.items():
            self._find_linked(rows, group, target.linked_type)
        kept = []
        for row in rows:
            # Set anew on each write: a batch written again has its companies anew.
            subjects: dict[str, list] = {}
            for group, lookups in row.links.items():
                target = groups[group]
                pk = self._linked_id(group, lookups, target.linked_type)
                if pk is None:
                    column = [i for i, t in self.mapping.columns.items() if t.link_group == group]
                    self.fail(row.line, column[0], str(target.linked_type.unknown_text))
                    self.outcome.failed += 1
                    break
                if target.shape == Shape.SUBJECT:
                    subject = {"type": target.linked_type.name, "id": pk}
                    subjects.setdefault(target.field, []).append(subject)
                else:
                    row.data[target.field] = pk
            else:
                row.data.update(subjects)
                kept.append(row)
        return kept

    def _linked_id(self, group: str, lookups: dict, linked_type) -> int | None:
        for lookup in linked_type.import_lookups:
            value = lookups.get(lookup.key)
            key = (group, lookup.key, lookup.normalize(value).casefold()) if value else None
            if key in self.linked:
                return self.linked[key]
        return None

    def _find_linked(self, rows: list[_Row], group: str, linked_type) -> None:
        wanted = [row.links[group] for row in rows if group in row.links]
        visible = linked_type.visible(self.actor)
        for lookup in linked_type.import_lookups:
            values = {lookup.normalize(w[lookup.key]) for w in wanted if w.get(lookup.key)}
            values = {v for v in values if (group, lookup.key, v.casefold()) not in self.linked}
            if not values:
                continue
            for pk, value in lookup.find(visible, values):
                self.linked.setdefault((group, lookup.key, value.casefold()), pk)
        creating = next((lookup for lookup in linked_type.import_lookups if lookup.creates), None)
        if (
            creating is None
            or not self.options.create_links
            or not may(self.actor, linked_type.object_type, Action.CREATE)
        ):
            return
        missing: dict[str, dict] = {}
        for lookups in wanted:
            if self._linked_id(group, lookups, linked_type) is None and lookups.get(creating.key):
                missing.setdefault(creating.normalize(lookups[creating.key]).casefold(), lookups)
        if not missing:
            return
        result = bulk.import_rows(linked_type, list(missing.values()), actor=self.actor)
        self.done.created.append((linked_type.object_type, result.ids))
        created = iter(result.ids)
        refused = {error.row for error in result.errors}
        for number, lookups in enumerate(missing.values(), start=1):
            if number in refused:
                continue
            pk = next(created)
            self.outcome.linked_created += 1
            for lookup in linked_type.import_lookups:
                if lookups.get(lookup.key):
                    key = (group, lookup.key, lookup.normalize(lookups[lookup.key]).casefold())
                    self.linked[key] = pk

    def _create(self, rows: list[_Row]) -> None:
        if not rows:
            return
        result = bulk.import_rows(self.record_type, [row.data for row in rows], actor=self.actor)
        self.outcome.created += result.created
        self.done.created.append((self.record_type.object_type, result.ids))
        failed_rows = set()
        for error in result.errors:
            row = rows[error.row - 1]
            failed_rows.add(error.row)
            columns = self.mapping.columns_of(error.field)
            self.fail(row.line, columns[0] if columns else None, error.message)
        self.outcome.failed += len(failed_rows)

    def _update(self, row: _Row) -> None:
        """The matched record, its empty fields filled or every mapped one overwritten,
        through the type's update service; refused changes are the row's errors."""
        try:
            obj = self.record_type.api_one(self.actor, row.match)
            current = {**self.record_type.to_out(obj), "custom": values_for(self.actor, obj)}
            changes = _changes(row.data, current, self.options.on_match == OnMatch.OVERWRITE)
            if not changes:
                self.outcome.skipped += 1
                return
            with transaction.atomic():
                self.record_type.update(obj, changes, actor=self.actor)
            self.done.updated.append(
                (self.record_type.object_type, obj.pk, _previous(changes, current))
            )
        except KontorError as exc:
            self.outcome.failed += 1
            if not exc.errors:
                self.fail(row.line, None, exc.message)
            for name, messages in exc.errors.items():
                columns = self.mapping.columns_of(name)
                for message in messages:
                    self.fail(row.line, columns[0] if columns else None, message)
            return
        self.outcome.updated += 1


def _changes(data: dict, current: dict, overwrite: bool) -> dict:
    """What of ``data`` an update sets: every single value (overwrite), or those the
    record has empty (a blank text, an unset custom value). A list (phones, emails,
    addresses, tags) is set only where the record has none: an import adds a client's
    phones, it never drops the ones someone typed, and undo restores an empty list."""
    changes = {}
    for key, value in data.items():
        if key == "custom":
            custom = {
                name: v
                for name, v in value.items()
                if overwrite or is_empty(current.get("custom", {}).get(name))
            }
            if custom:
                changes["custom"] = custom
            continue
        existing = current.get(key, current.get(key.removesuffix("_id")))
        if existing in (None, "", [], {}) or (overwrite and not isinstance(value, list)):
            changes[key] = value
    return changes


def _previous(changes: dict, current: dict) -> dict:
    """The values an update replaced, as the update service takes them back."""
    previous = {}
    for key, value in changes.items():
        if key == "custom":
            previous["custom"] = {name: current["custom"].get(name) for name in value}
        elif isinstance(value, list):
            previous[key] = []  # a list is only ever set where there was none
        elif key not in current and key.endswith("_id"):
            linked = current.get(key.removesuffix("_id"))
            previous[key] = linked.get("id") if isinstance(linked, dict) else None
        else:
            previous[key] = json_safe(current.get(key))
    return previous
