"""Scheduled backups with retention, the restore drill, and the settings page."""

import datetime

import pytest
from django.utils import timezone

from kontor.backups import archive, services
from kontor.backups.models import BackupRun

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrations_rows_left_behind"),
]


@pytest.fixture
def folder(settings, tmp_path):
    settings.KONTOR_BACKUP_DIR = tmp_path / "backups"
    settings.KONTOR_BACKUP_KEEP = 2
    return settings.KONTOR_BACKUP_DIR


def test_scheduled_backups_keep_the_newest_and_the_drill_proves_the_last(folder, media, org):
    before = timezone.now()
    next_due = services.scheduled_backup(None)
    assert next_due >= before + datetime.timedelta(hours=24)
    services.backup_now()
    newest = services.backup_now()
    kept = services.archives()
    assert [str(p) for p in kept][-1] == newest.archive and len(kept) == 2
    assert BackupRun.objects.filter(kind="backup", status="ok").count() == 3
    assert newest.size == kept[-1].stat().st_size and newest.rows > 0

    services.scheduled_drill(None)
    drill = services.last_run(BackupRun.Kind.DRILL, verified=True)
    assert drill.archive == newest.archive
    manifest = archive.inspect(newest.archive)
    assert drill.checks == {
        t["table"]: {"rows": t["rows"], "sha256": t["sha256"]} for t in manifest["tables"]
    }
    assert drill.rows == sum(t["rows"] for t in manifest["tables"])


def test_a_drill_without_backups_and_an_interval_of_zero(folder, settings, org):
    drill = services.drill_now()
    assert drill.status == "failed" and "no backup" in drill.message
    settings.KONTOR_BACKUP_INTERVAL_HOURS = 0
    services.scheduled_backup(None)
    assert not BackupRun.objects.filter(kind="backup").exists()


def test_settings_page_shows_the_last_backups_and_starts_one(client, folder, media, org):
    client.force_login(org.member_a)
    assert client.get("/settings/backups/").status_code == 404
    assert client.post("/settings/backups/start/").status_code == 404
    client.force_login(org.admin)
    page = client.get("/settings/backups/")
    assert page.status_code == 200 and "None yet" in page.content.decode()
    response = client.post("/settings/backups/start/")
    assert response.status_code == 302
    run = BackupRun.objects.get(kind="backup")
    assert run.status == "ok"
    services.drill_now()
    page = client.get("/settings/backups/").content.decode()
    assert run.archive in page
    assert f"{run.rows:,}" in page or str(run.rows) in page
    assert "restored and checked" in page


def test_api_reports_the_last_backups_to_administrators_and_starts_one(client, folder, media, org):
    client.force_login(org.member_a)
    assert client.get("/api/v1/backups").status_code == 403
    assert client.post("/api/v1/backups").status_code == 403
    assert not BackupRun.objects.exists()
    client.force_login(org.admin)
    assert client.get("/api/v1/backups").json() == {
        "last_backup": None,
        "last_verified": None,
        "runs": [],
    }
    assert client.post("/api/v1/backups").status_code == 202
    services.drill_now()
    body = client.get("/api/v1/backups").json()
    backup = BackupRun.objects.get(kind="backup")
    assert body["last_backup"]["archive"] == backup.archive
    assert body["last_backup"]["status"] == "ok" and body["last_backup"]["rows"] == backup.rows
    assert body["last_verified"]["kind"] == "drill" and body["last_verified"]["status"] == "ok"
    assert [run["kind"] for run in body["runs"]] == ["drill", "backup"]
