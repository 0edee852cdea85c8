"""Backup and restore (kontor.backups): round trips between SQLite and PostgreSQL, a backup
while 50 threads write, a non-empty target refused, a damaged archive caught."""

import json
import subprocess
import sys
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.db.models import Max

from kontor.backups import archive
from kontor.contacts.models import Company, Tag
from kontor.core import files
from kontor.core.access import SYSTEM
from kontor.core.errors import KontorError
from kontor.demo import load_demo

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("migrations_rows_left_behind")


@contextmanager
def second_database(tmp_path):
    """A new, empty database beside the test's: on the same PostgreSQL server when the
    suite runs on PostgreSQL, else a SQLite file."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}"
        return
    name = f"kontor_backup_{uuid.uuid4().hex[:12]}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    try:
        yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name != archive.MANIFEST}


def _restore_and_back_up(source: Path, url: str, target: Path, storage_dir: Path) -> dict:
    storage = FileSystemStorage(location=storage_dir)
    with archive.database(url) as alias:
        report = archive.restore_backup(source, alias=alias, storage=storage)
        manifest = archive.write_backup(target, alias=alias, storage=storage)
        # Keys go on after the restored ones (PostgreSQL's sequences were reset).
        restored_max = Tag.objects.using(alias).aggregate(Max("pk"))["pk__max"]
        assert Tag.objects.using(alias).create(name="After the restore").pk > restored_max
    assert report.rows == sum(t["rows"] for t in manifest["tables"])
    return manifest


@pytest.mark.django_db(transaction=True)
def test_round_trip_through_sqlite_and_postgresql_keeps_every_row_and_file_byte_identical(
    tmp_path, media
):
    load_demo(companies=12, people=25, deals=30)
    company = Company.objects.order_by("pk").first()
    payloads = {
        "contract.pdf": bytes(range(256)) * 40,
        "Договор.txt": "Привет, B. Company\n".encode(),
    }
    for name, content in payloads.items():
        files.add_attachment(company, ContentFile(content, name=name), actor=SYSTEM)

    original = archive.write_backup(tmp_path / "original.zip")
    stored = {f["name"]: (media / f["name"]).read_bytes() for f in original["files"]}
    assert sorted(stored.values()) == sorted(payloads.values())
    assert {t["table"] for t in original["tables"]} >= {
        "contacts_company_tags",  # an auto-created many-to-many table
        "core_attachment",
        "sales_deal",
    }
    # SQLite, then the suite's own vendor (PostgreSQL in its step), then SQLite again.
    hops = [
        f"sqlite:///{tmp_path / 'first.sqlite3'}",
        None,
        f"sqlite:///{tmp_path / 'last.sqlite3'}",
    ]
    source, manifests = tmp_path / "original.zip", []
    with second_database(tmp_path) as middle:
        for n, url in enumerate(hops):
            target = tmp_path / f"hop{n}.zip"
            manifests.append(
                _restore_and_back_up(source, url or middle, target, tmp_path / f"files{n}")
            )
            source = target
    vendors = [m["vendor"] for m in manifests]
    assert vendors == ["sqlite", connection.vendor, "sqlite"]
    expected = _members(tmp_path / "original.zip")
    assert any(name.startswith(archive.FILES_DIR) for name in expected)
    for n, manifest in enumerate(manifests):
        assert manifest["tables"] == original["tables"]
        assert manifest["files"] == original["files"]
        assert manifest["migrations"] == original["migrations"]
        assert _members(tmp_path / f"hop{n}.zip") == expected
        for name, content in stored.items():
            assert (tmp_path / f"files{n}" / name).read_bytes() == content
    rows = {t["table"]: t["rows"] for t in original["tables"]}
    assert rows["contacts_company"] == 12 and rows["sales_deal"] == 30
    assert rows["core_attachment"] == 2


def test_backup_during_50_concurrent_writers_restores_consistently(tmp_path, db):
    with second_database(tmp_path) as url:
        result = subprocess.run(
            [sys.executable, "-m", "tests.backups.concurrent_writes", url, str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["errors"] == []
    assert summary["written"] == 50 * 10
    # Taken while the writers wrote: some of their companies are in it, not all.
    assert 0 < summary["manifest_companies"] < summary["written"]
    assert summary["restored_tables"] == summary["manifest_tables"]
    # No half write: each company in the backup came with its audit entry and its search
    # document, which the same transaction wrote.
    restored = summary["restored"]
    assert restored["companies"] == summary["manifest_companies"]
    assert restored["audited"] == restored["companies"] == restored["indexed"]


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_with_data(tmp_path, media, org):
    archive.write_backup(tmp_path / "backup.zip")
    before = Company.objects.count(), connection.vendor
    with pytest.raises(KontorError, match="not empty"):
        archive.restore_backup(tmp_path / "backup.zip")
    assert (Company.objects.count(), connection.vendor) == before


@pytest.mark.django_db(transaction=True)
def test_damaged_archive_is_caught_by_its_checksum_before_anything_is_written(tmp_path, media, org):
    archive.write_backup(tmp_path / "backup.zip")
    member = f"{archive.TABLES_DIR}accounts_user.jsonl"

    def damage(name, content):
        return content.replace(b"example.com", b"examp1e.com", 1) if name == member else content

    damaged = _rewritten(tmp_path / "backup.zip", tmp_path / "damaged.zip", damage)
    empty = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    with archive.database(empty) as alias:
        with pytest.raises(KontorError, match=f"{member} does not match its checksum"):
            archive.restore_backup(damaged, alias=alias, storage=FileSystemStorage(tmp_path / "f"))
        assert connection.introspection.table_names() and not _tables(alias)


def _tables(alias):
    from django.db import connections

    with connections[alias].cursor() as cursor:
        return connections[alias].introspection.table_names(cursor)


def _rewritten(source: Path, target: Path, change) -> Path:
    """A copy of the archive ``source`` with each member's bytes passed through ``change``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            out.writestr(info, change(info.filename, original.read(info)))
    return target


@pytest.mark.django_db(transaction=True)
def test_an_archive_of_a_newer_kontor_is_refused_before_anything_is_written(tmp_path, media, org):
    archive.write_backup(tmp_path / "backup.zip")

    def future(name, content):
        if name != archive.MANIFEST:
            return content
        manifest = json.loads(content)
        manifest["migrations"]["contacts"].append("9999_from_the_future")
        return json.dumps(manifest).encode()

    newer = _rewritten(tmp_path / "backup.zip", tmp_path / "newer.zip", future)
    with archive.database(f"sqlite:///{tmp_path / 'target.sqlite3'}") as alias:
        with pytest.raises(KontorError, match="contacts.9999_from_the_future is unknown"):
            archive.restore_backup(newer, alias=alias, storage=FileSystemStorage(tmp_path / "f"))
        assert not _tables(alias)
