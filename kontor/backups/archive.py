"""Backup archives: every table and every stored file of Kontor in one zip, and back.

An archive holds ``manifest.json``, one ``tables/<table>.jsonl`` per table and the
stored files under ``files/``. A table file has one JSON array per row, the columns in
the manifest's order, rows in primary-key order, values typed so that every database
reads them alike (datetimes in UTC ISO 8601, decimals as text, bytes in base64, JSON
as JSON with sorted keys). So the same data gives the same bytes on SQLite and on
PostgreSQL, and the manifest's SHA-256 of each table file checks a restore exactly: the
restored database is dumped again the same way and must give the same digests.

Tables are read through the models of the migration state the database is at (its
applied migrations), not the code's current models: an archive of a database that
waits for a migration still matches its columns, and a restore migrates the new
database to exactly that state before it loads rows.

A backup reads one snapshot while users write: a read-only REPEATABLE READ transaction on
PostgreSQL; on SQLite, SQLite's own backup API copies the database in one step to a
temporary file, which is then read (a long read transaction in the live file would make
the write-ahead log grow for as long as the backup runs).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import importlib.metadata
import json
import os
import sqlite3
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
from django.core.files.storage import Storage, storages
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.utils import timezone
from django.utils.duration import duration_string
from django.utils.translation import gettext as _

from kontor.core.errors import KontorError

FORMAT = 1
MANIFEST = "manifest.json"
TABLES_DIR = "tables/"
FILES_DIR = "files/"
BATCH_ROWS = 1000
CHUNK_BYTES = 1024 * 1024


class BackupError(KontorError):
    status_code = 422


@dataclass
class TableReport:
    table: str
    rows: int
    sha256: str


@dataclass
class RestoreReport:
    tables: list[TableReport] = field(default_factory=list)
    files: int = 0
    file_bytes: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


# -- connections to other databases (a snapshot copy, a drill's scratch database) --------


@contextmanager
def database(url: str) -> Iterator[str]:
    """A connection alias, in this thread, for the database at ``url`` while the block runs.

    Not added to the configured databases: it is this block's own connection."""
    alias = f"kontor_backup_{uuid.uuid4().hex[:12]}"
    settings = {**connections.settings, alias: dj_database_url.parse(url)}
    settings = connections.configure_settings(settings)[alias]
    connections[alias] = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


# -- the migration state and its models -------------------------------------------------


def applied_migrations(alias: str) -> dict[str, list[str]]:
    """The migrations applied to the database, by app, names sorted."""
    executor = MigrationExecutor(connections[alias])
    applied: dict[str, list[str]] = {}
    for app, name in executor.loader.applied_migrations:
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _targets(loader, migrations: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The last applied migration of each app: the one no other applied one follows."""
    targets = []
    for app, names in migrations.items():
        nodes = {(app, name) for name in names}
        unknown = [n for n in nodes if n not in loader.graph.nodes]
        if unknown:
            raise BackupError(
                _(
                    "The archive was made by a newer Kontor: migration %(migration)s is unknown "
                    "here. Install that version or a later one to restore it."
                )
                % {"migration": f"{unknown[0][0]}.{unknown[0][1]}"}
            )
        followed = {
            parent.key
            for node in nodes
            for parent in loader.graph.node_map[node].parents
            if parent.key in nodes
        }
        targets += sorted(nodes - followed)
    return targets


def _models_at(loader, targets) -> dict[str, type[models.Model]]:
    """The models of the migration state ``targets`` reach, by table name."""
    state_apps = loader.project_state(targets, at_end=True).apps
    return {
        model._meta.db_table: model
        for model in state_apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


# -- typed values ----------------------------------------------------------------------


def _encode(value):
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"no archive encoding for {type(value).__name__}")


def _decoder(model_field):
    """The function that turns an archived value back into the field's Python value."""
    if isinstance(model_field, models.JSONField):
        return lambda value: value
    target = model_field.target_field if model_field.is_relation else model_field
    return lambda value: None if value is None else target.to_python(value)


def _line(row) -> bytes:
    return (
        json.dumps(
            [_encode(v) for v in row], ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
        + "\n"
    ).encode()


def _columns(model) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def table_lines(model, alias: str) -> Iterator[bytes]:
    """The table's rows as archive lines, in primary-key order, a batch at a time."""
    names = [f.attname for f in _columns(model)]
    pk = model._meta.pk.attname
    rows = model._base_manager.using(alias).order_by(pk).values_list(*names)
    last = None
    while True:
        batch = list((rows if last is None else rows.filter(pk__gt=last))[:BATCH_ROWS])
        for row in batch:
            yield _line(row)
        if len(batch) < BATCH_ROWS:
            return
        last = batch[-1][names.index(pk)]


def _storage_files(storage: Storage, folder: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}{name}"
    for sub in sorted(folders):
        yield from _storage_files(storage, f"{folder}{sub}/")


def _copy_hashed(source, target) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return size, digest.hexdigest()


# -- backup ----------------------------------------------------------------------------


@contextmanager
def snapshot(alias: str = DEFAULT_DB_ALIAS) -> Iterator[str]:
    """An alias that reads one consistent state of the database ``alias`` names."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with tempfile.TemporaryDirectory(prefix="kontor-backup-") as folder:
            copy = Path(folder) / "snapshot.sqlite3"
            target = sqlite3.connect(copy)
            try:
                # pages=-1: the whole database in one step, so one state of it.
                connection.connection.backup(target, pages=-1)
            finally:
                target.close()
            with database(f"sqlite:///{copy}") as copy_alias:
                yield copy_alias
        return
    if connection.in_atomic_block:
        raise BackupError(_("A backup cannot run inside another transaction."))
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield alias


def kontor_version() -> str:
    try:
        return importlib.metadata.version("kontor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_backup(
    path: str | os.PathLike, *, alias: str = DEFAULT_DB_ALIAS, storage: Storage | None = None
) -> dict:
    """Write the archive of the database ``alias`` and of ``storage`` (the default
    storage) to ``path``; returns its manifest. Written beside ``path`` and moved into
    place when complete, so ``path`` never holds half an archive."""
    storage = storage or storages["default"]
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    vendor = connections[alias].vendor
    manifest = {
        "format": FORMAT,
        "kontor_version": kontor_version(),
        "created_at": timezone.now().isoformat(),
        "vendor": vendor,
    }
    try:
        with (
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
            snapshot(alias) as source,
        ):
            migrations = applied_migrations(source)
            loader = MigrationExecutor(connections[source]).loader
            tables = []
            for table, model in sorted(_models_at(loader, _targets(loader, migrations)).items()):
                digest, rows = hashlib.sha256(), 0
                with archive.open(f"{TABLES_DIR}{table}.jsonl", "w", force_zip64=True) as out:
                    for line in table_lines(model, source):
                        digest.update(line)
                        rows += 1
                        out.write(line)
                tables.append(
                    {
                        "table": table,
                        "model": model._meta.label,
                        "columns": [f.column for f in _columns(model)],
                        "rows": rows,
                        "sha256": digest.hexdigest(),
                    }
                )
            manifest["migrations"] = migrations
            manifest["tables"] = tables
            # Files after the rows: a file the snapshot's rows name was stored before them.
            files = []
            for name in _storage_files(storage):
                with (
                    storage.open(name, "rb") as source_file,
                    archive.open(f"{FILES_DIR}{name}", "w", force_zip64=True) as out,
                ):
                    size, digest = _copy_hashed(source_file, out)
                files.append({"name": name, "size": size, "sha256": digest})
            manifest["files"] = files
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


# -- restore ---------------------------------------------------------------------------


def read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError(_("This is not a Kontor backup: it has no readable manifest.")) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            _("This backup has format %(format)s, which this Kontor cannot read.")
            % {"format": manifest.get("format")}
        )
    return manifest


def _open_archive(path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(
            _("%(path)s is not a readable backup: %(error)s") % {"path": path, "error": exc}
        ) from exc


def verify_archive(archive: zipfile.ZipFile, manifest: dict) -> None:
    """Check every member against the manifest's digests before anything is written."""
    members = [(f"{TABLES_DIR}{t['table']}.jsonl", t["sha256"]) for t in manifest["tables"]]
    members += [(f"{FILES_DIR}{f['name']}", f["sha256"]) for f in manifest["files"]]
    for name, expected in members:
        try:
            with archive.open(name) as member:
                _size, digest = _copy_hashed(member, None)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _corrupt(name) from exc
        if digest != expected:
            raise _corrupt(name)


def _corrupt(name: str) -> BackupError:
    return BackupError(
        _("The backup is damaged: %(member)s does not match its checksum.") % {"member": name}
    )


def _rows_present(alias: str) -> str | None:
    """A table of the database that holds rows, or None if it holds none."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        for table in sorted(names):
            if table == "django_migrations" or table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 (table name quoted)
            if cursor.fetchone():
                return table
    return None


def _existing_files_conflict(storage: Storage, manifest: dict) -> str | None:
    for entry in manifest["files"]:
        if storage.exists(entry["name"]):
            return entry["name"]
    return None


def restore_backup(
    path: str | os.PathLike, *, alias: str = DEFAULT_DB_ALIAS, storage: Storage | None = None
) -> RestoreReport:
    """Rebuild the archive at ``path`` into the empty database ``alias`` and ``storage``
    (the default storage), then check every table and file against the manifest."""
    storage = storage or storages["default"]
    with _open_archive(path) as archive:
        manifest = read_manifest(archive)
        verify_archive(archive, manifest)
        table = _rows_present(alias)
        if table:
            raise BackupError(
                _(
                    "The database is not empty (table %(table)s has rows). A backup is "
                    "restored only into a new, empty database: create one and point "
                    "DATABASE_URL at it."
                )
                % {"table": table}
            )
        taken = _existing_files_conflict(storage, manifest)
        if taken:
            raise BackupError(
                _("The file storage already holds %(name)s: restore into an empty storage.")
                % {"name": taken}
            )
        connection = connections[alias]
        executor = MigrationExecutor(connection)
        targets = _targets(executor.loader, manifest["migrations"])
        executor.migrate(targets)
        models_by_table = _models_at(executor.loader, targets)
        _load_tables(archive, manifest, alias, models_by_table)
        for entry in manifest["files"]:
            with archive.open(f"{FILES_DIR}{entry['name']}") as member:
                stored = storage.save(entry["name"], member)
            if stored != entry["name"]:
                raise BackupError(
                    _("The file storage stored %(name)s as %(stored)s.")
                    % {"name": entry["name"], "stored": stored}
                )
    return verify_restored(manifest, alias, storage, models_by_table)


def _load_tables(archive, manifest, alias, models_by_table) -> None:
    connection = connections[alias]
    quote = connection.ops.quote_name
    plan = []
    for entry in manifest["tables"]:
        model = models_by_table.get(entry["table"])
        if model is None or [f.column for f in _columns(model)] != entry["columns"]:
            raise BackupError(
                _("The table %(table)s of the backup does not match its migration state.")
                % {"table": entry["table"]}
            )
        plan.append((entry, model))
    tables = [entry["table"] for entry, _model in plan]
    # Foreign keys checked once every table is loaded: rows come in key order, not in
    # the order they refer to each other (a department's parent may come later).
    with connection.constraint_checks_disabled(), transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            # Migrations' own rows (built-in roles, the default pipeline) make way for
            # the archive's, which hold them as the company left them.
            for statement in connection.ops.sql_flush(no_style(), tables, allow_cascade=True):
                cursor.execute(statement)
            for entry, model in plan:
                fields = _columns(model)
                decoders = [_decoder(f) for f in fields]
                placeholders = ", ".join(["%s"] * len(fields))
                sql = (
                    f"INSERT INTO {quote(entry['table'])} "  # noqa: S608 (names quoted)
                    f"({', '.join(quote(f.column) for f in fields)}) VALUES ({placeholders})"
                )
                batch = []
                with archive.open(f"{TABLES_DIR}{entry['table']}.jsonl") as member:
                    for raw in member:
                        values = json.loads(raw)
                        batch.append(
                            [
                                f.get_db_prep_save(decode(v), connection)
                                for f, decode, v in zip(fields, decoders, values, strict=True)
                            ]
                        )
                        if len(batch) == BATCH_ROWS:
                            cursor.executemany(sql, batch)
                            batch = []
                if batch:
                    cursor.executemany(sql, batch)
            connection.check_constraints(table_names=tables)
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [model for _entry, model in plan]
            ):
                cursor.execute(statement)


def verify_restored(manifest, alias, storage, models_by_table) -> RestoreReport:
    """Dump the restored tables and read the restored files again: every count and digest
    must be the manifest's."""
    report = RestoreReport()
    for entry in manifest["tables"]:
        digest, rows = hashlib.sha256(), 0
        for line in table_lines(models_by_table[entry["table"]], alias):
            digest.update(line)
            rows += 1
        if rows != entry["rows"] or digest.hexdigest() != entry["sha256"]:
            raise BackupError(
                _(
                    "The restored table %(table)s differs from the backup: %(rows)d rows "
                    "instead of %(expected)d, or other values."
                )
                % {"table": entry["table"], "rows": rows, "expected": entry["rows"]}
            )
        report.tables.append(TableReport(entry["table"], rows, entry["sha256"]))
    for entry in manifest["files"]:
        with storage.open(entry["name"], "rb") as stored:
            size, digest = _copy_hashed(stored, None)
        if (size, digest) != (entry["size"], entry["sha256"]):
            raise BackupError(
                _("The restored file %(name)s differs from the backup.") % {"name": entry["name"]}
            )
        report.files += 1
        report.file_bytes += size
    return report


def inspect(path) -> dict:
    """The manifest of the archive at ``path``, its members checked."""
    with _open_archive(path) as archive:
        manifest = read_manifest(archive)
        verify_archive(archive, manifest)
    return manifest
