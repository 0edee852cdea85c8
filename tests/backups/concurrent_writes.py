"""Run by tests/backups/test_backups.py in a process of its own, on a database of its own
(a SQLite file in WAL mode, as installed, or a PostgreSQL database): 50 threads create
companies through the services while a backup runs; the backup is then restored into a
new SQLite file. Prints a JSON summary for the test to check.

    python -m tests.backups.concurrent_writes DATABASE_URL FOLDER
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

WRITERS = 50
COMPANIES_EACH = 10
# The backup starts once this many companies are in: in the middle of the writes.
START_AFTER = 60


def main(url: str, folder: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["KONTOR_VAR_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kontor.backups import archive
    from kontor.contacts import services
    from kontor.contacts.models import Company
    from kontor.core.access import SYSTEM
    from kontor.core.context import Channel, acting
    from kontor.core.models import AuditEntry, SearchDocument

    call_command("migrate", interactive=False, verbosity=0)
    started = threading.Barrier(WRITERS + 1)
    errors = []

    def write(writer: int) -> None:
        started.wait()
        try:
            with acting(Channel.SYSTEM):
                for n in range(COMPANIES_EACH):
                    services.create_company({"name": f"Writer {writer} company {n}"}, actor=SYSTEM)
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    started.wait()
    while Company.objects.count() < START_AFTER:
        time.sleep(0.01)
    manifest = archive.write_backup(Path(folder) / "during.zip")
    for thread in threads:
        thread.join()
    counts = {t["table"]: t["rows"] for t in manifest["tables"]}
    with archive.database(f"sqlite:///{Path(folder) / 'restored.sqlite3'}") as alias:
        report = archive.restore_backup(
            Path(folder) / "during.zip", alias=alias, storage=_empty_storage(folder)
        )
        restored = {
            "companies": Company.objects.using(alias).count(),
            "audited": AuditEntry.objects.using(alias)
            .filter(object_type="contacts.company")
            .values("object_id")
            .distinct()
            .count(),
            "indexed": SearchDocument.objects.using(alias)
            .filter(object_type="contacts.company")
            .count(),
        }
    print(
        json.dumps(
            {
                "errors": errors,
                "written": Company.objects.count(),
                "manifest_companies": counts["contacts_company"],
                "restored_tables": {t.table: t.rows for t in report.tables},
                "manifest_tables": counts,
                "restored": restored,
            }
        )
    )


def _empty_storage(folder):
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=Path(folder) / "restored-files")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
